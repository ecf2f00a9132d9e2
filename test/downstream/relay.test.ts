import assert from "node:assert/strict"
import { test } from "node:test"
import * as downstream from "../../internal/downstream/index.ts"
import * as store from "../../internal/store/index.ts"
import { call, setup, stdio, until } from "./kit.ts"

const token = "tok_relay_77aa88bb99cc"
const gh = { server: "gh", scope: "gh" }

// The pool hands on what a server sends as it sent it: the client's edge scrubs (test/gateway/redact.test.ts)
test("a downstream's own error keeps its code, message and data, as sent", async () => {
    const t = await setup(stdio("gh", { scope: "gh" }))
    try {
        await t.vault.put("gh", "TOKEN", token)
        await assert.rejects(call(t.pool, gh, "fail", { text: `oops ${token}` }), (e: unknown) => {
            assert.ok(e instanceof downstream.Failure)
            assert.equal(e.code, -32602)
            assert.equal(e.message, `bad argument oops ${token}`)
            assert.deepEqual(e.data, { given: `oops ${token}` })
            return true
        })
    } finally {
        await t.pool.close()
    }
})

test("a sampling request from a downstream reaches the hooks as sent, and its answer goes back", async () => {
    const t = await setup(stdio("gh", { scope: "gh" }))
    try {
        await t.vault.put("gh", "TOKEN", token)
        const out = JSON.parse(await call(t.pool, gh, "sample", { text: `summarize ${token}` })) as { content: { text: string } }
        assert.equal(out.content.text, "sampled")
        assert.equal(t.hooks.requests.length, 1)
        const r = t.hooks.requests[0]!
        assert.deepEqual(r.key, gh)
        assert.equal(r.method, "sampling/createMessage")
        assert.ok(JSON.stringify(r.params).includes(`summarize ${token}`))
    } finally {
        await t.pool.close()
    }
})

test("a downstream's notifications reach the hooks as sent", async () => {
    const t = await setup(stdio("gh", { scope: "gh" }))
    try {
        await t.vault.put("gh", "TOKEN", token)
        await call(t.pool, gh, "log", { text: `using ${token}` })
        await until(() => t.hooks.notifications.some(n => n.method === "notifications/message"), 2000, "the log message")
        const n = t.hooks.notifications.find(x => x.method === "notifications/message")!
        assert.deepEqual(n.key, gh)
        assert.deepEqual(n.params, { level: "info", data: `using ${token}` })
    } finally {
        await t.pool.close()
    }
})

test("instance state is written to the store for status in another process, and cleared on close", async () => {
    const t = await setup(stdio("gh", { scope: "gh" }))
    const rows = () => t.vault.store.db.select().from(store.schema.instances).all()
    try {
        await t.vault.put("gh", "TOKEN", token)
        assert.deepEqual(rows(), [])
        await call(t.pool, gh, "echo")
        const r = rows()
        assert.equal(r.length, 1)
        assert.equal(r[0]!.server, "gh")
        assert.equal(r[0]!.scope, "gh")
        assert.equal(r[0]!.state, "running")
        assert.equal(r[0]!.pid, t.pool.status()[0]!.pid)
        await assert.rejects(call(t.pool, gh, "crash", { code: 5 }))
        assert.equal(rows()[0]!.state, "backoff")
        assert.equal(rows()[0]!.lastError, "exited (code 5)")
    } finally {
        await t.pool.close()
    }
    assert.deepEqual(rows(), [])
})

test("an unknown server is an error naming it", async () => {
    const t = await setup(stdio("gh", { scope: "gh" }))
    try {
        await assert.rejects(t.pool.request({ server: "nope", scope: undefined }, "tools/list", undefined), /unknown server "nope"/)
    } finally {
        await t.pool.close()
    }
})

test("a reloaded config stops the instances of a changed server and starts them on demand", async () => {
    const t = await setup(stdio("gh", { scope: "gh" }), stdio("keep", { scope: "gh" }))
    try {
        await t.vault.put("gh", "TOKEN", token)
        await call(t.pool, gh, "echo")
        await call(t.pool, { server: "keep", scope: "gh" }, "echo")
        const [ghPid, keepPid] = t.pool.status().map(s => s.pid)
        t.hooks.changes.length = 0
        const next = new Map(t.config.servers)
        next.set("gh", { ...stdio("gh", { scope: "gh" }), env: { NEW: "1" } })
        t.pool.configure({ ...t.config, servers: next })
        assert.deepEqual(t.hooks.changes, ["gh"])
        const r = JSON.parse(await call(t.pool, gh, "env")) as { names: string[] }
        assert.ok(r.names.includes("NEW"))
        const st = t.pool.status()
        assert.notEqual(st.find(s => s.server === "gh")!.pid, ghPid)
        assert.equal(st.find(s => s.server === "keep")!.pid, keepPid)
    } finally {
        await t.pool.close()
    }
})
