import assert from "node:assert/strict"
import { test } from "node:test"
import * as redact from "../../internal/redact/index.ts"

const secret = "ghp_Zq8s1Lk2mN3bV4cX5"

test("every occurrence of a value is masked", () => {
    const r = redact.create()
    r.add(secret)
    assert.equal(r.scrub(`a ${secret} b ${secret}${secret}`), "a [redacted] b [redacted][redacted]")
})

test("a string without any value comes back as the same string", () => {
    const r = redact.create()
    r.add(secret)
    const s = "nothing to see here, " + "x".repeat(1000)
    assert.equal(r.scrub(s), s)
})

test("a value contained in a longer one does not leave a piece of the longer one", () => {
    const r = redact.create()
    const inner = "token123"
    const outer = "Bearer token123-and-more"
    r.add(inner, outer)
    assert.equal(r.scrub(`h: ${outer}; t: ${inner}`), "h: [redacted]; t: [redacted]")
    const r2 = redact.create()
    r2.add(outer, inner) // order of adding does not matter
    assert.equal(r2.scrub(`h: ${outer}; t: ${inner}`), "h: [redacted]; t: [redacted]")
})

test("overlapping occurrences of two values are masked as one", () => {
    const r = redact.create()
    r.add("abcdef", "defghi")
    assert.equal(r.scrub("xxabcdefghiyy"), "xx[redacted]yy")
    assert.equal(r.scrub("abcdefghi"), "[redacted]")
})

test("a value overlapping itself is masked entirely", () => {
    const r = redact.create()
    r.add("aaaa")
    assert.equal(r.scrub("baaaaab"), "b[redacted]b")
})

test("values with regular expression metacharacters match literally", () => {
    const r = redact.create()
    const v = "p4$$.w*rd+(x)|[y]{2}^\\/?-"
    r.add(v)
    assert.equal(r.scrub(`pw=${v}!`), "pw=[redacted]!")
    assert.equal(r.scrub("p4$$Xw*rd+(x)|[y]{2}^\\/?-"), "p4$$Xw*rd+(x)|[y]{2}^\\/?-")
    const dot = redact.create()
    dot.add("a.b.c")
    assert.equal(dot.scrub("aXbXc"), "aXbXc")
})

test("unicode values are masked, astral characters included", () => {
    const r = redact.create()
    r.add("пароль-секрет", "🔑🔑🔑🔑")
    assert.equal(r.scrub("x пароль-секрет y 🔑🔑🔑🔑 z"), "x [redacted] y [redacted] z")
})

test("values shorter than 4 characters are ignored", () => {
    const r = redact.create()
    r.add("abc", "", "🔑🔑🔑", "abcd")
    assert.equal(r.size, 1)
    assert.equal(r.scrub("abc 🔑🔑🔑 abcd"), "abc 🔑🔑🔑 [redacted]")
})

test("a removed value is no longer masked, unless it was added twice", () => {
    const r = redact.create()
    r.add(secret, secret, "other-value")
    r.remove(secret)
    assert.equal(r.scrub(secret), "[redacted]")
    r.remove(secret)
    assert.equal(r.scrub(secret), secret)
    assert.equal(r.size, 1)
    r.remove("never-added")
    assert.equal(r.scrub("other-value"), "[redacted]")
})

test("an empty registry changes nothing", () => {
    const r = redact.create()
    const o = { a: [secret] }
    assert.equal(r.scrub(secret), secret)
    assert.equal(r.scrubObject(o), o)
})

test("scrubObject walks nested objects and arrays, keys included", () => {
    const r = redact.create()
    r.add(secret)
    const shared = { untouched: ["x", 1, null, true] }
    const input = {
        content: [{ type: "text", text: `token is ${secret}` }, { type: "text", text: "fine" }],
        deep: { a: { b: { c: [[secret]] } } },
        [`key-${secret}`]: 1,
        shared,
        n: 42,
    }
    const out = r.scrubObject(input)
    assert.notEqual(out, input)
    assert.deepEqual(out, {
        content: [{ type: "text", text: "token is [redacted]" }, { type: "text", text: "fine" }],
        deep: { a: { b: { c: [["[redacted]"]] } } },
        "key-[redacted]": 1,
        shared: { untouched: ["x", 1, null, true] },
        n: 42,
    })
    assert.equal(out.shared, shared, "an unchanged branch is shared, not copied")
    assert.equal(out.content[1], input.content[1])
    assert.ok(JSON.stringify(input).includes(secret), "the input is left as it was")
    assert.ok(!JSON.stringify(out).includes(secret))
})

test("scrubObject returns the same object when nothing changed", () => {
    const r = redact.create()
    r.add(secret)
    const o = { content: [{ type: "text", text: "hello" }], meta: { k: ["v"] } }
    assert.equal(r.scrubObject(o), o)
    assert.equal(r.scrubObject("plain"), "plain")
    assert.equal(r.scrubObject(7), 7)
    assert.equal(r.scrubObject(null), null)
})

test("scrubObject keeps a __proto__ key as an own property", () => {
    const r = redact.create()
    r.add(secret)
    const o = JSON.parse(`{"__proto__": {"x": "${secret}"}, "y": "${secret}"}`) as Record<string, unknown>
    const out = r.scrubObject(o)
    assert.deepEqual(Object.keys(out), ["__proto__", "y"])
    assert.equal(Object.getPrototypeOf(out), Object.prototype)
    assert.ok(!JSON.stringify(out).includes(secret))
})

test("a start cut off by an ellipsis near the end of a short text is masked (issue 19 re-probe)", () => {
    const v = "Gq7XkP2mZrW9sTb4xQ"
    const r = redact.create()
    r.add(v)
    // starts of 4 to 17 units, then an ellipsis with fewer than 16 units after it: the prefilter's
    // tail once began after the start, and the start passed
    for (let k = 4; k < v.length; k++) {
        for (const s of [`{"t":"${v.slice(0, k)}..."}`, `${v.slice(0, k)}... (+8 chars)`, `${v.slice(0, k)}…(+8)`]) {
            const out = r.scrub(s)
            assert.ok(!out.includes(v.slice(0, k)), `${JSON.stringify(s)} gave ${JSON.stringify(out)}`)
            assert.ok(out.includes("[redacted]"), s)
        }
    }
})
