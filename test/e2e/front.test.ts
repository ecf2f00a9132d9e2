/**
 * serve's front (internal/gateway/front.ts): a plain `mcplexer serve` answers initialize and the
 * lists from the answers the gateway saved last time, when nothing they depend on moved, then
 * hands the connection to the gateway. To tell the saved answers from fresh ones, the tests
 * change a description in the saved copy: seen by the client, it came from the front.
 */
import assert from "node:assert/strict"
import { spawn } from "node:child_process"
import { appendFile, readFile, stat, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { test } from "node:test"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import { ListRootsRequestSchema } from "@modelcontextprotocol/sdk/types.js"
import Database from "better-sqlite3"
import { cli, fresh, root, run } from "../helpers.ts"

const planted = "ghp_frontPLANTED-3c8e1b7d-never-saved"
const tsx = import.meta.resolve("tsx")
const server = join(root, "test", "fixtures", "gw-server.ts")

function config(): string {
    const entry = (name: string, extra = "") =>
        `  ${name}: { command: ${JSON.stringify(process.execPath)}, args: ["--import", ${JSON.stringify(tsx)}, ${JSON.stringify(server)}], env: { GW_NAME: ${name}, TOKEN: "\${secret:gh/TOKEN}" }${extra} }`
    return ["auth_scopes:", "  gh: { description: front tests }", "servers:", entry("alpha", ", scope: gh"), entry("beta"), ""].join("\n")
}

async function home(): Promise<string> {
    const h = await fresh(null)
    await writeFile(join(h, "config.yaml"), config())
    assert.equal((await run(h, ["secret", "put", "gh", "TOKEN"], { input: planted })).code, 0)
    return h
}

/** A client of a plain `mcplexer serve` (what takes the front); `roots` makes it offer roots. */
async function connect(h: string, roots?: string[]): Promise<{ client: Client; stderr: () => string; pid: number }> {
    const transport = new StdioClientTransport({
        command: process.execPath, args: [cli, "serve"],
        env: { PATH: process.env.PATH ?? "", HOME: h, MCPLEXER_HOME: h }, stderr: "pipe", cwd: h,
    })
    let stderr = ""
    transport.stderr?.on("data", (d: Buffer) => { stderr += d.toString() })
    const client = new Client({ name: "front-e2e", version: "1.0.0" }, roots === undefined ? {} : { capabilities: { roots: {} } })
    if (roots !== undefined) client.setRequestHandler(ListRootsRequestSchema, () => ({ roots: roots.map(uri => ({ uri })) }))
    await client.connect(transport)
    return { client, stderr: () => stderr, pid: transport.pid ?? 0 }
}

/**
 * Two sessions that list: the first learns the catalogs (answers given while a catalog is being
 * stored are not saved), the second saves its answers.
 */
async function warm(h: string, roots?: string[]): Promise<void> {
    for (let i = 0; i < 2; i++) {
        const c = await connect(h, roots)
        await c.client.listTools()
        await c.client.close()
    }
}

/** Changes the saved description of alpha__echo in every saved answer. */
async function tamper(h: string, text: string): Promise<void> {
    const path = join(h, "answers.json")
    const saved = await readFile(path, "utf8")
    assert.ok(saved.includes("echo of alpha"), "the tools/list answer was saved")
    await writeFile(path, saved.replaceAll("echo of alpha", text))
}

const described = async (c: Client) => (await c.listTools()).tools.find(t => t.name === "alpha__echo")?.description

test("the second serve answers from the saved answers, then serves calls as the gateway", async () => {
    const h = await home()
    await warm(h)
    const saved = await readFile(join(h, "answers.json"), "utf8")
    assert.equal((await stat(join(h, "answers.json"))).mode & 0o777, 0o600)
    assert.ok(!saved.includes(planted), "a secret value is in answers.json")
    const entries = (JSON.parse(saved) as { entries: Array<{ initialize: { instructions?: string } }> }).entries
    assert.match(entries[0]?.initialize.instructions ?? "", /alpha answers the gateway tests/)

    await tamper(h, "echo of alpha, from the front")
    const second = await connect(h)
    assert.equal(await described(second.client), "echo of alpha, from the front")
    assert.equal(second.client.getServerVersion()?.name, "mcplexer")
    assert.deepEqual((await second.client.listPrompts()).prompts.map(p => p.name).sort(), ["alpha__greet", "beta__greet"])
    // after the handoff: calls, with the client known to the gateway (its name is the audit actor)
    const r = await second.client.callTool({ name: "alpha__echo", arguments: { text: "hi" } })
    assert.equal((r.content as Array<{ text: string }>)[0]?.text, "alpha: hi")
    await second.client.ping()
    await second.client.close()
    const db = new Database(join(h, "mcplexer.db"), { readonly: true })
    const actors = db.prepare("SELECT actor FROM audit WHERE action = 'call'").pluck().all()
    db.close()
    assert.ok(actors.length > 0)
    for (const a of actors) assert.equal(a, "front-e2e")
})

test("a changed config or a relearned catalog is never answered from the saved answers", async () => {
    const h = await home()
    await warm(h)
    await tamper(h, "stale")
    await appendFile(join(h, "config.yaml"), "# a comment changes the text\n")
    const a = await connect(h)
    assert.equal(await described(a.client), "echo of alpha")
    await a.client.close()

    await tamper(h, "stale")
    const db = new Database(join(h, "mcplexer.db"))
    db.prepare("UPDATE catalog SET updated_at = updated_at + 1 WHERE server = 'beta'").run()
    db.close()
    const b = await connect(h)
    assert.equal(await described(b.client), "echo of alpha")
    await b.client.close()
})

test("a client with roots gets the answers saved for the same roots, and fresh ones for others", async () => {
    const h = await home()
    await warm(h, ["file:///work/acme"])
    await tamper(h, "for acme")
    const same = await connect(h, ["file:///work/acme"])
    assert.equal(await described(same.client), "for acme")
    await same.client.close()
    const other = await connect(h, ["file:///work/other"])
    assert.equal(await described(other.client), "echo of alpha")
    await other.client.close()
    // and a client without roots (serve's working folder) has answers of its own
    const none = await connect(h)
    assert.equal(await described(none.client), "echo of alpha")
    await none.client.close()
})

test("a client that goes away while the front serves it ends serve", async () => {
    const h = await home()
    await warm(h)
    const child = spawn(process.execPath, [cli, "serve"], { env: { PATH: process.env.PATH ?? "", HOME: h, MCPLEXER_HOME: h }, stdio: ["pipe", "pipe", "pipe"] })
    const exited = new Promise<number | null>(resolve => child.on("exit", code => resolve(code)))
    let out = ""
    child.stdout.on("data", (d: Buffer) => { out += d.toString() })
    child.stdin.write(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "x", version: "1" } } }) + "\n")
    for (let i = 0; i < 100 && !out.includes('"id":1'); i++) await new Promise(r => setTimeout(r, 50))
    assert.match(out, /"serverInfo":\{"name":"mcplexer"/)
    child.stdin.end()
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000)
    assert.equal(await exited, 0)
    clearTimeout(timer)
})
