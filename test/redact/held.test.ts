/**
 * The starts a stream holds across texts that do not continue them: not only the deepest, but the
 * last ones its texts ended on too, those a stream adopts from two others whatever the order, and a
 * completed form that a longer one goes on from. Content items of a result are texts of one stream
 * with their keys ("type", "text") walked between them, in document order.
 */
import assert from "node:assert/strict"
import { randomBytes } from "node:crypto"
import { test } from "node:test"
import * as redact from "../../internal/redact/index.ts"

const v = `sk-live-${randomBytes(12).toString("hex")}`

function registry(...values: string[]): redact.Registry {
    const r = redact.create()
    r.add(...values)
    return r
}

/** A result whose content items are these texts. */
function result(...texts: string[]): { content: Array<{ type: string; text: string }> } {
    return { content: texts.map(text => ({ type: "text", text })) }
}

test("an older deeper start nothing continued, then a newer shorter one: the item going on from the newer one is masked", () => {
    const out = registry(v).stream().scrubObject(result(`x ${v.slice(0, 10)}`, `y ${v.slice(0, 3)}`, `${v.slice(3)} end`))
    assert.deepEqual(out, result("x [redacted]", `y ${v.slice(0, 3)}`, "[redacted] end"))
})

test("the older deeper start is still held after the newer shorter one, and goes on in a later item", () => {
    const out = registry(v).stream().scrubObject(result(`x ${v.slice(0, 10)}`, `y ${v.slice(0, 3)}`, "(ok)", `${v.slice(10)} end`))
    assert.deepEqual(out, result("x [redacted]", `y ${v.slice(0, 3)}`, "(ok)", "[redacted] end"))
})

test("starts of two different values, the deeper one first: the item going on from the later one is masked", () => {
    const w = `Wx9-other-${randomBytes(10).toString("hex")}`
    const out = registry(v, w).stream().scrubObject(result(`x ${w.slice(0, 12)}`, `y ${v.slice(0, 2)}`, `${v.slice(2)} end`))
    assert.deepEqual(out, result("x [redacted]", `y ${v.slice(0, 2)}`, "[redacted] end"))
})

/** Stream `s` adopts each of `others` in turn, then scrubs `after`: its outputs. */
function adopting(s: redact.Stream, others: redact.Stream[], after: string[]): string[] {
    for (const o of others) s.adopt(o)
    return after.map(t => s.scrub(t))
}

test("two adoptions, an older deeper start and a newer shorter one, in either order: the answer going on from either is masked", () => {
    for (const logsFirst of [true, false]) {
        for (const later of [[], ["later, something else"]]) {
            for (const tail of [3, 10]) {
                const r = registry(v)
                // the session's log notifications ended on 10 units long ago; the instance's stderr on 3 now
                const log = r.stream()
                for (const t of [`x ${v.slice(0, 10)}`, ...later]) log.scrub(t)
                const stderr = r.stream()
                stderr.scrub(`y ${v.slice(0, 3)}`)
                const others = logsFirst ? [log, stderr] : [stderr, log]
                assert.deepEqual(adopting(r.stream(), others, [`${v.slice(tail)} end`]), ["[redacted] end"], `${logsFirst ? "logs" : "stderr"} first, then ${later.length} texts, going on from ${tail}`)
            }
        }
    }
})

test("a completed form that a longer one goes on from, keys between: the rest of the longer one is masked", () => {
    const p = `pre-${randomBytes(6).toString("hex")}`
    const q = `${p}-and-more-${randomBytes(8).toString("hex")}`
    const out = registry(p, q).stream().scrubObject(result(`x ${p.slice(0, 6)}`, p.slice(6), `${q.slice(p.length)} end`))
    assert.deepEqual(out, result("x [redacted]", "[redacted]", "[redacted] end"))
})

test("unpadded base64 completed in one item, its padding in the next: the padding is masked", () => {
    // 13 bytes: base64 ends in "==", and the unpadded and padded texts are both forms
    const u = `tok${randomBytes(5).toString("hex")}`
    const b64 = Buffer.from(u).toString("base64")
    assert.ok(b64.endsWith("=="))
    const bare = b64.replace(/=+$/, "")
    const out = registry(u).stream().scrubObject(result(`x ${bare.slice(0, 6)}`, bare.slice(6), "== end"))
    assert.deepEqual(out, result("x [redacted]", "[redacted]", "[redacted] end"))
})

test("a completed form no longer one goes on from is let go: a later item's own start is what is held", () => {
    // the canary shape: a value split in two, three times over, with keys between
    const s = registry(v).stream()
    for (let i = 0; i < 3; i++) {
        assert.deepEqual(s.scrubObject(result(`a ${v.slice(0, 9)}`, `${v.slice(9)} b`)), result("a [redacted]", "[redacted] b"))
    }
})

test("a key ending in one unit of a form between items displaces neither the deeper start nor the newer one", () => {
    // "type" ends in "e", the first unit of this value: a one-unit start after each item's text
    const u = `eXk9-${randomBytes(12).toString("hex")}`
    for (const tail of [3, 10]) {
        const out = registry(u).stream().scrubObject(result(`x ${u.slice(0, 10)}`, `y ${u.slice(0, 3)}`, `${u.slice(tail)} end`))
        assert.deepEqual(out, result("x [redacted]", `y ${u.slice(0, 3)}`, "[redacted] end"), `going on from ${tail}`)
    }
})

test("a key that goes on with a held start and breaks off leaves it held for the item after it", () => {
    // "type" completes the value at its "t" (found by the fuzz property: "aaaaaaa", then "type")
    const u = `${randomBytes(6).toString("hex")}t`
    const s = registry(u).stream()
    // the texts of two content items, with the keys between them in document order
    const out = [`x ${u.slice(0, -1)}`, "type", "text", "text", "t end"].map(t => s.scrub(t))
    assert.deepEqual([out[0], out[4]], ["x [redacted]", "[redacted] end"])
})

test("a key ending in a start as deep as the one the item before it ended on displaces it not", () => {
    // the base64 of a value after one byte begins "xt", which "text" ends in: as deep as "lm"
    const u = `lm${randomBytes(6).toString("hex")}`
    assert.ok(Buffer.from(`\0${u}`).toString("base64").startsWith("AGxt"))
    const out = registry(u).stream().scrubObject(result("x lm", `${u.slice(2)} end`))
    assert.deepEqual(out, result("x lm", "[redacted] end"))
})
