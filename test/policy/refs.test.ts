/** secret:// arguments: resolved at dispatch from the routed scope, scrubbed on the way back, audited, refused with the fix. */
import assert from "node:assert/strict"
import { join } from "node:path"
import { after, before, describe, test } from "node:test"
import { folders, server, start, text, type Kit } from "./kit.ts"

const planted = { acme: "acme-api-key-7f3e9", gh: "gh-personal-4b2c1", other: "other-value-9d8e7" }

describe("secret:// arguments", () => {
    let k: Kit
    let root: string
    before(async () => {
        k = await start((home, log) => `auth_scopes:
  acme: {}
  gh: {}
  other: {}
servers:
  alpha: ${server("alpha", log, { scope: "gh" })}
workspaces:
  acme:
    root: ${join(home, "acme")}
    routes:
      - { tools: ["alpha__echo"], scope: acme, scopes: [other] }
`, { secrets: { acme: { API_KEY: planted.acme }, gh: { API_KEY: planted.gh }, other: { KEY: planted.other } } })
        root = join(k.home, "acme")
        await folders(k.home, "acme", "src")
    })
    after(async () => { await k.close() })

    test("secret://KEY is replaced with the routed scope's value, and the echo comes back scrubbed", async () => {
        const c = await k.connect({ root })
        const r = await c.client.callTool({ name: "alpha__echo", arguments: { key: "secret://API_KEY", plain: "secret-ish", nested: { list: ["secret://other/KEY"] } } })
        assert.equal(text(r), `{"key":"[redacted]","plain":"secret-ish","nested":{"list":["[redacted]"]}}`)
        assert.ok(!JSON.stringify(r).includes(planted.acme))
    })

    test("outside the workspace the same reference reads the server's own scope", async () => {
        const c = await k.connect({ root: join(k.home, "src") })
        const r = await c.client.callTool({ name: "alpha__echo", arguments: { key: "secret://API_KEY" } })
        assert.equal(text(r), `{"key":"[redacted]"}`)
        const row = k.audit().findLast(x => x.action === "secret")
        assert.equal(row?.scope, "gh")
        assert.equal(row?.key, "API_KEY")
    })

    test("a scope the route does not allow is refused with the fix, and nothing reaches the server", async () => {
        const c = await k.connect({ root })
        const before = k.received().length
        const r = await c.client.callTool({ name: "alpha__echo", arguments: { key: "secret://gh/API_KEY" } })
        assert.equal(r.isError, true)
        assert.match(text(r), /secret "gh\/API_KEY" is not available to tool "alpha__echo": it runs with scope "acme"/)
        assert.match(text(r), /add the scope to route 1 of workspace "acme": scopes: \[gh\]/)
        assert.equal(k.received().length, before)
    })

    test("a missing key is a tool error naming the key and how to store it", async () => {
        const c = await k.connect({ root })
        const r = await c.client.callTool({ name: "alpha__echo", arguments: { key: "secret://NOPE" } })
        assert.equal(r.isError, true)
        assert.match(text(r), /secret "acme\/NOPE" is not stored/)
        assert.match(text(r), /store it with: mcplexer secret put acme NOPE/)
        assert.equal(k.audit().findLast(x => x.action === "secret")?.status, "missing")
    })

    test("a string that merely contains secret:// is passed as it is", async () => {
        const c = await k.connect({ root })
        const r = await c.client.callTool({ name: "alpha__echo", arguments: { note: "see secret://API_KEY" } })
        assert.equal(text(r), `{"note":"see secret://API_KEY"}`)
    })

    test("each read is audited with scope and key, and no audit row holds a value", () => {
        const rows = k.audit()
        const reads = rows.filter(r => r.action === "secret" && r.status === "ok")
        assert.deepEqual(reads.map(r => `${String(r.scope)}/${String(r.key)}`).sort(), ["acme/API_KEY", "gh/API_KEY", "other/KEY"])
        const all = JSON.stringify(rows)
        for (const v of Object.values(planted)) assert.ok(!all.includes(v), "a planted secret is in the audit trail")
    })
})
