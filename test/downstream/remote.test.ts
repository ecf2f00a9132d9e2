import assert from "node:assert/strict"
import { test } from "node:test"
import type * as config from "../../internal/config/index.ts"
import * as store from "../../internal/store/index.ts"
import { listen } from "../fixtures/ds-http.ts"
import { call, setup } from "./kit.ts"

const token = "lin_api_4455667788aabbcc"

function remote(url: string, o: Partial<config.RemoteServer> = {}): config.RemoteServer {
    return {
        name: "linear", kind: "remote", url, headers: { Authorization: "Bearer ${secret:TOKEN}" }, inject: "none",
        scope: "linear", prefix: true, idleTimeout: 600_000, timeout: 10_000, tools: { disabled: [] }, quarantine: false, ...o,
    }
}

const key = { server: "linear", scope: "linear" }

test("a remote server gets its headers with the secret, over Streamable HTTP", async () => {
    const srv = await listen()
    const t = await setup(remote(srv.url))
    try {
        await t.vault.put("linear", "TOKEN", token)
        assert.equal(await call(t.pool, key, "whoami"), `Bearer ${token}`)
        assert.ok(srv.seen.every(h => h.authorization === `Bearer ${token}`), "every request carries the header")
        assert.equal((await t.pool.catalog("linear")).tools.length, 2)
        assert.equal(t.pool.status()[0]!.state, "running")
    } finally {
        await t.pool.close()
        await srv.close()
    }
})

test("inject: headers sends every key of the scope as a header", async () => {
    const srv = await listen()
    const t = await setup(remote(srv.url, { headers: {}, inject: "headers" }))
    try {
        await t.vault.put("linear", "X_Api_Key", token)
        assert.equal(await call(t.pool, key, "echo", { text: "hi" }), "hi")
        assert.equal(srv.seen.at(-1)?.["x_api_key"], token)
    } finally {
        await t.pool.close()
        await srv.close()
    }
})

test("an expired session is reconnected without a new decrypt and the call goes through", async () => {
    const srv = await listen()
    const t = await setup(remote(srv.url))
    try {
        await t.vault.put("linear", "TOKEN", token)
        assert.equal(await call(t.pool, key, "echo", { text: "one" }), "one")
        const decrypts = () => t.vault.store.db.select().from(store.schema.audit).all().filter(r => r.action === "resolve").length
        const before = decrypts()
        srv.forget()
        assert.equal(await call(t.pool, key, "echo", { text: "two" }), "two")
        assert.equal(srv.sessions(), 2)
        assert.equal(decrypts(), before)
        assert.match(t.log.text(), /server "linear" lost its session; reconnecting/)
        assert.equal(await call(t.pool, key, "whoami"), `Bearer ${token}`)
    } finally {
        await t.pool.close()
        await srv.close()
    }
})

test("a server that speaks only HTTP+SSE is reached over SSE", async () => {
    const srv = await listen({ sse: true })
    const t = await setup(remote(srv.url))
    try {
        await t.vault.put("linear", "TOKEN", token)
        assert.equal(await call(t.pool, key, "whoami"), `Bearer ${token}`)
        assert.ok(srv.seen.some(h => h.accept?.includes("text/event-stream")))
    } finally {
        await t.pool.close()
        await srv.close()
    }
})

test("an unreachable server fails with its address, without the secret", async () => {
    const t = await setup(remote("http://127.0.0.1:9/mcp?key=${secret:TOKEN}"))
    try {
        await t.vault.put("linear", "TOKEN", token)
        await assert.rejects(call(t.pool, key, "echo"), (e: unknown) => {
            assert.match(String(e), /server "linear" cannot connect to "http:\/\/127\.0\.0\.1:9\/mcp"/)
            assert.ok(!String(e).includes(token))
            return true
        })
    } finally {
        await t.pool.close()
    }
})
