import assert from "node:assert/strict"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { test } from "node:test"
import * as downstream from "../../internal/downstream/index.ts"
import * as redact from "../../internal/redact/index.ts"
import * as store from "../../internal/store/index.ts"
import { call, cfg, fresh, hooks, hostEnv, recorder, setup, starts, stdio, until, vault } from "./kit.ts"
import type * as config from "../../internal/config/index.ts"

const token = "tok_catalog_0a1b2c3d4e5f"

function resolves(s: store.Store): number {
    return s.db.select().from(store.schema.audit).all().filter(r => r.action === "resolve").length
}

/** A second process's view: a new vault and pool over the same home. */
function again(home: string, ...servers: config.Server[]) {
    const v = vault(home)
    const h = hooks()
    const p = downstream.pool({ config: cfg(...servers), vault: v, registry: redact.create(), log: recorder(), env: hostEnv(home), hooks: h })
    return { vault: v, pool: p, hooks: h }
}

test("catalog starts the server once and learns every page of every list it declares", async () => {
    const log = join(await fresh(), "starts")
    const t = await setup(stdio("gh", { scope: "gh", fixtureEnv: { DS_PAGE: "2", DS_START_LOG: log } }))
    try {
        await t.vault.put("gh", "TOKEN", token)
        const c = await t.pool.catalog("gh")
        assert.equal(c.tools.length, 15)
        assert.equal(new Set(c.tools.map(x => x.name)).size, 15)
        assert.deepEqual(c.prompts.map(x => x.name), ["greet"])
        assert.deepEqual(c.resources.map(x => x.uri), ["fixture://readme"])
        assert.deepEqual(c.templates.map(x => x.uriTemplate), ["fixture://item/{id}"])
        assert.deepEqual(Object.keys(c.capabilities).sort(), ["logging", "prompts", "resources", "tools"])
        assert.equal(c.instructions, "a fixture for the downstream tests")
        assert.equal(starts(log).length, 1)
        assert.equal(await t.pool.catalog("gh"), c, "the second time comes from memory")
        assert.equal(starts(log).length, 1)
    } finally {
        await t.pool.close()
    }
})

test("a cached catalog answers in another process without starting or decrypting anything", async () => {
    const log = join(await fresh(), "starts")
    const s = stdio("gh", { scope: "gh", fixtureEnv: { DS_START_LOG: log } })
    const t = await setup(s)
    await t.vault.put("gh", "TOKEN", token)
    await t.pool.catalog("gh")
    await t.pool.close()
    const before = resolves(t.vault.store)
    const b = again(t.home, s)
    try {
        const c = b.pool.cached("gh")
        assert.ok(c)
        assert.equal(c.tools.length, 15)
        assert.equal((await b.pool.catalog("gh")).tools.length, 15)
        assert.ok(c.capabilities.tools, "capabilities are inferred from the lists")
        assert.equal(starts(log).length, 1, "nothing started")
        assert.equal(resolves(b.vault.store), before, "nothing decrypted")
        assert.deepEqual(b.pool.status().map(x => x.state), ["stopped"])
    } finally {
        await b.pool.close()
    }
})

test("a changed server definition invalidates the cached catalog", async () => {
    const s = stdio("gh", { scope: "gh" })
    const t = await setup(s)
    await t.vault.put("gh", "TOKEN", token)
    await t.pool.catalog("gh")
    await t.pool.close()
    const b = again(t.home, { ...s, env: { EXTRA: "1" } })
    try {
        assert.equal(b.pool.cached("gh"), undefined)
    } finally {
        await b.pool.close()
    }
    // timeouts are not part of the definition's fingerprint
    const c = again(t.home, { ...s, timeout: 5000, idleTimeout: 1000 })
    try {
        assert.ok(c.pool.cached("gh"))
    } finally {
        await c.pool.close()
    }
})

test("catalogs stored before the first lookup are found, and so is one another process stores after it", async () => {
    const gh = stdio("gh", { scope: "gh" }), other = stdio("other")
    const t = await setup(gh, other)
    await t.vault.put("gh", "TOKEN", token)
    await t.pool.catalog("gh")
    await t.pool.close()
    const b = again(t.home, gh, other)
    try {
        assert.ok(b.pool.cached("gh"), "stored before the first lookup")
        assert.equal(b.pool.cached("other"), undefined, "nothing stored for it yet")
        // another serve learns it meanwhile
        const c = again(t.home, gh, other)
        await c.pool.catalog("other")
        await c.pool.close()
        assert.equal(b.pool.cached("other")?.tools.length, 15)
    } finally {
        await b.pool.close()
    }
})

test("list_changed from a live server refreshes the cache and tells the owner", async () => {
    const s = stdio("gh", { scope: "gh" })
    const t = await setup(s)
    try {
        await t.vault.put("gh", "TOKEN", token)
        await t.pool.catalog("gh")
        t.hooks.changes.length = 0
        await call(t.pool, { server: "gh", scope: "gh" }, "grow", { name: "brand_new" })
        await until(() => t.hooks.changes.includes("gh"), 3000, "hooks.changed")
        assert.ok(t.pool.cached("gh")?.tools.some(x => x.name === "brand_new"))
        assert.ok(t.hooks.notifications.some(n => n.method === "notifications/tools/list_changed"))
    } finally {
        await t.pool.close()
    }
    const b = again(t.home, s)
    try {
        assert.ok(b.pool.cached("gh")?.tools.some(x => x.name === "brand_new"), "stored in SQLite too")
    } finally {
        await b.pool.close()
    }
})

test("only the lists a server declares are asked for", async () => {
    const t = await setup(stdio("gh", { scope: "gh", fixtureEnv: { DS_NO_EXTRAS: "1" } }))
    try {
        await t.vault.put("gh", "TOKEN", token)
        const c = await t.pool.catalog("gh")
        assert.equal(c.tools.length, 15)
        assert.deepEqual([c.prompts, c.resources, c.templates], [[], [], []])
        assert.ok(!t.log.text().includes("could not list"))
    } finally {
        await t.pool.close()
    }
})

test("a secret in a tool description never reaches the cache", async () => {
    const t = await setup(stdio("gh", { scope: "gh", fixtureEnv: { DS_LEAKY: "1" } }))
    try {
        await t.vault.put("gh", "TOKEN", token)
        const c = await t.pool.catalog("gh")
        assert.equal(c.tools.find(x => x.name === "echo")?.description, "echoes; uses [redacted]")
    } finally {
        await t.pool.close()
    }
    for (const f of [t.vault.store.path, `${t.vault.store.path}-wal`]) {
        if (existsSync(f)) assert.ok(!readFileSync(f).includes(token), `${f} holds no value`)
    }
    const rows = JSON.stringify(t.vault.store.db.select().from(store.schema.catalog).all())
    assert.ok(rows.includes("[redacted]") && !rows.includes(token))
})
