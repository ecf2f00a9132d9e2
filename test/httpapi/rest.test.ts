/**
 * What the console does, over REST with the bearer token: the tools with their states, switching
 * one off and on (config.yaml written as `mcplexer tools disable/enable` writes it), approving a
 * changed one; the audit as CSV and JSON with the page's filters; /metrics; the console's event
 * stream. A UI login's cookie opens none of the API.
 */
import assert from "node:assert/strict"
import { readFile } from "node:fs/promises"
import { after, before, test } from "node:test"
import * as store from "../../internal/store/index.ts"
import { until } from "../gateway/harness.ts"
import { dsConfig, start, type Kit } from "./kit.ts"

let k: Kit
let client: Awaited<ReturnType<Kit["client"]>>["client"]
before(async () => {
    k = await start(dsConfig(`# a comment the switches must keep
workspaces: {}
`), { secrets: { gh: { TOKEN: "planted-rest-token-4711" } } })
    client = (await k.client()).client
})
after(async () => { await client.close(); await k.close() })

type Listed = { name: string; server: string; state: string; tokens: number; flags: unknown[]; change?: string; score?: number }
const tools = async (q = "") => (await (await k.req(`/api/v1/tools${q}`)).json()) as Listed[]

test("GET /api/v1/tools lists every tool with its state and token cost; ?q= ranks as tools search does", async () => {
    const all = await tools()
    assert.equal(all.length, 15)
    const echo = all.find(t => t.name === "ds__echo")
    assert.equal(echo?.state, "enabled")
    assert.ok((echo?.tokens ?? 0) > 5)
    const hits = await tools("?q=echo")
    assert.equal(hits[0]?.name, "ds__echo")
    assert.ok(typeof hits[0]?.score === "number")
})

test("disable and enable over REST write config.yaml as the CLI does, and the gateway takes it", async () => {
    const before = await readFile(k.paths.config, "utf8")
    const off = await k.req("/api/v1/tools/ds__slow/disable", { method: "POST" })
    assert.equal(off.status, 200)
    const body = await off.json() as { tools: string[]; state: string; written: boolean; live: boolean }
    assert.deepEqual(body.tools, ["ds__slow"])
    assert.equal(body.state, "disabled")
    assert.equal(body.live, true)
    const written = await readFile(k.paths.config, "utf8")
    assert.match(written, /^ {4}tools: \{ disabled: \[slow\] \}$/m)
    assert.match(written, /# a comment the switches must keep/)
    assert.deepEqual(written.split("\n").filter(l => !l.includes("disabled")), before.split("\n"))
    assert.equal((await tools()).find(t => t.name === "ds__slow")?.state, "disabled")
    const listed = await client.listTools()
    assert.ok(!listed.tools.some(t => t.name === "ds__slow"), "a switched-off tool is still listed")

    const on = await k.req("/api/v1/tools/ds__slow/enable", { method: "POST" })
    assert.equal(on.status, 200)
    assert.equal((await tools()).find(t => t.name === "ds__slow")?.state, "enabled")
    assert.doesNotMatch(await readFile(k.paths.config, "utf8"), /slow/)
})

test("a name that matches no tool is a 404 naming the nearest; the API takes the bearer token only", async () => {
    const r = await k.req("/api/v1/tools/ds__ecko/disable", { method: "POST" })
    assert.equal(r.status, 404)
    const b = await r.json() as { error: string; hint: string }
    assert.match(b.error, /no tool matches "ds__ecko"/)
    assert.match(b.hint, /ds__echo/)
    assert.equal((await k.req("/api/v1/tools", { auth: false })).status, 401)
    const { cookie } = await k.login()
    assert.equal((await k.req("/api/v1/tools/ds__echo/disable", { method: "POST", auth: false, headers: { cookie } })).status, 401)
    assert.equal((await k.req("/metrics", { auth: false, headers: { cookie } })).status, 401)
})

test("a changed tool is withheld with its diff until approved over REST", async () => {
    await tools()
    const pin = store.pins.get(k.vault.store, "ds", "pid")
    assert.ok(pin, "no pin for ds pid")
    // as if the server had presented another definition since the approval
    store.pins.put(k.vault.store, { ...pin, approvedHash: "0".repeat(64), approved: { ...pin.approved as object, description: "what was approved" } })
    const held = await until(async () => (await tools()).find(t => t.name === "ds__pid" && t.state === "withheld"), 5000, "ds__pid withheld")
    assert.match(held.change ?? "", /-\s+"description": "what was approved"/)
    assert.match(held.change ?? "", /\+\s+"description": "fixture tool pid"/)
    assert.equal((await k.req("/api/v1/tools/ds__echo/approve", { method: "POST" })).status, 409)
    const ok = await k.req("/api/v1/tools/ds__pid/approve", { method: "POST" })
    assert.deepEqual(await ok.json(), { name: "ds__pid", approved: true })
    assert.equal((await tools()).find(t => t.name === "ds__pid")?.state, "enabled")
})

test("the audit exports as CSV and JSON with the page's filters, globs included", async () => {
    await client.callTool({ name: "ds__echo", arguments: { text: "audited" } })
    await client.callTool({ name: "ds__pid", arguments: {} })
    // a tool name a spreadsheet would run as a formula
    store.audit.add(k.vault.store, { action: "call", actor: "test", server: "ds", tool: "=HYPERLINK(\"http://x\")", status: "ok", latency: 3 })
    await until(async () => (await (await k.req("/api/v1/audit?action=call&tool=ds__*")).json() as unknown[]).length >= 2 || undefined, 5000, "the calls audited")
    const csv = await k.req("/api/v1/audit?format=csv&action=call&tool=ds__*")
    assert.equal(csv.status, 200)
    assert.match(csv.headers.get("content-type") ?? "", /^text\/csv/)
    assert.match(csv.headers.get("content-disposition") ?? "", /attachment; filename="mcplexer-audit.csv"/)
    const lines = (await csv.text()).trim().split("\r\n")
    assert.equal(lines[0], "id,time,action,actor,server,tool,scope,key,workspace,route,status,latency_ms,detail")
    assert.equal(lines.length, 3)
    assert.match(lines[1]!, /^\d+,\d{4}-\d\d-\d\dT[\d:.]+Z,call,kit,ds,ds__pid,gh,,,default,ok,\d+,"\{""arguments"":\[\]\}"$/)
    const json = await (await k.req("/api/v1/audit?format=json&action=call&tool=ds__*")).json() as Array<{ tool: string }>
    assert.deepEqual(json.map(r => r.tool), ["ds__pid", "ds__echo"])
    const all = await (await k.req("/api/v1/audit?format=csv&action=call&actor=test")).text()
    assert.match(all, /,"'=HYPERLINK\(""http:\/\/x""\)",/)
    // paging: the page after the newest call holds the one before it
    const newest = (await (await k.req("/api/v1/audit?action=call&tool=ds__*&limit=1")).json()) as Array<{ id: number; tool: string }>
    const next = (await (await k.req(`/api/v1/audit?action=call&tool=ds__*&limit=1&before=${newest[0]!.id}`)).json()) as Array<{ tool: string }>
    assert.deepEqual([newest[0]?.tool, next[0]?.tool], ["ds__pid", "ds__echo"])
    // a time range: nothing before the epoch's first minute, everything after it
    assert.equal(((await (await k.req("/api/v1/audit?action=call&tool=ds__*&to=1970-01-01T00:01")).json()) as unknown[]).length, 0)
    assert.equal(((await (await k.req("/api/v1/audit?action=call&tool=ds__*&from=1970-01-01T00:01")).json()) as unknown[]).length, 2)
    const bad = await k.req("/api/v1/audit?from=yesterday")
    assert.equal(bad.status, 400)
    assert.match(((await bad.json()) as { hint: string }).hint, /2025-01-31T14:00/)
    assert.equal((await k.req("/api/v1/audit?format=xml")).status, 400)
})

test("/metrics counts calls by server, tool and status, with their durations", async () => {
    await client.callTool({ name: "ds__echo", arguments: { text: "counted" } })
    const text = await until(async () => {
        const t = await (await k.req("/metrics")).text()
        return /mcplexer_tool_calls_total\{server="ds",tool="ds__echo",status="ok"\} [2-9]/.test(t) ? t : undefined
    }, 5000, "the call counted")
    assert.match(text, /^# TYPE mcplexer_tool_call_duration_seconds histogram$/m)
    assert.match(text, /^mcplexer_tool_call_duration_seconds_count\{server="ds",tool="ds__echo"\} \d+$/m)
    assert.match(text, /^mcplexer_instances_running\{server="ds"\} 1$/m)
    assert.match(text, /^mcplexer_approvals_pending 0$/m)
    assert.match(text, /^mcplexer_decryptions_total\{kind="scope",status="ok"\} 1$/m)
    assert.match(text, /^mcplexer_restarts_total\{server="ds"\} 0$/m)
    assert.equal((await k.req("/metrics", { auth: false })).status, 401)
    assert.equal((await k.req("/metrics", { auth: "mcp_wrong" })).status, 401)
})

test("the console's event stream says how many calls wait, to a login only", async () => {
    const { base, cookie } = await k.login()
    const r = await k.req(`${base}/events`, { auth: false, headers: { cookie } })
    assert.equal(r.status, 200)
    assert.match(r.headers.get("content-type") ?? "", /^text\/event-stream/)
    const reader = r.body!.getReader()
    const first = await reader.read() as { value?: Uint8Array }
    assert.match(new TextDecoder().decode(first.value), /event: approvals\ndata: 0\n/)
    await reader.cancel()
    const bare = await k.req(`${base}/events`, { auth: false })
    assert.equal(bare.status, 303)
})
