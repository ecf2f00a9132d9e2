/**
 * Stream.adopt: the answer's stream of a request takes over the start of a value that another
 * stream (a downstream's stderr, log notifications) ended on, so that the rest, in the answer, is
 * masked. What it takes must be the start the other stream ended on last: a stderr stream lives as
 * long as its instance, and may still hold a deeper start from long before.
 */
import assert from "node:assert/strict"
import { randomBytes } from "node:crypto"
import { test } from "node:test"
import * as redact from "../../internal/redact/index.ts"

const v = `sk-live-${randomBytes(12).toString("hex")}`
const w = `Wx9-other-${randomBytes(10).toString("hex")}`

function registry(...values: string[]): redact.Registry {
    const r = redact.create()
    r.add(...values)
    return r
}

/** Stream A scrubs `before`, stream B adopts it, then scrubs `after`: B's outputs. */
function handover(r: redact.Registry, before: string[], after: string[]): string[] {
    const a = r.stream()
    for (const t of before) a.scrub(t)
    const b = r.stream()
    b.adopt(a)
    return after.map(t => b.scrub(t))
}

test("a long start never continued, then a short one: the answer going on from the short one is masked", () => {
    const out = handover(registry(v), [`x ${v.slice(0, 10)}`, `unrelated ${v.slice(0, 3)}`], [`${v.slice(3)} end`])
    assert.deepEqual(out, ["[redacted] end"])
})

test("the same when the answer comes as a result object, its keys first", () => {
    const r = registry(v)
    const a = r.stream()
    a.scrub(`x ${v.slice(0, 10)}`)
    a.scrub(`later ${v.slice(0, 3)}`)
    const b = r.stream()
    b.adopt(a)
    const result = b.scrubObject({ content: [{ type: "text", text: `${v.slice(3)} end` }] })
    assert.deepEqual(result, { content: [{ type: "text", text: "[redacted] end" }] })
})

test("a short start, then a long one: the answer going on from the long one is masked", () => {
    const out = handover(registry(v), [`x ${v.slice(0, 3)}`, `unrelated ${v.slice(0, 10)}`], [`${v.slice(10)} end`])
    assert.deepEqual(out, ["[redacted] end"])
})

test("starts of two different forms: the one ended on last is what the answer goes on with", () => {
    const hex = Buffer.from(v).toString("hex")
    // a long start of the hex form, then a short start of the value itself
    assert.deepEqual(handover(registry(v), [`h ${hex.slice(0, 12)}`, `then ${v.slice(0, 3)}`], [`${v.slice(3)} end`]), ["[redacted] end"])
    // a long start of the value, then a short start of the hex form
    assert.deepEqual(handover(registry(v), [`x ${v.slice(0, 12)}`, `then ${hex.slice(0, 3)}`], [`${hex.slice(3)} end`]), ["[redacted] end"])
})

test("starts of two values: the one ended on last is what the answer goes on with", () => {
    const r = registry(v, w)
    assert.deepEqual(handover(r, [`x ${w.slice(0, 10)}`, `y ${v.slice(0, 3)}`], [`${v.slice(3)} end`]), ["[redacted] end"])
    assert.deepEqual(handover(r, [`x ${v.slice(0, 10)}`, `y ${w.slice(0, 2)}`], [`${w.slice(2)} end`]), ["[redacted] end"])
})

test("a stream whose texts end in no start still hands over the start it holds", () => {
    // "(ok)" ends in no start of any form: the held start is what the other stream ended on last
    const out = handover(registry(v), [`x ${v.slice(0, 10)}`, "(ok)"], [`${v.slice(10)} end`])
    assert.deepEqual(out, ["[redacted] end"])
})

test("a start handed over is masked across texts of the answer, the middle one whole", () => {
    const out = handover(registry(v), [`x ${v.slice(0, 12)}`, `y ${v.slice(0, 3)}`], [v.slice(3, 14), `${v.slice(14)} end`])
    assert.deepEqual(out, ["[redacted]", "[redacted] end"])
})

test("adopting a stream of another registry, itself, or one that ended on nothing changes nothing", () => {
    const r = registry(v)
    const b = r.stream()
    b.adopt(registry(v).stream())
    b.adopt(b)
    b.adopt(r.stream())
    assert.equal(b.scrub(`${v.slice(3)} end`), `${v.slice(3)} end`)
})

test("a form the answer completes at the end of its first text, which a longer one goes on from in the next, is masked in both", () => {
    // found by the adopt property: unpadded base64 completed, then its padding; here one value the start of another
    const p = `pre-${randomBytes(6).toString("hex")}`
    const q = `${p}-and-${randomBytes(8).toString("hex")}`
    const out = handover(registry(p, q), [`x ${p.slice(0, 6)}`], [p.slice(6), `${q.slice(p.length)} end`])
    assert.deepEqual(out, ["[redacted]", "[redacted] end"])
})
