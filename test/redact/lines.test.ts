import assert from "node:assert/strict"
import { test } from "node:test"
import * as redact from "../../internal/redact/index.ts"

const secret = "sk-live-4f9a8b7c6d5e"

function collect(r: redact.Registry): { lines: string[]; s: redact.Lines } {
    const lines: string[] = []
    return { lines, s: redact.lines(r, l => lines.push(l)) }
}

test("a stream is split into scrubbed lines, a value cut between chunks included", () => {
    const r = redact.create()
    r.add(secret)
    const { lines, s } = collect(r)
    const text = `start\r\nkey=${secret}\nlast ${secret}`
    for (let i = 0; i < text.length; i += 3) s.write(Buffer.from(text.slice(i, i + 3)))
    assert.deepEqual(lines, ["start", "key=[redacted]"])
    s.end()
    assert.deepEqual(lines, ["start", "key=[redacted]", "last [redacted]"])
})

test("a multibyte character split between chunks survives", () => {
    const r = redact.create()
    const { lines, s } = collect(r)
    const bytes = Buffer.from("ключ 🔑\n")
    for (const b of bytes) s.write(Buffer.from([b]))
    assert.deepEqual(lines, ["ключ 🔑"])
})

test("an overlong line is cut without showing any part of a value", () => {
    const r = redact.create()
    r.add(secret)
    const { lines, s } = collect(r)
    // the line grows past the limit in the middle of a value
    s.write("x".repeat(redact.maxLine - 5) + secret.slice(0, 10))
    s.write(secret.slice(10) + "z".repeat(100) + "\nnext\n")
    assert.equal(lines.length, 2)
    assert.ok(lines[0]!.length <= redact.maxLine + 20)
    assert.match(lines[0]!, /^x+\[redacted\] …\(cut\)$/, "the start of the value is masked, not shown")
    assert.equal(lines[1], "next")
})
