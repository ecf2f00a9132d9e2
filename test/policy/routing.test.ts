/** The routing matrix through a real gateway: nested workspaces, deny, fall-through, default: deny, hidden tools, roots. */
import assert from "node:assert/strict"
import { join } from "node:path"
import { after, before, describe, test } from "node:test"
import * as config from "../../internal/config/index.ts"
import { folders, server, start, text, until, type Conn, type Kit } from "./kit.ts"

const tokens = { gh: "gh-token-1111", acme: "acme-token-2222", web: "web-token-3333" }

function make(def: "allow" | "deny" = "allow") {
    return (home: string, log: string) => `auth_scopes:
  gh: {}
  acme: {}
  web: {}
servers:
  alpha: ${server("alpha", log, { scope: "gh" })}
  beta: ${server("beta", log)}
workspaces:
  work:
    root: ${join(home, "work")}
    routes:
      - { tools: ["beta__*"], action: deny }
  acme:
    root: ${join(home, "work", "acme")}
    routes:
      - { tools: ["alpha__*"], scope: acme }
  web:
    root: ${join(home, "work", "acme", "web")}
    routes:
      - { tools: ["alpha__env"], scope: web }
      - { tools: ["alpha__write"], action: deny }
default: ${def}
`
}

const secrets = { gh: { TOKEN: tokens.gh }, acme: { TOKEN: tokens.acme }, web: { TOKEN: tokens.web } }

async function names(k: Conn): Promise<string[]> {
    return (await k.client.listTools()).tools.map(t => t.name).sort()
}

describe("routing a session by its root", () => {
    let k: Kit
    before(async () => {
        k = await start(make(), { secrets })
        await folders(k.home, "src", "work/acme/web/app", "work/other")
    })
    after(async () => { await k.close() })

    test("outside every workspace a tool runs with its server's own scope", async () => {
        const c = await k.connect({ root: join(k.home, "src") })
        assert.equal(text(await c.client.callTool({ name: "alpha__env", arguments: { name: "TOKEN" } })), "alpha: [redacted]")
        const row = k.audit().findLast(r => r.action === "call" && r.tool === "alpha__env")
        assert.equal(row?.scope, "gh")
        assert.equal(row?.route, "default")
        assert.deepEqual(await names(c), ["alpha__echo", "alpha__env", "alpha__read", "alpha__write", "beta__echo", "beta__env", "beta__read", "beta__write"])
    })

    test("in a nested workspace the most specific route decides the scope", async () => {
        const c = await k.connect({ root: join(k.home, "work", "acme", "web", "app") })
        await c.client.callTool({ name: "alpha__env", arguments: { name: "TOKEN" } })
        const row = k.audit().findLast(r => r.action === "call" && r.tool === "alpha__env")
        assert.equal(row?.scope, "web")
        assert.equal(row?.workspace, "web")
        assert.equal(row?.route, "web#1")
    })

    test("a tool no route of the nearest workspace matches falls through to the next one up", async () => {
        const c = await k.connect({ root: join(k.home, "work", "acme", "web") })
        assert.equal(text(await c.client.callTool({ name: "alpha__read" })), "read ok")
        const row = k.audit().findLast(r => r.action === "call" && r.tool === "alpha__read")
        assert.equal(row?.scope, "acme")
        assert.equal(row?.route, "acme#1")
    })

    test("denied tools are not listed, and a call to one is refused before it reaches the server", async () => {
        const c = await k.connect({ root: join(k.home, "work", "acme", "web") })
        assert.deepEqual(await names(c), ["alpha__echo", "alpha__env", "alpha__read"])
        const before = k.received().length
        const r = await c.client.callTool({ name: "beta__read" })
        assert.equal(r.isError, true)
        assert.match(text(r), /tool "beta__read" is denied here by route 1 of workspace "work"/)
        const w = await c.client.callTool({ name: "alpha__write" })
        assert.match(text(w), /denied here by route 2 of workspace "web"/)
        assert.equal(k.received().length, before)
        const row = k.audit().findLast(r => r.action === "call" && r.tool === "beta__read")
        assert.equal(row?.status, "denied")
    })

    test("a workspace with no matching route defers to the default when it is the last", async () => {
        const c = await k.connect({ root: join(k.home, "work", "other") })
        assert.deepEqual(await names(c), ["alpha__echo", "alpha__env", "alpha__read", "alpha__write"])
        await c.client.callTool({ name: "alpha__env", arguments: { name: "TOKEN" } })
        assert.equal(k.audit().findLast(r => r.action === "call" && r.tool === "alpha__env")?.scope, "gh")
    })

    test("the client's roots decide over the working directory, and a roots change relists", async () => {
        const c = await k.connect({ root: join(k.home, "src"), roots: [join(k.home, "work", "acme")] })
        assert.ok(!(await names(c)).includes("beta__read"))
        await c.client.callTool({ name: "alpha__env", arguments: { name: "TOKEN" } })
        assert.equal(k.audit().findLast(r => r.action === "call" && r.tool === "alpha__env")?.scope, "acme")
        await c.setRoots([join(k.home, "src")])
        await until(() => c.changed > 0 || undefined, 5000, "tools/list_changed")
        assert.ok((await names(c)).includes("beta__read"))
        await c.client.callTool({ name: "alpha__env", arguments: { name: "TOKEN" } })
        assert.equal(k.audit().findLast(r => r.action === "call" && r.tool === "alpha__env")?.scope, "gh")
    })

    test("a client offering no roots at all works in the working directory", async () => {
        const c = await k.connect({ root: join(k.home, "work", "acme"), roots: [] })
        assert.ok(!(await names(c)).includes("beta__read"))
    })

    test("a reloaded config takes effect for new calls and announces list_changed", async () => {
        const c = await k.connect({ root: join(k.home, "src") })
        assert.ok((await names(c)).includes("alpha__write"))
        const next = make("allow")(k.home, k.log).replace("workspaces:", `workspaces:
  src:
    root: ${join(k.home, "src")}
    routes:
      - { tools: ["*__write"], action: deny }`)
        k.gw.configure(config.parse(next, k.paths.config))
        await until(() => c.changed > 0 || undefined, 5000, "tools/list_changed")
        assert.ok(!(await names(c)).includes("alpha__write"))
        assert.match(text(await c.client.callTool({ name: "alpha__write" })), /denied here by route 1 of workspace "src"/)
        k.gw.configure(config.parse(make()(k.home, k.log), k.paths.config))
    })
})

describe("default: deny", () => {
    let k: Kit
    before(async () => {
        k = await start(make("deny"), { secrets })
        await folders(k.home, "src", "work/acme")
    })
    after(async () => { await k.close() })

    test("outside every route nothing is listed and every call is refused", async () => {
        const c = await k.connect({ root: join(k.home, "src") })
        assert.deepEqual(await names(c), [])
        const r = await c.client.callTool({ name: "alpha__read" })
        assert.equal(r.isError, true)
        assert.match(text(r), /denied here by the default/)
        assert.deepEqual(k.received(), [])
    })

    test("a matching route still allows its tools", async () => {
        const c = await k.connect({ root: join(k.home, "work", "acme") })
        assert.deepEqual(await names(c), ["alpha__echo", "alpha__env", "alpha__read", "alpha__write"])
        assert.equal(text(await c.client.callTool({ name: "alpha__read" })), "read ok")
    })
})
