/**
 * Search mode adds what a session found to that session's own tools/list, through `serve --http`
 * with the reference memory server from npm and two SDK client sessions: the one that found is
 * told once per find that added something, the other sees nothing move.
 *
 * serve and the CLI run from the sources (tsx), not dist/: this file tests the gateway as it is
 * in the tree, whoever last ran `npm run build`.
 */
import assert from "node:assert/strict"
import { spawn, type ChildProcess } from "node:child_process"
import { rm, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { after, before, describe, test } from "node:test"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js"
import { Found, foundCap } from "../../internal/gateway/session.ts"
import { until } from "../gateway/harness.ts"
import { fresh, root } from "../helpers.ts"
import { start as kit, server, text, type Kit } from "../policy/kit.ts"

const tsx = import.meta.resolve("tsx")
const entry = join(root, "cmd", "mcplexer.ts")
const memory = join(root, "node_modules", "@modelcontextprotocol", "server-memory", "dist", "index.js")
const meta = ["mcplexer__call_tool", "mcplexer__find_tools"]

const env = (home: string) => ({ PATH: process.env.PATH ?? "", HOME: home, MCPLEXER_HOME: home })

/** Runs the CLI from the sources in `home`; its stdout. */
function mcplexer(home: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((done, fail) => {
        const child = spawn(process.execPath, ["--import", tsx, entry, ...args], { env: env(home), stdio: ["ignore", "pipe", "pipe"] })
        let stdout = "", stderr = ""
        child.stdout.setEncoding("utf8").on("data", (d: string) => { stdout += d })
        child.stderr.setEncoding("utf8").on("data", (d: string) => { stderr += d })
        child.on("error", fail)
        child.on("close", code => { done({ code, stdout, stderr }) })
    })
}

/** `serve --http` on a free port; resolves with its MCP URL once it says it listens. */
function serve(home: string): Promise<{ child: ChildProcess; url: URL; stderr: () => string }> {
    const child = spawn(process.execPath, ["--import", tsx, entry, "serve", "--http", "127.0.0.1:0"], { env: env(home), stdio: ["ignore", "ignore", "pipe"] })
    let stderr = ""
    return new Promise((done, fail) => {
        child.stderr.setEncoding("utf8").on("data", (d: string) => {
            stderr += d
            const m = /serving MCP over HTTP at (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(stderr)
            if (m) done({ child, url: new URL(m[1]!), stderr: () => stderr })
        })
        child.on("error", fail)
        child.on("close", code => { fail(new Error(`serve exited (${code}) before listening: ${stderr}`)) })
    })
}

/** One client session, counting the tools/list_changed notifications it receives. */
async function session(url: URL, token: string, name: string): Promise<{ client: Client; changed: () => number }> {
    const client = new Client({ name, version: "1.0.0" })
    let changed = 0
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => { changed++ })
    await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { authorization: `Bearer ${token}` } } }))
    return { client, changed: () => changed }
}

const names = async (c: Client) => (await c.listTools()).tools.map(t => t.name).sort()
const settle = () => new Promise(r => setTimeout(r, 300))

describe("found tools join the finding session's list, through serve --http", () => {
    let home: string
    let serving: Awaited<ReturnType<typeof serve>>
    let a: Awaited<ReturnType<typeof session>>
    let b: Awaited<ReturnType<typeof session>>

    before(async () => {
        home = await fresh(null)
        await writeFile(join(home, "config.yaml"), `tool_search: true
servers:
  memory:
    command: ${JSON.stringify(process.execPath)}
    args: [${JSON.stringify(memory)}]
    env: { MEMORY_FILE_PATH: ${JSON.stringify(join(home, "memory.jsonl"))} }
`)
        const token = await mcplexer(home, ["token"])
        assert.equal(token.code, 0, token.stderr)
        serving = await serve(home)
        a = await session(serving.url, token.stdout.trim(), "session-a")
        b = await session(serving.url, token.stdout.trim(), "session-b")
    })
    after(async () => {
        await a?.client.close()
        await b?.client.close()
        serving?.child.kill()
        await rm(home, { recursive: true, force: true })
    })

    test("a find adds its tools to that session's list with one list_changed; the other session sees nothing", async () => {
        assert.deepEqual(await names(a.client), meta)
        assert.deepEqual(await names(b.client), meta)
        const r = await a.client.callTool({ name: "mcplexer__find_tools", arguments: { query: "remember a new person", limit: 3 } })
        const found = (JSON.parse(text(r)) as Array<{ name: string }>).map(t => t.name)
        assert.equal(found.length, 3)
        assert.ok(found.includes("memory__create_entities"), found.join(", "))
        await until(() => a.changed() > 0 || undefined, 5000, "session A's tools/list_changed")
        await settle()
        assert.equal(a.changed(), 1)
        assert.deepEqual(await names(a.client), [...meta, ...found].sort())
        // by name, as a listed tool: not through mcplexer__call_tool
        const made = await a.client.callTool({ name: "memory__create_entities", arguments: { entities: [{ name: "Alice", entityType: "person", observations: ["prefers tea"] }] } })
        assert.notEqual(made.isError, true, text(made))
        assert.match(text(made), /Alice/)
        assert.deepEqual(await names(b.client), meta)
        assert.equal(b.changed(), 0)
    })

    test("finding the same tools again tells the session nothing", async () => {
        const before = a.changed()
        await a.client.callTool({ name: "mcplexer__find_tools", arguments: { query: "remember a new person", limit: 3 } })
        await settle()
        assert.equal(a.changed(), before)
    })

    test("a found tool switched off with `mcplexer tools disable` leaves the list", async () => {
        const off = await mcplexer(home, ["tools", "disable", "memory__create_entities"])
        assert.equal(off.code, 0, off.stderr)
        await until(async () => (await names(a.client)).includes("memory__create_entities") ? undefined : true, 10_000, "the switched-off tool to leave session A's list")
        assert.ok(a.changed() >= 2, "the reload told session A its list moved")
        const left = await names(a.client)
        assert.ok(left.includes("memory__create_relations") && left.includes("mcplexer__find_tools"), left.join(", "))
        assert.deepEqual(await names(b.client), meta)
    })
})

describe("found tools, in process", () => {
    let k: Kit
    before(async () => {
        k = await kit((_home, log) => `tool_search: { enabled: true, add_found: false }
servers:
  alpha: ${server("alpha", log)}
`)
    })
    after(async () => { await k.close() })

    test("with add_found: false a find changes no list and sends nothing", async () => {
        const c = await k.connect()
        const r = await c.client.callTool({ name: "mcplexer__find_tools", arguments: { query: "write of alpha" } })
        assert.match(text(r), /alpha__write/)
        await settle()
        assert.equal(c.changed, 0)
        assert.deepEqual((await c.client.listTools()).tools.map(t => t.name).sort(), meta)
    })

    test("finding only what `always` lists already changes nothing; finding another tool sends one list_changed", async () => {
        const k2 = await kit((_home, log) => `tool_search: { enabled: true, always: ["alpha__write"] }
servers:
  alpha: ${server("alpha", log)}
`)
        try {
            const c = await k2.connect()
            assert.deepEqual((await c.client.listTools()).tools.map(t => t.name).sort(), ["alpha__write", ...meta])
            const r = await c.client.callTool({ name: "mcplexer__find_tools", arguments: { query: "write of alpha", limit: 1 } })
            assert.equal((JSON.parse(text(r)) as Array<{ name: string }>)[0]?.name, "alpha__write")
            await settle()
            assert.equal(c.changed, 0)
            await c.client.callTool({ name: "mcplexer__find_tools", arguments: { query: "read of alpha", limit: 1 } })
            await until(() => c.changed > 0 || undefined, 5000, "tools/list_changed")
            await settle()
            assert.equal(c.changed, 1)
            assert.deepEqual((await c.client.listTools()).tools.map(t => t.name).sort(), ["alpha__read", "alpha__write", ...meta])
        } finally {
            await k2.close()
        }
    })

    test("a session holds at most foundCap found tools, the oldest leaving first", () => {
        const f = new Found()
        const all = Array.from({ length: foundCap + 10 }, (_, i) => `s__t${i}`)
        assert.equal(f.add(all.slice(0, 5)), true)
        assert.equal(f.add(all.slice(0, 5)), false, "nothing new")
        assert.equal(f.add(all.slice(5)), true)
        assert.equal(f.size, foundCap)
        assert.ok(!f.has("s__t0") && f.has(`s__t${foundCap + 9}`))
        // found again, an old name becomes the newest and outlives the ones after it
        f.add(["s__t10"])
        f.add(["s__new"])
        assert.ok(f.has("s__t10") && !f.has("s__t11"))
    })
})
