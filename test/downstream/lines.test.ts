/**
 * Long downstream lines (issue 10): read in linear time, capped (max_line), the instance stopped
 * and its call answered with an error past the cap, other servers served meanwhile.
 */
import assert from "node:assert/strict"
import { join } from "node:path"
import { test } from "node:test"
import * as downstream from "../../internal/downstream/index.ts"
import { call, root, setup, sleep, stdio, tsx } from "./kit.ts"

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b)
    return s[Math.floor(s.length / 2)] ?? NaN
}

/**
 * CPU ms to read one line `bytes` long, fed in 64 KiB chunks as a pipe gives them. Not JSON, so
 * that parsing it (linear, and the larger part) does not hide how it is buffered.
 */
function readLine(bytes: number): number {
    const chunk = Buffer.alloc(65536, "x")
    let got = 0
    const r = new downstream.Reader({ message: () => { throw new Error("not a message") }, garbage: () => { got++ } })
    const t = process.cpuUsage()
    for (let n = 0; n < bytes; n += chunk.length) r.push(chunk, () => false)
    r.push(Buffer.from("\n"), () => false)
    const used = process.cpuUsage(t)
    assert.equal(got, 1)
    return (used.user + used.system) / 1000
}

test("a 30 MB line takes about 10 times a 3 MB one, not 100 times", () => {
    readLine(3e6)
    const small: number[] = [], large: number[] = []
    for (let i = 0; i < 7; i++) {
        small.push(readLine(3e6))
        large.push(readLine(30e6))
    }
    const ratio = median(large) / median(small)
    console.log(`3 MB line ${median(small).toFixed(1)} ms of CPU, 30 MB ${median(large).toFixed(1)} ms: ${ratio.toFixed(1)}x`)
    assert.ok(ratio <= 25, `a 30 MB line took ${ratio.toFixed(1)}x the time of a 3 MB one`)
})

test("a server flooding one endless line is stopped at max_line, its call fails, and others are served meanwhile", async () => {
    const flood = stdio("flood", { args: ["--import", tsx, join(root, "test", "downstream", "flood.ts")], maxLine: 16 * 1024 ** 2 })
    const t = await setup(flood, stdio("gh"))
    try {
        const gh = { server: "gh", scope: undefined }, fl = { server: "flood", scope: undefined }
        const echo = async () => {
            const at = performance.now()
            assert.equal(await call(t.pool, gh, "echo", { text: "hi" }), "hi")
            return performance.now() - at
        }
        const first = Number(await call(t.pool, fl, "pid"))
        await echo()
        const floor: number[] = []
        for (let i = 0; i < 40; i++) floor.push(await echo())

        const rss = process.memoryUsage().rss
        let over = false
        const flooding = call(t.pool, fl, "flood").finally(() => { over = true })
        flooding.catch(() => undefined) // asserted below
        const during: number[] = []
        const deadline = Date.now() + 20_000
        while (!over && Date.now() < deadline) during.push(await echo())
        assert.ok(over, "the flood was not stopped within 20 s")
        await assert.rejects(flooding, /server "flood" wrote a line longer than 16777216 bytes \(max_line\) and was stopped/)
        const grew = (process.memoryUsage().rss - rss) / 1024 ** 2
        const worst = Math.max(...during)
        if (process.env.LINES_DEBUG) console.log(during.map(x => x.toFixed(0)).join(" "))
        console.log(`echo alone: median ${median(floor).toFixed(1)} ms, worst ${Math.max(...floor).toFixed(1)} ms; during the flood: ${during.length} calls, median ${median(during).toFixed(1)} ms, worst ${worst.toFixed(1)} ms; rss grew ${grew.toFixed(0)} MB`)
        assert.ok(during.length >= 3, "calls were answered while the other server flooded")
        // the floor's worst is what this busy machine adds to any call in this run
        assert.ok(worst <= 100 + Math.max(...floor), `a call waited ${worst.toFixed(0)} ms behind the flood`)
        assert.ok(grew < 200, `serve grew ${grew.toFixed(0)} MB`)

        // the next call after the backoff starts it afresh
        await sleep(downstream.backoff.first + 50)
        const again = Number(await call(t.pool, fl, "pid"))
        assert.notEqual(again, first)
    } finally {
        await t.pool.close()
    }
})

/** Feeds `chunks` to a Reader with `max`; what it handed on, and what each push returned. */
function feed(chunks: string[], max: number): { messages: unknown[]; garbage: string[]; returned: number[] } {
    const messages: unknown[] = [], garbage: string[] = [], returned: number[] = []
    const r = new downstream.Reader({ message: m => messages.push(m), garbage: (_, why) => garbage.push(why) })
    for (const c of chunks) returned.push(r.push(Buffer.from(c), () => false, max))
    return { messages, garbage, returned }
}

test("max_line holds when a line's newline comes in the same read as its end (issue 19)", () => {
    const line = (n: number) => JSON.stringify({ jsonrpc: "2.0", method: "x", params: { t: "a".repeat(n - 48) } })
    assert.equal(line(200).length, 200)
    // waiting under the cap, then the rest and its newline in one read: 90 + 110 bytes
    const split = feed([line(200).slice(0, 90), `${line(200).slice(90)}\n`], 100)
    assert.deepEqual(split.messages, [], "a line past max_line is never handed on")
    assert.ok(split.returned[1]! > 100, "and the caller is told")
    // a whole line in one read, after a short one that is handed on
    const whole = feed([`${line(60)}\n${line(200)}\n${line(60)}\n`], 100)
    assert.equal(whole.messages.length, 1)
    assert.ok(whole.returned[0]! > 100)
    // a line of exactly max_line bytes is fine
    assert.equal(feed([`${line(100)}\n`], 100).messages.length, 1)
})

test("a server answering with one line past max_line in a single write is stopped (issue 19)", async () => {
    // the answer's line arrives whole in one read: nothing ever waited for its newline
    const t = await setup(stdio("gh", { maxLine: 8 * 1024 }))
    try {
        const gh = { server: "gh", scope: undefined }
        assert.equal(await call(t.pool, gh, "echo", { text: "short" }), "short")
        await assert.rejects(call(t.pool, gh, "echo", { text: "x".repeat(20 * 1024) }), /wrote a line longer than 8192 bytes \(max_line\) and was stopped/)
    } finally {
        await t.pool.close()
    }
})

test("why a line is not JSON names a position, never the text JSON.parse quotes (issue 19)", () => {
    const secret = "Gq7XkP2mZrWv"
    const lines = [secret, `{"a":${secret}}`, `{"a":1} ${secret}`, `{"a":"${secret}`, `[${secret}`, `"${secret}\u0001"`]
    const { garbage } = feed([lines.map(l => `${l}\n`).join("")], Infinity)
    assert.equal(garbage.length, lines.length)
    for (const why of garbage) {
        assert.match(why, /^not JSON \((at position \d+|it ends early|an unexpected character)\)$/)
        for (let i = 0; i + 3 <= secret.length; i++) assert.ok(!why.includes(secret.slice(i, i + 3)), why)
    }
})
