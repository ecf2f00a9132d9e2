import assert from "node:assert/strict"
import { test } from "node:test"
import { alive, call, setup, sha256, stdio, until, vault } from "./kit.ts"

const gh = { server: "gh", scope: "gh" }

async function tokenSha(t: Awaited<ReturnType<typeof setup>>): Promise<{ sha: string; pid: number }> {
    const r = JSON.parse(await call(t.pool, gh, "env", { name: "TOKEN" })) as { sha256: string }
    return { sha: r.sha256, pid: t.pool.status().find(s => s.server === "gh")!.pid! }
}

test("restartScope resolves the new values first, then stops the old instance, then starts the new", async () => {
    const t = await setup(stdio("gh", { scope: "gh", fixtureEnv: { DS_TOKEN_TOOL: "1" } }))
    try {
        await t.vault.put("gh", "TOKEN", "first-token-value")
        const before = await tokenSha(t)
        assert.equal(before.sha, sha256("first-token-value"))
        await t.pool.catalog("gh")
        // mark each decryption in the log, to see the order of events
        const scope = t.vault.scope.bind(t.vault)
        t.vault.scope = (s, why) => {
            t.log.entries.push({ level: "debug", msg: `DECRYPT ${s} old alive=${alive(before.pid)}` })
            return scope(s, why)
        }
        await t.vault.put("gh", "TOKEN", "second-token-value")
        t.hooks.changes.length = 0
        const mark = t.log.entries.length
        const inflight = call(t.pool, gh, "slow", { ms: 300 })
        await new Promise(done => setTimeout(done, 50))
        await t.pool.restartScope("gh")
        assert.equal(await inflight, "slept 300", "a call in flight on the old instance may finish")
        const after = await tokenSha(t)
        assert.equal(after.sha, sha256("second-token-value"))
        assert.notEqual(after.pid, before.pid)
        assert.ok(!alive(before.pid))
        const events = t.log.entries.slice(mark).map(e => e.msg).filter(m => /DECRYPT|stopped|started/.test(m))
        assert.deepEqual(events, [
            "DECRYPT gh old alive=true",
            'server "gh" stopped',
            'server "gh" started',
        ])
        assert.deepEqual(t.hooks.changes, ["gh"], "the catalog moved with the token")
        assert.equal(t.pool.status()[0]!.restarts, 1)
        assert.equal(t.registry.scrub("second-token-value"), "[redacted]")
        assert.equal(t.registry.scrub("first-token-value"), "[redacted]", "old values stay masked")
    } finally {
        await t.pool.close()
    }
})

test("when the new values cannot be resolved the old instance keeps running", async () => {
    const t = await setup(stdio("gh", { scope: "gh", env: { OTHER: "${secret:OTHER}" } }))
    try {
        await t.vault.put("gh", "TOKEN", "a-token-value")
        await t.vault.put("gh", "OTHER", "other-value")
        const before = await tokenSha(t)
        t.vault.delete("gh", "OTHER")
        await t.pool.restartScope("gh")
        const after = await tokenSha(t)
        assert.equal(after.pid, before.pid)
        assert.match(t.log.text(), /server "gh" keeps its old secrets: server "gh" needs secret "gh\/OTHER", which is not stored/)
    } finally {
        await t.pool.close()
    }
})

test("restartScope leaves instances of other scopes alone", async () => {
    const t = await setup(stdio("gh", { scope: "gh" }), stdio("acme", { scope: "acme" }))
    try {
        await t.vault.put("gh", "TOKEN", "gh-token-value")
        await t.vault.put("acme", "TOKEN", "acme-token-value")
        await call(t.pool, gh, "echo")
        await call(t.pool, { server: "acme", scope: "acme" }, "echo")
        const pids = t.pool.status().map(s => s.pid)
        await t.pool.restartScope("gh")
        const now = t.pool.status().map(s => s.pid)
        assert.notEqual(now[0], pids[0])
        assert.equal(now[1], pids[1])
    } finally {
        await t.pool.close()
    }
})

test("a secret written by another process restarts the instance within seconds", async () => {
    const t = await setup(stdio("gh", { scope: "gh" }))
    try {
        await t.vault.put("gh", "TOKEN", "before-the-write")
        const before = await tokenSha(t)
        const other = vault(t.home) // its own SQLite connection, as the CLI would have
        try {
            await other.put("gh", "TOKEN", "after-the-write")
        } finally {
            other.close()
        }
        await until(() => t.pool.status()[0]!.pid !== before.pid && t.pool.status()[0]!.state === "running", 4000, "the restart")
        assert.equal((await tokenSha(t)).sha, sha256("after-the-write"))
    } finally {
        await t.pool.close()
    }
})
