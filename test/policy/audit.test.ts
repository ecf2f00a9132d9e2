/** The audit trail of tool calls, decryptions, approvals and leases: what each row holds, and never a value. */
import assert from "node:assert/strict"
import { join } from "node:path"
import { after, before, describe, test } from "node:test"
import type { ElicitResult } from "@modelcontextprotocol/sdk/types.js"
import * as config from "../../internal/config/index.ts"
import * as gateway from "../../internal/gateway/index.ts"
import * as redact from "../../internal/redact/index.ts"
import * as secrets from "../../internal/secrets/index.ts"
import * as store from "../../internal/store/index.ts"
import { folders, server, start, type Kit } from "./kit.ts"

const planted = "planted-token-5c1d2e3f"

describe("the audit trail", () => {
    let k: Kit
    before(async () => {
        k = await start((home, log) => `auth_scopes:
  acme: {}
servers:
  alpha: ${server("alpha", log)}
  beta: ${server("beta", log)}
workspaces:
  acme:
    root: ${join(home, "acme")}
    routes:
      - { tools: ["alpha__*"], scope: acme, approval: write }
      - { tools: ["beta__*"], action: deny }
`, { secrets: { acme: { TOKEN: planted } } })
        await folders(k.home, "acme")
        const c = await k.connect({ root: join(k.home, "acme"), name: "claude-test", elicit: (): Promise<ElicitResult> => Promise.resolve({ action: "accept", content: { for: "lease" } }) })
        await c.client.callTool({ name: "alpha__env", arguments: { name: "TOKEN", why: planted } })
        await c.client.callTool({ name: "alpha__write", arguments: { body: planted } })
        await c.client.callTool({ name: "alpha__echo", arguments: { key: "secret://TOKEN" } })
        await c.client.callTool({ name: "beta__read", arguments: { q: 1 } })
        await Promise.all(Array.from({ length: 40 }, (_, i) => c.client.callTool({ name: "alpha__read", arguments: { i } })))
        const l = gateway.leases(k.vault.store)[0]
        if (l) gateway.revoke(k.vault.store, l.id, "test")
    })
    after(async () => { await k.close() })

    test("a tool call row has the time, client, workspace, tool, server, scope, route, status, latency and argument names", () => {
        const row = k.audit().find(r => r.action === "call" && r.tool === "alpha__env")
        assert.ok(row)
        assert.ok(Math.abs(Number(row.time) - Date.now()) < 120_000)
        assert.equal(row.actor, "claude-test")
        assert.equal(row.workspace, "acme")
        assert.equal(row.server, "alpha")
        assert.equal(row.scope, "acme")
        assert.equal(row.route, "acme#1")
        assert.equal(row.status, "ok")
        assert.equal(typeof row.latency, "number")
        assert.deepEqual(JSON.parse(String(row.detail)), { arguments: ["name", "why"] })
    })

    test("a denied call is recorded as denied", () => {
        const row = k.audit().find(r => r.action === "call" && r.tool === "beta__read")
        assert.equal(row?.status, "denied")
        assert.equal(row?.route, "acme#2")
    })

    test("every call of a burst gets its row", () => {
        assert.equal(k.audit().filter(r => r.action === "call" && r.tool === "alpha__read").length, 40)
    })

    test("decryptions, approvals, leases and revokes are recorded", () => {
        const rows = k.audit()
        const resolve = rows.find(r => r.action === "resolve" && r.scope === "acme")
        assert.ok(resolve, "no decryption row")
        assert.match(String(resolve.detail), /"keys":\["TOKEN"\]/)
        assert.deepEqual(rows.filter(r => r.action === "approval").map(r => r.status), ["pending", "approved"])
        assert.equal(rows.filter(r => r.action === "lease" && r.status === "granted").length, 1)
        assert.equal(rows.filter(r => r.action === "revoke").length, 1)
        assert.ok(rows.some(r => r.action === "secret" && r.key === "TOKEN" && r.status === "ok"))
    })

    test("no audit row holds the planted secret", () => {
        const all = JSON.stringify(k.audit())
        assert.ok(all.length > 1000)
        assert.ok(!all.includes(planted))
    })

    test("rows past the retention are pruned when a gateway starts", async () => {
        const s = k.vault.store
        const old = Date.now() - 91 * 86_400_000
        s.sqlite.prepare("INSERT INTO audit (time, action, actor, status) VALUES (?, 'call', 'old', 'ok')").run(old)
        s.sqlite.prepare("INSERT INTO audit (time, action, actor, status) VALUES (?, 'call', 'recent', 'ok')").run(Date.now() - 89 * 86_400_000)
        // another gateway on the same database prunes when it starts
        const v = secrets.open(k.paths, { actor: "test" })
        const quiet = () => undefined
        const g = gateway.create({ config: config.parse("servers: {}\n", k.paths.config), vault: v, registry: redact.create(), log: { debug: quiet, info: quiet, warn: quiet, error: quiet }, env: {} })
        await g.close()
        v.close()
        const actors = (store.guard(s, () => s.sqlite.prepare("SELECT actor FROM audit WHERE actor IN ('old', 'recent')").pluck().all()) as string[])
        assert.deepEqual(actors, ["recent"])
    })
})
