/**
 * `mcplexer serve` as a real process, driven by an SDK client, in front of real servers from the npm
 * registry and our fixture. A planted secret must reach the child exactly and appear nowhere the
 * client or the log can see.
 */
import assert from "node:assert/strict"
import { spawn } from "node:child_process"
import { createHash } from "node:crypto"
import { readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { test } from "node:test"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import { cli, fresh, root, run, tap } from "../helpers.ts"

const planted = "ghp_e2ePLANTED-7b1d0c9a-must-never-leak"
const tsx = import.meta.resolve("tsx")
const fixture = join(root, "test", "fixtures", "ds-server.ts")
const everything = join(root, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js")
const memory = join(root, "node_modules", "@modelcontextprotocol", "server-memory", "dist", "index.js")
const sha = (s: string) => createHash("sha256").update(s).digest("hex")

function configFor(home: string): string {
    const node = JSON.stringify(process.execPath)
    return `auth_scopes:
  gh: { description: planted test secrets }
servers:
  everything:
    command: ${node}
    args: [${JSON.stringify(everything)}]
    scope: gh
  memory:
    command: ${node}
    args: [${JSON.stringify(memory)}]
    env: { MEMORY_FILE_PATH: ${JSON.stringify(join(home, "memory.jsonl"))} }
  fixture:
    command: ${node}
    args: ["--import", ${JSON.stringify(tsx)}, ${JSON.stringify(fixture)}]
    scope: gh
  broken:
    command: ${node}
    args: ["--import", ${JSON.stringify(tsx)}, ${JSON.stringify(fixture)}]
    env: { NEEDED: "\${secret:gh/MISSING_KEY}" }
`
}

interface Session { client: Client; seen: string[]; stderr: () => string; pid: number; home: string; close(): Promise<void> }

async function session(): Promise<Session> {
    const home = await fresh(null)
    await writeFile(join(home, "config.yaml"), configFor(home))
    assert.equal((await run(home, ["secret", "put", "gh", "TOKEN"], { input: planted })).code, 0)
    const transport = new StdioClientTransport({
        command: process.execPath, args: [cli, "serve", "--log-level", "debug"],
        env: { PATH: process.env.PATH ?? "", HOME: home, MCPLEXER_HOME: home }, stderr: "pipe",
    })
    let stderr = ""
    transport.stderr?.on("data", (d: Buffer) => { stderr += d.toString() })
    const seen: string[] = []
    tap(transport, seen)
    const client = new Client({ name: "e2e", version: "1.0.0" })
    await client.connect(transport)
    return { client, seen, stderr: () => stderr, pid: transport.pid ?? 0, home, close: () => client.close() }
}

function text(r: unknown): string {
    const content = (r as { content?: Array<{ type: string; text?: string }> }).content ?? []
    return content.map(c => c.text ?? "").join("")
}

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0)
        return true
    } catch {
        return false
    }
}

async function gone(pid: number, ms = 5000): Promise<boolean> {
    for (const end = Date.now() + ms; Date.now() < end;) {
        if (!alive(pid)) return true
        await new Promise(r => setTimeout(r, 50))
    }
    return !alive(pid)
}

async function assertClean(s: Session): Promise<void> {
    const log = await readFile(join(s.home, "mcplexer.log"), "utf8")
    for (const [where, text] of [["client", s.seen.join("\n")], ["log file", log], ["stderr", s.stderr()]] as const) {
        assert.ok(!text.includes(planted), `the planted secret reached the ${where}`)
    }
}

test("serve aggregates real servers, injects the scope's secret exactly, and leaks it nowhere", async () => {
    const s = await session()
    try {
        const { tools } = await s.client.listTools()
        const names = tools.map(t => t.name)
        for (const n of ["everything__echo", "everything__get-env", "memory__create_entities", "fixture__env"]) assert.ok(names.includes(n), n)
        for (const n of names) assert.match(n, /^[a-zA-Z0-9_-]{1,64}$/)

        const env = JSON.parse(text(await s.client.callTool({ name: "fixture__env", arguments: { name: "TOKEN" } }))) as { sha256: string; names: string[] }
        assert.equal(env.sha256, sha(planted), "the child did not receive the exact value")
        // the one exception, the mark that lets a left-over process be found (see downstream/stdio.ts)
        assert.deepEqual(env.names.filter(n => n.startsWith("MCPLEXER") && n !== "MCPLEXER_INSTANCE"), [])

        const all = text(await s.client.callTool({ name: "everything__get-env", arguments: {} }))
        assert.match(all, /"TOKEN":\s*"\[redacted\]"/)
        assert.doesNotMatch(all, /MCPLEXER_(?!INSTANCE")/)

        const echo = text(await s.client.callTool({ name: "everything__echo", arguments: { message: `say ${planted}` } }))
        assert.equal(echo, "Echo: say [redacted]")

        await s.client.callTool({ name: "memory__create_entities", arguments: { entities: [{ name: "mcplexer", entityType: "project", observations: ["works"] }] } })
        assert.match(text(await s.client.callTool({ name: "memory__read_graph", arguments: {} })), /"mcplexer"/)
        await assertClean(s)
    } finally {
        await s.close()
    }
})

test("a missing secret fails that server alone, naming the fix", async () => {
    const s = await session()
    try {
        const r = await s.client.callTool({ name: "broken__echo", arguments: { text: "x" } }).catch((e: Error) => ({ isError: true, content: [{ type: "text", text: e.message }] }))
        assert.equal((r as { isError?: boolean }).isError, true)
        assert.match(text(r), /mcplexer secret put gh MISSING_KEY/)
        assert.equal(text(await s.client.callTool({ name: "everything__echo", arguments: { message: "still here" } })), "Echo: still here")
        // the fix it names works without restarting serve
        assert.equal((await run(s.home, ["secret", "put", "gh", "MISSING_KEY"], { input: "now-it-is-here" })).code, 0)
        const fixed = await s.client.callTool({ name: "broken__echo", arguments: { text: "back" } })
        assert.notEqual((fixed as { isError?: boolean }).isError, true, text(fixed))
    } finally {
        await s.close()
    }
})

test("a secret changed in another terminal reaches the running serve within seconds", async () => {
    const s = await session()
    try {
        const before = JSON.parse(text(await s.client.callTool({ name: "fixture__env", arguments: { name: "TOKEN" } }))) as { sha256: string }
        assert.equal(before.sha256, sha(planted))
        const next = "ghp_rotatedVALUE-91c2-after-the-change"
        assert.equal((await run(s.home, ["secret", "put", "gh", "TOKEN"], { input: next })).code, 0)
        let after = ""
        const t0 = Date.now()
        while (Date.now() - t0 < 8000) {
            await new Promise(r => setTimeout(r, 250))
            const r = await s.client.callTool({ name: "fixture__env", arguments: { name: "TOKEN" } }).catch(() => undefined)
            if (!r || (r as { isError?: boolean }).isError) continue
            after = (JSON.parse(text(r)) as { sha256: string }).sha256
            if (after === sha(next)) break
        }
        assert.equal(after, sha(next), "the new value never reached the downstream")
        assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`)
        assert.ok(!s.seen.join("\n").includes(next))
    } finally {
        await s.close()
    }
})

test("closing stdin stops serve and every downstream process", async () => {
    const s = await session()
    const r = text(await s.client.callTool({ name: "fixture__pid", arguments: {} }))
    const child = (JSON.parse(r) as { pid: number }).pid
    await s.client.callTool({ name: "everything__echo", arguments: { message: "start it" } })
    assert.ok(alive(child))
    await s.close()
    assert.ok(await gone(s.pid), "serve is still running")
    assert.ok(await gone(child), "the downstream outlived serve")
})

test("SIGTERM stops serve and takes a busy downstream with it", async () => {
    const s = await session()
    const child = (JSON.parse(text(await s.client.callTool({ name: "fixture__pid", arguments: {} }))) as { pid: number }).pid
    const slow = s.client.callTool({ name: "fixture__slow", arguments: { ms: 60000 } }).catch(() => "ended")
    await new Promise(r => setTimeout(r, 300))
    process.kill(s.pid, "SIGTERM")
    assert.ok(await gone(s.pid), "serve ignored SIGTERM")
    assert.ok(await gone(child), "orphaned downstream")
    await slow
    await s.close().catch(() => undefined)
})

test("a client that disconnects mid-call leaves no process behind", async () => {
    const s = await session()
    const child = (JSON.parse(text(await s.client.callTool({ name: "fixture__pid", arguments: {} }))) as { pid: number }).pid
    void s.client.callTool({ name: "fixture__slow", arguments: { ms: 60000 } }).catch(() => undefined)
    await new Promise(r => setTimeout(r, 300))
    await s.close()
    assert.ok(await gone(s.pid), "serve is still running")
    assert.ok(await gone(child), "orphaned downstream")
})

test("serve writes nothing but JSON-RPC to stdout", async () => {
    const home = await fresh(null)
    await writeFile(join(home, "config.yaml"), configFor(home))
    await run(home, ["secret", "put", "gh", "TOKEN"], { input: planted })
    const child = spawn(process.execPath, [cli, "serve", "--log-level", "debug"], { env: { PATH: process.env.PATH, HOME: home, MCPLEXER_HOME: home } })
    let out = ""
    child.stdout.setEncoding("utf8").on("data", (d: string) => { out += d })
    const send = (m: object) => child.stdin.write(JSON.stringify(m) + "\n")
    send({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } } })
    send({ jsonrpc: "2.0", method: "notifications/initialized" })
    send({ jsonrpc: "2.0", id: 2, method: "tools/list" })
    send({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "fixture__garbage", arguments: {} } })
    send({ jsonrpc: "2.0", id: 4, method: "tools/call", params: { name: "fixture__stderr", arguments: { line: `stderr says ${planted}` } } })
    for (const end = Date.now() + 20000; Date.now() < end && !out.includes('"id":4'); ) await new Promise(r => setTimeout(r, 50))
    child.stdin.end()
    await new Promise(r => child.on("close", r))
    const lines = out.split("\n").filter(Boolean)
    assert.ok(lines.length >= 4, out)
    for (const l of lines) assert.equal((JSON.parse(l) as { jsonrpc: string }).jsonrpc, "2.0", l)
    assert.ok(!out.includes(planted))
    const log = await readFile(join(home, "mcplexer.log"), "utf8")
    assert.match(log, /stderr says \[redacted\]/)
    assert.ok(!log.includes(planted))
})

test("a client that stops reading serve's stdout stops serve cleanly, downstreams included", async () => {
    const home = await fresh(null)
    await writeFile(join(home, "config.yaml"), configFor(home))
    await run(home, ["secret", "put", "gh", "TOKEN"], { input: planted })
    const child = spawn(process.execPath, [cli, "serve"], { env: { PATH: process.env.PATH, HOME: home, MCPLEXER_HOME: home }, stdio: ["pipe", "pipe", "pipe"] })
    const exited = new Promise<number | null>(resolve => child.on("exit", code => resolve(code)))
    let out = "", err = ""
    child.stdout.setEncoding("utf8").on("data", (d: string) => { out += d })
    child.stderr.setEncoding("utf8").on("data", (d: string) => { err += d })
    const send = (m: object) => child.stdin.write(JSON.stringify(m) + "\n")
    send({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } } })
    send({ jsonrpc: "2.0", method: "notifications/initialized" })
    send({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "fixture__pid", arguments: {} } })
    for (const end = Date.now() + 20000; Date.now() < end && !out.includes('"id":2'); ) await new Promise(r => setTimeout(r, 50))
    const pid = (JSON.parse(/"text":"(\{[^}]*\})"/.exec(out)?.[1]?.replaceAll('\\"', '"') ?? "{}") as { pid?: number }).pid
    assert.ok(pid !== undefined && alive(pid), `no downstream pid in ${out}`)
    // the read end goes away; the next answer meets EPIPE, with stdin still open
    child.stdout.destroy()
    send({ jsonrpc: "2.0", id: 3, method: "ping" })
    send({ jsonrpc: "2.0", id: 4, method: "ping" })
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000)
    assert.equal(await exited, 0, err)
    clearTimeout(timer)
    assert.ok(await gone(pid), "orphaned downstream")
    assert.match(await readFile(join(home, "mcplexer.log"), "utf8"), /stopping: the client closed stdout/)
})
