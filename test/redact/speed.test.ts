import assert from "node:assert/strict"
import { randomBytes } from "node:crypto"
import { test } from "node:test"
import * as redact from "../../internal/redact/index.ts"

// A linear scan takes about 8 times as long on 8 times the text (4 on 4); a quadratic one 64 (16). The bound
// sits between them, far enough from 8 for a busy machine. Medians of several runs, never an absolute time.
const ratioBound = 20

// CPU time of this process, not wall time: other processes on a shared machine then count less
function median(f: () => void, runs = 5): number {
    const t: number[] = []
    for (let i = 0; i < runs; i++) {
        const start = process.cpuUsage()
        f()
        const used = process.cpuUsage(start)
        t.push(used.user + used.system)
    }
    return t.sort((a, b) => a - b)[Math.floor(runs / 2)]!
}

test("scrubbing takes time linear in the text, however long and repetitive the values", () => {
    // A value that text can follow for thousands of units before it differs: a matcher that tries
    // each value at each position takes time (text x value), quadratic when both grow together.
    const setup = (k: number) => {
        const r = redact.create()
        r.add(`${"a".repeat(2000 * k)}b`, `${"ab".repeat(10 * k)}c`)
        for (let i = 0; i < 18; i++) r.add(`tok-${randomBytes(16).toString("hex")}`)
        const text = ("a".repeat(3000 * k) + "c" + "ab".repeat(12 * k) + " tok-0123456789abcdef ").repeat(100)
        r.scrub(text) // builds the automaton, and warms up
        return () => r.scrub(text)
    }
    const small = setup(2)
    const large = setup(16)
    const ratio = median(large, 7) / median(small, 7)
    assert.ok(ratio < ratioBound, `8x the text and values took ${ratio.toFixed(1)}x the time`)
})

test("adding a value takes time linear in its size", () => {
    const value = (n: number) => Array.from({ length: n }, (_, i) => String.fromCharCode(33 + ((i * 7919) % 94))).join("")
    // both sizes well past the processor's caches, so that the ratio shows the algorithm, not the cache
    const small = value(64 * 1024)
    const large = value(256 * 1024)
    const build = (v: string) => () => {
        const r = redact.create()
        r.add(v)
        r.scrub("x") // the automaton is built on the first scrub after a change
    }
    const ratio = median(build(large), 3) / median(build(small), 3)
    assert.ok(ratio < ratioBound / 2, `a value 4x as long took ${ratio.toFixed(1)}x the time to add`)
})

/**
 * CPU µs of `f`, the least of several rounds: CPU time only grows when something interferes (a
 * collector thread, a cold cache), so the least is the closest to the work itself. Each round
 * repeats `f` `reps` times.
 */
function least(f: () => void, reps: number, rounds = 5): number {
    let best = Infinity
    for (let i = 0; i < rounds; i++) {
        const start = process.cpuUsage()
        for (let j = 0; j < reps; j++) f()
        const used = process.cpuUsage(start)
        best = Math.min(best, used.user + used.system)
    }
    return best
}

test("text full of ellipses is scrubbed in linear time once a value is registered (issue 19)", () => {
    // the scan used to search afresh for the next pattern start from every ellipsis: 4x the
    // ellipses took 16x the time (1 MiB, 209 s)
    const r = redact.create()
    r.add(`sk-live-${randomBytes(12).toString("hex")}`, `ghp_${randomBytes(18).toString("base64url")}`)
    const text = (n: number) => "word ... and … then \"quoted\"... ".repeat(n / 3)
    const small = text(3000), large = text(12000)
    r.scrub(small) // builds the automaton, and warms up
    // enough repetitions that the small text takes a measurable while, the same for both
    let reps = 1
    for (let t = least(() => r.scrub(small), 1, 1); t * reps < 20_000 && reps < 1000; ) reps *= 2
    const ratio = least(() => r.scrub(large), reps) / least(() => r.scrub(small), reps)
    assert.ok(ratio < 10, `4x the ellipses took ${ratio.toFixed(1)}x the time`)
    // the stream scrubber reads with the same scan
    const ratio2 = least(() => r.stream().scrub(large), reps) / least(() => r.stream().scrub(small), reps)
    assert.ok(ratio2 < 10, `4x the ellipses took ${ratio2.toFixed(1)}x the time in a stream`)
})

test("a stream whose every text ends in a start of a form is scrubbed in linear time, as fast as one whose texts end in none", () => {
    // each text leaves a start held, and each later one is read from every start held: a bounded
    // number of them, each only while the text goes on with it
    const values = Array.from({ length: 20 }, () => `tok-${randomBytes(16).toString("hex")}`)
    const r = redact.create()
    r.add(...values)
    // texts of 64 units: words, then 1 to 12 units of a value's start, or as many commas
    const texts = (count: number, starts: boolean) => Array.from({ length: count }, (_, i) => {
        const n = 1 + (i % 12)
        return "word, and more; ".repeat(4).slice(0, 64 - n) + (starts ? values[i % values.length]!.slice(0, n) : ",".repeat(n))
    })
    const run = (ts: string[]) => () => {
        const s = r.stream()
        for (const t of ts) s.scrub(t)
    }
    r.scrub("x") // builds the automaton
    const mib = 16384 // texts of 64 units
    const started = run(texts(mib, true)), plain = run(texts(mib, false)), more = run(texts(4 * mib, true))
    started()
    plain()
    const ratio = least(started, 1) / least(plain, 1)
    assert.ok(ratio < 4, `texts ending in starts took ${ratio.toFixed(1)}x the time of texts ending in none`)
    const growth = least(more, 1) / least(started, 1)
    assert.ok(growth < 10, `4x the texts ending in starts took ${growth.toFixed(1)}x the time`)
})
