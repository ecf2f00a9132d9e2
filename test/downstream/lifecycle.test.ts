import assert from "node:assert/strict"
import { join } from "node:path"
import { test } from "node:test"
import * as downstream from "../../internal/downstream/index.ts"
import { alive, call, fresh, group, setup, sleep, starts, stdio, until } from "./kit.ts"

const token = "tok_9f8e7d6c5b4a3210fedcba"
const gh = { server: "gh", scope: "gh" }

function mcpError(code: number, message: RegExp) {
    return (e: unknown): boolean => {
        assert.ok(e instanceof downstream.Failure, `expected a Failure, got ${String(e)}`)
        assert.equal(e.code, code)
        assert.match(e.message, message)
        return true
    }
}

test("nothing is spawned until the first request, and concurrent first requests share one start", async () => {
    const log = join(await fresh(), "starts")
    const t = await setup(stdio("gh", { scope: "gh", fixtureEnv: { DS_START_LOG: log } }))
    try {
        await t.vault.put("gh", "TOKEN", token)
        assert.equal(t.pool.status()[0]?.state, "stopped")
        assert.equal(t.pool.cached("gh"), undefined)
        await sleep(200)
        assert.deepEqual(starts(log), [])
        const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => call(t.pool, gh, "echo", { text: `n${i}` })))
        assert.deepEqual(answers, Array.from({ length: 10 }, (_, i) => `n${i}`))
        assert.equal(starts(log).length, 1)
        const st = t.pool.status()[0]!
        assert.equal(st.state, "running")
        assert.equal(st.pid, starts(log)[0])
    } finally {
        await t.pool.close()
    }
})

test("an idle instance stops after idleTimeout, but not while a call is in flight", async () => {
    const t = await setup(stdio("gh", { scope: "gh", idleTimeout: 300 }))
    try {
        await t.vault.put("gh", "TOKEN", token)
        assert.equal(await call(t.pool, gh, "slow", { ms: 700 }), "slept 700")
        const pid = t.pool.status()[0]!.pid!
        assert.equal(t.pool.status()[0]!.state, "running", "a call longer than idleTimeout kept it alive")
        await until(() => t.pool.status()[0]!.state === "stopped", 3000, "idle stop")
        await until(() => !alive(pid), 3000, "process gone")
        assert.deepEqual(group(pid), [])
        // and the next call starts it again, which is not a restart after a failure
        assert.equal(await call(t.pool, gh, "echo", { text: "again" }), "again")
        assert.equal(t.pool.status()[0]!.restarts, 0)
    } finally {
        await t.pool.close()
    }
})

test("a crash answers every in-flight call at once", async () => {
    const t = await setup(stdio("gh", { scope: "gh" }))
    try {
        await t.vault.put("gh", "TOKEN", token)
        await call(t.pool, gh, "echo")
        const started = Date.now()
        const slow = call(t.pool, gh, "slow", { ms: 30_000 })
        const crash = call(t.pool, gh, "crash", { code: 7, after: 100 })
        await assert.rejects(crash, mcpError(-32603, /^server "gh" exited \(code 7\) during the call$/))
        await assert.rejects(slow, mcpError(-32603, /exited \(code 7\) during the call/))
        assert.ok(Date.now() - started < 2000, "errors come at once, not after a timeout")
        const st = t.pool.status()[0]!
        assert.equal(st.state, "backoff")
        assert.equal(st.lastError, "exited (code 7)")
    } finally {
        await t.pool.close()
    }
})

test("a crashed server restarts on the next call after a backoff that grows", async () => {
    const log = join(await fresh(), "starts")
    const t = await setup(stdio("gh", { scope: "gh", fixtureEnv: { DS_START_LOG: log } }))
    try {
        await t.vault.put("gh", "TOKEN", token)
        await assert.rejects(call(t.pool, gh, "crash", { code: 1 }))
        // within the backoff: fail fast, no spawn
        await assert.rejects(call(t.pool, gh, "echo"), mcpError(-32603, /^server "gh" exited \(code 1\); next try in \d+ms$/))
        assert.equal(starts(log).length, 1)
        await sleep(550)
        assert.equal(await call(t.pool, gh, "echo", { text: "back" }), "back")
        assert.equal(starts(log).length, 2)
        assert.equal(t.pool.status()[0]!.restarts, 1)
        // a second crash soon after: the wait doubles
        await assert.rejects(call(t.pool, gh, "crash", { code: 1 }))
        await sleep(550)
        await assert.rejects(call(t.pool, gh, "echo"), mcpError(-32603, /next try in \d+ms/))
        await sleep(500)
        assert.equal(await call(t.pool, gh, "echo", { text: "again" }), "again")
        assert.equal(starts(log).length, 3)
    } finally {
        await t.pool.close()
    }
})

test("a server that exits at start reports its exit code and last stderr lines, scrubbed", async () => {
    const log = join(await fresh(), "starts")
    const t = await setup(stdio("gh", { scope: "gh", fixtureEnv: { DS_EXIT_AT_START: "3", DS_START_LOG: log } }))
    try {
        await t.vault.put("gh", "TOKEN", token)
        await assert.rejects(call(t.pool, gh, "echo"), (e: unknown) => {
            assert.ok(e instanceof downstream.Failure)
            assert.match(e.message, /^server "gh" exited \(code 3\) at start; last stderr lines:\nfixture: starting up\nfixture: cannot log in with token \[redacted\]$/)
            assert.ok(!e.message.includes(token))
            return true
        })
        await assert.rejects(call(t.pool, gh, "echo"), /next try in/)
        assert.equal(starts(log).length, 1, "no restart storm")
        assert.equal(t.pool.status()[0]!.state, "backoff")
        assert.ok(!t.log.text().includes(token))
    } finally {
        await t.pool.close()
    }
})

test("a command that does not exist fails with its name", async () => {
    const t = await setup(stdio("gh", { command: "/nonexistent/server-binary", args: [] }))
    try {
        await assert.rejects(call(t.pool, { server: "gh", scope: undefined }, "echo"),
            mcpError(-32603, /^server "gh" cannot run "\/nonexistent\/server-binary": spawn \/nonexistent\/server-binary ENOENT$/))
    } finally {
        await t.pool.close()
    }
})

test("a missing working folder is named as such", async () => {
    const t = await setup(stdio("gh", { cwd: "/nonexistent/folder" }))
    try {
        await assert.rejects(call(t.pool, { server: "gh", scope: undefined }, "echo"),
            mcpError(-32603, /^server "gh" cannot run ".*": working folder "\/nonexistent\/folder" does not exist$/))
    } finally {
        await t.pool.close()
    }
})

test("garbage on a server's stdout is logged, scrubbed, and skipped", async () => {
    const t = await setup(stdio("gh", { scope: "gh", fixtureEnv: { DS_GARBAGE: "1" } }))
    try {
        await t.vault.put("gh", "TOKEN", token)
        assert.equal(await call(t.pool, gh, "garbage"), "after garbage")
        assert.equal(await call(t.pool, gh, "echo", { text: "fine" }), "fine")
        const warnings = t.log.entries.filter(e => e.level === "warn" && e.msg.includes("not JSON-RPC"))
        assert.equal(warnings.length, 3)
        assert.match(warnings[0]!.msg, /this is not json-rpc \[redacted\]$/)
        assert.ok(!t.log.text().includes(token))
    } finally {
        await t.pool.close()
    }
})

test("stderr lines are logged scrubbed", async () => {
    const t = await setup(stdio("gh", { scope: "gh" }))
    try {
        await t.vault.put("gh", "TOKEN", token)
        await call(t.pool, gh, "stderr", { line: `error: bad token ${token}` })
        await until(() => t.log.text().includes("bad token"), 2000, "the stderr line")
        const e = t.log.entries.find(x => x.msg.includes("bad token"))!
        assert.equal(e.level, "warn")
        assert.match(e.msg, /^server "gh" stderr: error: bad token \[redacted\]$/)
        assert.ok(!t.log.text().includes(token))
    } finally {
        await t.pool.close()
    }
})

test("a hanging call times out with -32001 naming the server, and the server is told to cancel", async () => {
    const t = await setup(stdio("gh", { scope: "gh", timeout: 400 }))
    try {
        await t.vault.put("gh", "TOKEN", token)
        await call(t.pool, gh, "echo")
        const started = Date.now()
        await assert.rejects(call(t.pool, gh, "hang"), mcpError(-32001, /^server "gh" did not answer within 400ms$/))
        assert.ok(Date.now() - started < 1500)
        await sleep(100)
        const seen = JSON.parse(await call(t.pool, gh, "cancellations")) as unknown[]
        assert.equal(seen.length, 1)
    } finally {
        await t.pool.close()
    }
})

test("aborting a call cancels exactly that downstream request", async () => {
    const t = await setup(stdio("gh", { scope: "gh" }))
    try {
        await t.vault.put("gh", "TOKEN", token)
        await call(t.pool, gh, "echo")
        const other = call(t.pool, gh, "slow", { ms: 800 })
        const ac = new AbortController()
        const hung = call(t.pool, gh, "hang", {}, { signal: ac.signal })
        await sleep(200)
        ac.abort("the user gave up")
        await assert.rejects(hung, mcpError(-32001, /^request to server "gh" was cancelled$/))
        assert.equal(await other, "slept 800", "the other call was not touched")
        const seen = JSON.parse(await call(t.pool, gh, "cancellations")) as Array<{ reason: string }>
        assert.equal(seen.length, 1)
        assert.match(seen[0]!.reason, /the user gave up/)
    } finally {
        await t.pool.close()
    }
})

test("close leaves no process behind, not even a grandchild or one that ignores SIGTERM", async () => {
    const t = await setup(
        stdio("gh", { scope: "gh", fixtureEnv: { DS_IGNORE_TERM: "1" } }),
        stdio("plain", { scope: "gh" }),
    )
    try {
        await t.vault.put("gh", "TOKEN", token)
        const child = (JSON.parse(await call(t.pool, gh, "spawn")) as { pid: number }).pid
        await call(t.pool, { server: "plain", scope: "gh" }, "echo")
        const pids = t.pool.status().map(s => s.pid!)
        assert.equal(pids.length, 2)
        assert.deepEqual(group(pids[0]!).sort(), [pids[0]!, child].sort())
        assert.ok(alive(child))
    } finally {
        const pids = t.pool.status().map(s => s.pid).filter(p => p !== undefined)
        await t.pool.close()
        for (const pid of pids) assert.deepEqual(group(pid), [], `group ${pid} is empty`)
    }
    assert.deepEqual(t.pool.status().map(s => s.state), ["stopped", "stopped"])
})

test("a server that exits leaves no orphan of its group", async () => {
    const t = await setup(stdio("gh", { scope: "gh" }))
    try {
        await t.vault.put("gh", "TOKEN", token)
        const child = (JSON.parse(await call(t.pool, gh, "spawn")) as { pid: number }).pid
        const pid = t.pool.status()[0]!.pid!
        await assert.rejects(call(t.pool, gh, "crash", { code: 2 }))
        await until(() => !alive(child), 4000, "the grandchild to die")
        assert.deepEqual(group(pid), [])
    } finally {
        await t.pool.close()
    }
})
