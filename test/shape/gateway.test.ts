/** What the model is shown, through a real gateway and real fixture servers: switches, search mode, pins, quarantine. */
import assert from "node:assert/strict"
import { join } from "node:path"
import { after, before, describe, test } from "node:test"
import type { ElicitResult } from "@modelcontextprotocol/sdk/types.js"
import { fixture, start as harness, text, yaml } from "../gateway/harness.ts"
import { temp } from "../helpers.ts"
import { folders, server, start, type Kit } from "../policy/kit.ts"

const names = async (c: { listTools(): Promise<{ tools: Array<{ name: string }> }> }) => (await c.listTools()).tools.map(t => t.name).sort()
const flush = (gw: unknown) => { (gw as { trail: { flush(): void } }).trail.flush() }
const accept = (): Promise<ElicitResult> => Promise.resolve({ action: "accept", content: {} })
const decline = (): Promise<ElicitResult> => Promise.resolve({ action: "decline" })

describe("switches", () => {
    let k: Kit
    before(async () => {
        k = await start((_home, log) => `servers:\n  alpha: ${server("alpha", log, { tools: { disabled: ["wr*", "!nothing"] } })}\n`)
    })
    after(async () => { await k.close() })

    test("a switched-off tool is not listed, and a call is refused naming the command, audited, and never sent", async () => {
        const c = await k.connect()
        assert.deepEqual(await names(c.client), ["alpha__echo", "alpha__env", "alpha__read"])
        const r = await c.client.callTool({ name: "alpha__write" })
        assert.equal(r.isError, true)
        assert.match(text(r), /tool "alpha__write" is switched off \(tools\.disabled: "wr\*"\); nothing was sent to its server\nto switch it on: mcplexer tools enable alpha__write/)
        assert.ok(!k.received().includes("write"))
        const row = k.audit().findLast(x => x.action === "call")
        assert.equal(row?.tool, "alpha__write")
        assert.equal(row?.status, "disabled")
        assert.equal(text(await c.client.callTool({ name: "alpha__read" })), "read ok")
    })

    test("a switched-off tool is absent from `tools` and present with its state under all", async () => {
        assert.deepEqual((await k.gw.tools()).map(t => t.name).sort(), ["alpha__echo", "alpha__env", "alpha__read"])
        assert.equal((await k.gw.tools({ all: true })).find(t => t.name === "alpha__write")?.state, "disabled")
    })
})

describe("search mode", () => {
    let k: Kit
    let root: string
    before(async () => {
        k = await start((home, log) => `tool_search: { enabled: true, always: ["alpha__read"] }
servers:
  alpha: ${server("alpha", log, { tools: { disabled: ["env"] } })}
workspaces:
  acme:
    root: ${join(home, "acme")}
    routes:
      - { tools: ["alpha__*"], approval: write, lease: 0, approval_timeout: 5s }
`)
        root = join(k.home, "acme")
        await folders(k.home, "acme")
    })
    after(async () => { await k.close() })

    test("tools/list is the two search tools and what always names", async () => {
        const c = await k.connect({ root })
        assert.deepEqual(await names(c.client), ["alpha__read", "mcplexer__call_tool", "mcplexer__find_tools"])
    })

    test("find_tools returns matches with their input schemas; a switched-off tool is never found", async () => {
        const c = await k.connect({ root })
        const r = await c.client.callTool({ name: "mcplexer__find_tools", arguments: { query: "write of alpha", limit: 2 } })
        const found = JSON.parse(text(r)) as Array<{ name: string; inputSchema: unknown }>
        assert.equal(found[0]?.name, "alpha__write")
        assert.deepEqual(found[0]?.inputSchema, { type: "object", properties: {} })
        assert.ok(found.length <= 2)
        const env = JSON.parse(text(await c.client.callTool({ name: "mcplexer__find_tools", arguments: { query: "env of alpha", limit: 10 } }))) as Array<{ name: string }>
        assert.ok(!env.some(t => t.name === "alpha__env"))
    })

    test("call_tool goes through approval and the audit as a direct call does", async () => {
        const yes = await k.connect({ root, elicit: accept })
        const r = await yes.client.callTool({ name: "mcplexer__call_tool", arguments: { name: "alpha__write", arguments: {} } })
        assert.equal(text(r), "write ok")
        assert.equal(yes.asked.length, 1)
        assert.match(yes.asked[0]?.params.message ?? "", /"alpha__write"/)
        const row = k.audit().findLast(x => x.action === "call")
        assert.equal(row?.tool, "alpha__write")
        assert.equal(row?.status, "ok")
        const no = await k.connect({ root, elicit: decline })
        const denied = await no.client.callTool({ name: "mcplexer__call_tool", arguments: { name: "alpha__write" } })
        assert.equal(denied.isError, true)
        assert.match(text(denied), /was denied/)
        assert.equal(k.audit().findLast(x => x.action === "call")?.status, "denied")
    })

    test("call_tool refuses a switched-off tool, an unknown one and itself", async () => {
        const c = await k.connect({ root })
        assert.match(text(await c.client.callTool({ name: "mcplexer__call_tool", arguments: { name: "alpha__env" } })), /switched off.*\nto switch it on: mcplexer tools enable alpha__env/)
        assert.match(text(await c.client.callTool({ name: "mcplexer__call_tool", arguments: { name: "alpha__nope" } })), /unknown tool "alpha__nope"/)
        assert.match(text(await c.client.callTool({ name: "mcplexer__call_tool", arguments: { name: "mcplexer__call_tool" } })), /needs the name of a tool/)
        assert.ok(!k.received().includes("env"))
    })
})

describe("pins", () => {
    const rug = (version: string, extra: Record<string, unknown> = {}) => yaml({ rug: fixture("rug-server.ts", { env: { RUG_VERSION: version }, ...extra }) })

    test("a tool whose description or schema changed between two starts is withheld until approved; the others keep working", async () => {
        const home = temp()
        const first = await harness(rug("1"), { home })
        try {
            assert.deepEqual(await names(first.client), ["rug__add", "rug__lookup", "rug__plain"])
        } finally {
            await first.close()
        }
        const h = await harness(rug("2"), { home })
        try {
            assert.deepEqual(await names(h.client), ["rug__plain"])
            const r = await h.client.callTool({ name: "rug__add", arguments: { a: 1, b: 2 } })
            assert.equal(r.isError, true)
            assert.match(text(r), /tool "rug__add" changed since it was approved and is withheld; nothing was sent to its server\nsee the change with: mcplexer tools diff rug__add\nto accept it: mcplexer tools approve rug__add/)
            assert.equal(text(await h.client.callTool({ name: "rug__plain" })), "plain")
            const pin = h.gw.pin("rug", "add")
            assert.equal(pin?.approved?.description, "Adds two numbers.")
            assert.match(String(pin?.seen.description), /<IMPORTANT>/)
            assert.equal((await h.gw.tools({ all: true })).find(t => t.name === "rug__lookup")?.state, "withheld")
            flush(h.gw)
            const changes = h.vault.store.sqlite.prepare("SELECT tool, status FROM audit WHERE action = 'tool-changed' ORDER BY tool").all()
            assert.deepEqual(changes, [{ tool: "add", status: "withheld" }, { tool: "lookup", status: "withheld" }])
            assert.equal(h.gw.approve("rug", "add", "test"), true)
            assert.equal(h.gw.approve("rug", "add", "test"), false, "nothing left to approve")
            assert.deepEqual(await names(h.client), ["rug__add", "rug__plain"])
            assert.equal(text(await h.client.callTool({ name: "rug__add", arguments: { a: 1, b: 2 } })), "3")
            flush(h.gw)
            assert.equal((h.vault.store.sqlite.prepare("SELECT count(*) AS n FROM audit WHERE action = 'tool-approved' AND tool = 'add'").get() as { n: number }).n, 1)
        } finally {
            await h.close()
        }
    })

    test("a quarantined server's tools are withheld from the first listing until approved", async () => {
        const h = await harness(rug("1", { quarantine: true }))
        try {
            assert.deepEqual(await names(h.client), [])
            const r = await h.client.callTool({ name: "rug__plain" })
            assert.match(text(r), /tool "rug__plain" is on a quarantined server and not yet approved.*\n.*\nto accept it: mcplexer tools approve rug__plain/)
            assert.equal((await h.gw.tools({ all: true })).filter(t => t.state === "quarantined").length, 3)
            assert.equal(h.gw.approve("rug", "plain", "test"), true)
            assert.deepEqual(await names(h.client), ["rug__plain"])
            assert.equal(text(await h.client.callTool({ name: "rug__plain" })), "plain")
        } finally {
            await h.close()
        }
    })
})
