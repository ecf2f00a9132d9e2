import assert from "node:assert/strict"
import { randomBytes } from "node:crypto"
import { test } from "node:test"
import * as redact from "../../internal/redact/index.ts"

const secret = `sk-live-${randomBytes(12).toString("hex")}`

test("a failure inside redaction fails closed, and nothing thrown or returned carries the value", () => {
    const r = redact.create()
    r.add(secret)
    // an internal failure whose own message would carry the value, as V8's RegExp error did
    const from = Object.getOwnPropertyDescriptor(Buffer, "from")!
    Object.defineProperty(Buffer, "from", {
        value: (v: unknown) => {
            throw new Error(`cannot encode ${String(v)}`)
        },
    })
    try {
        assert.equal(r.scrub(`x ${secret} y`), redact.failed)
        assert.equal(r.scrub("no value here"), redact.failed)
        assert.equal(r.scrubObject({ text: `x ${secret}` }), redact.failed)
        const s = r.stream()
        assert.equal(s.scrub(`x ${secret}`), redact.failed)
        assert.equal(s.scrubObject({ text: "x" }), redact.failed)
        assert.doesNotThrow(() => r.longest)
        const out: string[] = []
        redact.lines(r, l => out.push(l)).write(`a ${secret}\n`)
        assert.deepEqual(out, [redact.failed])
    } finally {
        Object.defineProperty(Buffer, "from", from)
    }
    assert.equal(r.scrub(`x ${secret} y`), "x [redacted] y", "the next scrub builds again")
})

test("a string nested deeper than any message is replaced, never passed on unscrubbed", () => {
    const r = redact.create()
    r.add(secret)
    let o: unknown = secret
    for (let i = 0; i < 300; i++) o = { a: o }
    assert.ok(!JSON.stringify(r.scrubObject(o)).includes(secret))
    assert.ok(!JSON.stringify(r.stream().scrubObject(o)).includes(secret))
})
