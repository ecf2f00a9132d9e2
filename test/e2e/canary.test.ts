/**
 * The planted-canary matrix: one real `serve --http … --stdio` in front of a downstream that tries
 * every way of leaking the secrets it was given (test/fixtures/canary-server.ts), and every way
 * out of mcplexer searched for them: the stdio client, the HTTP client, mcplexer.log and serve's
 * stderr, the audit trail, the REST API, the web UI, and the CLI's output. A secret counts as
 * leaked when its value, any line of it, or the middle of any encoded form of it shows anywhere.
 */
import assert from "node:assert/strict"
import { randomBytes } from "node:crypto"
import { readFile, writeFile } from "node:fs/promises"
import { createServer } from "node:net"
import { join } from "node:path"
import { after, before, describe, test } from "node:test"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { encode } from "../fixtures/canary-server.ts"
import { cli, fresh, root, run, tap } from "../helpers.ts"

const tsx = import.meta.resolve("tsx")
const fixture = join(root, "test", "fixtures", "canary-server.ts")
const rand = () => randomBytes(9).toString("base64url")

// made at run time; the plain one holds characters every encoding changes
const plain = `cAnary"q\\ x=1&y/${rand()}`
const run40k = "R".repeat(40 * 1024)
const pem = ["-----BEGIN CANARY KEY-----", `MIIcanary${rand()}${rand()}`, `QUJDcanary${rand()}${rand()}`, "-----END CANARY KEY-----"].join("\n")
const big = randomBytes(768 * 1024).toString("base64").slice(0, 1024 * 1024)
const forms = ["plain", "base64", "base64url", "base64-1", "base64-2", "basic", "json", "url", "hex", "HEX"]

/** What must never show for `value` in `form`: the middle of its encoding (the edges of a shifted base64 depend on its neighbours). */
function marks(value: string, form = "plain"): string[] {
    const e = encode(value, form)
    const out = [e.length > 16 ? e.slice(5, -5) : e]
    if (form === "plain") for (const line of value.split("\n")) if (line.length >= 16 && !line.startsWith("-----")) out.push(line)
    // a split sends each half on its own: neither may show
    if (e.length >= 16) out.push(e.slice(2, Math.floor(e.length / 2)), e.slice(Math.floor(e.length / 2), -2))
    return out
}

interface Case { name: string; args: Record<string, unknown>; marks: string[]; cli?: boolean }

const cases: Case[] = [
    ...forms.map(form => ({ name: `the plain value as ${form}`, args: { key: "PLAIN", form, how: "text" }, marks: marks(plain, form), cli: true })),
    ...forms.filter(f => f !== "plain").map(form => ({ name: `the PEM as ${form}`, args: { key: "PEM", form, how: "text" }, marks: marks(pem, form) })),
    { name: "a 40 KiB run of one character", args: { key: "RUN", how: "text" }, marks: [run40k.slice(0, 4096)], cli: true },
    { name: "a 4-line PEM", args: { key: "PEM", how: "text" }, marks: marks(pem), cli: true },
    { name: "a 1 MB value from a secret:// argument", args: { value: "secret://big/BIG", how: "text" }, marks: [big.slice(1000, 1100), big.slice(-200)], cli: true },
    { name: "a value split across two content items", args: { key: "PLAIN", how: "items" }, marks: marks(plain), cli: true },
    { name: "a base64 value split across two content items", args: { key: "PLAIN", form: "base64", how: "items" }, marks: marks(plain, "base64") },
    { name: "a value split across two progress notifications", args: { key: "PLAIN", how: "progress" }, marks: marks(plain) },
    { name: "a value split across two log notifications", args: { key: "PLAIN", how: "log" }, marks: marks(plain) },
    { name: "a garbage line starting with the value", args: { key: "PLAIN", how: "garbage" }, marks: marks(plain) },
    { name: "a value split across two stderr chunks", args: { key: "PLAIN", how: "stderr" }, marks: marks(plain) },
    { name: "a PEM on stderr", args: { key: "PEM", how: "stderr" }, marks: marks(pem) },
    { name: "a value in an error", args: { key: "PLAIN", how: "error" }, marks: marks(plain), cli: true },
]

async function freePort(): Promise<number> {
    const s = createServer()
    await new Promise<void>(r => s.listen(0, "127.0.0.1", r))
    const port = (s.address() as { port: number }).port
    await new Promise(r => s.close(r))
    return port
}

/** Records every message a client transport delivers. */
describe("the canary matrix: no planted secret leaves by any way out", () => {
    let home: string
    let work: string
    let base: string
    let token: string
    let stdio: Client
    let http: Client
    const seen = { stdio: [] as string[], http: [] as string[], progress: [] as string[], cli: [] as string[] }
    let stderr = ""
    const env = () => ({ PATH: process.env.PATH ?? "", HOME: home, MCPLEXER_HOME: home })

    before(async () => {
        home = await fresh(null)
        work = await fresh(null)
        const node = JSON.stringify(process.execPath)
        const server = `{ command: ${node}, args: ["--import", ${JSON.stringify(tsx)}, ${JSON.stringify(fixture)}], scope: canary }`
        await writeFile(join(home, "config.yaml"), `auth_scopes:
  canary: { description: planted canaries }
  big: { description: a 1 MB canary passed as an argument only }
servers:
  canary: ${server}
  gate: ${server}
workspaces:
  here:
    root: ${JSON.stringify(work)}
    routes:
      - { tools: ["gate__*"], approval: all, approval_timeout: 60s }
      - { tools: ["canary__*"], scopes: [big] }
`)
        for (const [scope, key, value] of [["canary", "PLAIN", plain], ["canary", "RUN", run40k], ["canary", "PEM", pem], ["big", "BIG", big]] as const) {
            const r = await run(home, ["secret", "put", scope, key], { input: value })
            assert.equal(r.code, 0, r.stderr)
        }
        token = (await run(home, ["token"])).stdout.trim()
        const port = await freePort()
        base = `http://127.0.0.1:${port}`
        const t = new StdioClientTransport({ command: process.execPath, args: [cli, "serve", "--http", `127.0.0.1:${port}`, "--stdio", "--log-level", "debug"], env: env(), cwd: work, stderr: "pipe" })
        t.stderr?.on("data", (d: Buffer) => { stderr += d.toString() })
        tap(t, seen.stdio)
        stdio = new Client({ name: "canary-stdio", version: "1.0.0" })
        await stdio.connect(t)
        await stdio.setLoggingLevel("debug")
        const h = new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } })
        tap(h, seen.http)
        http = new Client({ name: "canary-http", version: "1.0.0" })
        await http.connect(h)
        await http.setLoggingLevel("debug")
    })
    after(async () => {
        await http?.close()
        await stdio?.close()
    })

    for (const c of cases) {
        test(`${c.name}: not in what either client receives`, async () => {
            for (const client of [stdio, http]) {
                try {
                    await client.callTool({ name: "canary__emit", arguments: c.args }, undefined, {
                        onprogress: p => { seen.progress.push(JSON.stringify(p)) }, timeout: 30_000,
                    })
                } catch (e) {
                    seen.progress.push(String(e))
                }
            }
            if (c.cli) {
                const r = await run(home, ["call", "canary__emit", "--args", JSON.stringify(c.args), "--json"])
                seen.cli.push(r.stdout, r.stderr)
            }
            // the messages of this case, both clients: a late notification of the case before is checked too
            await new Promise(r => setTimeout(r, 100))
            for (const [where, text] of [["stdio client", seen.stdio.join("\n")], ["HTTP client", seen.http.join("\n")], ["progress", seen.progress.join("\n")], ["CLI", seen.cli.join("\n")]] as const) {
                for (const m of c.marks) assert.ok(!text.includes(m), `${where} shows ${JSON.stringify(m.slice(0, 40))}… of ${c.name}`)
            }
            // the secret did reach the downstream: the client sees the mask where it was
            if (c.args.how === "text") assert.match(seen.stdio.at(-1) ?? "", /\[redacted/, seen.stdio.slice(-3).join("\n") + seen.progress.join("\n"))
        })
    }

    describe("and none of them is in what is kept or served afterwards", () => {
        const everything = () => cases.flatMap(c => c.marks)
        let cookie = ""

        before(async () => {
            // a call waiting for approval holds the plain value in its arguments
            const waiting = stdio.callTool({ name: "gate__emit", arguments: { note: `with ${plain} inside`, b64: encode(plain, "base64") } })
            for (let i = 0; i < 100 && !(await api("/api/v1/approvals")).includes("gate__emit"); i++) await new Promise(r => setTimeout(r, 100))
            const login = await fetch(`${base}/login`, { method: "POST", redirect: "manual", body: new URLSearchParams({ token }), headers: { origin: base } })
            cookie = login.headers.get("set-cookie")?.split(";")[0] ?? ""
            // a login lives at its own address, /s/<key>/, with its cookie scoped to it
            const at = (login.headers.get("location") ?? "").replace(/\/$/, "")
            pages = await Promise.all(["/", "/audit", "/approvals", "/secrets", "/servers", "/tools", "/tools?q=emit", "/audit.csv", "/audit.json"].map(async p => (await fetch(`${base}${at}${p}`, { headers: { cookie } })).text()))
            // the console's event stream: its first event
            const events = await fetch(`${base}${at}/events`, { headers: { cookie } })
            const reader = events.body!.getReader()
            pages.push(new TextDecoder().decode((await reader.read() as { value?: Uint8Array }).value))
            await reader.cancel()
            rest = await Promise.all(["/api/v1/approvals", "/api/v1/audit", "/api/v1/servers", "/api/v1/catalog", "/api/v1/scopes",
                "/api/v1/tools", "/api/v1/tools?q=emit", "/api/v1/leases", "/api/v1/audit?format=csv", "/api/v1/audit?format=json", "/metrics"].map(api))
            const id = /"id":(\d+)/.exec(rest[0] ?? "")?.[1]
            await fetch(`${base}/api/v1/approvals/${id}/deny`, { method: "POST", headers: { authorization: `Bearer ${token}`, origin: base } })
            await waiting
        })
        let pages: string[] = []
        let rest: string[] = []
        const api = async (p: string) => (await fetch(`${base}${p}`, { headers: { authorization: `Bearer ${token}` } })).text()

        test("the REST API", () => {
            assert.match(rest[0] ?? "", /gate__emit/)
            assert.match(rest[0] ?? "", /\[redacted\]/)
            assert.match(rest[5] ?? "", /canary__emit/)
            assert.match(rest.at(-1) ?? "", /mcplexer_tool_calls_total\{server="canary",tool="canary__emit"/)
            for (const m of everything()) assert.ok(!rest.join("\n").includes(m), `REST shows ${JSON.stringify(m.slice(0, 40))}`)
        })

        test("the web UI", () => {
            assert.match(pages[2] ?? "", /gate__emit/)
            assert.match(pages[5] ?? "", /canary__emit/)
            assert.match(pages[7] ?? "", /canary__emit/)
            assert.match(pages.at(-1) ?? "", /event: approvals\ndata: 1/)
            for (const m of everything()) assert.ok(!pages.join("\n").includes(m), `the UI shows ${JSON.stringify(m.slice(0, 40))}`)
        })

        test("mcplexer.log and serve's stderr", async () => {
            const log = await readFile(join(home, "mcplexer.log"), "utf8")
            // the downstream's stderr did reach the log, masked
            assert.match(log, /fixture: .*\[redacted/)
            for (const m of everything()) {
                assert.ok(!log.includes(m), `mcplexer.log shows ${JSON.stringify(m.slice(0, 40))}`)
                assert.ok(!stderr.includes(m), `serve's stderr shows ${JSON.stringify(m.slice(0, 40))}`)
            }
        })

        test("the audit trail and the CLI's other commands", async () => {
            const outs = await Promise.all([["audit", "--json"], ["status", "--json"], ["tools", "--json"], ["approvals", "--all", "--json"]].map(a => run(home, a)))
            const text = outs.map(r => r.stdout + r.stderr).join("\n")
            assert.match(text, /canary__emit/)
            for (const m of everything()) assert.ok(!text.includes(m), `the CLI shows ${JSON.stringify(m.slice(0, 40))}`)
            // the database holds no value in the clear, whatever table
            for (const file of ["mcplexer.db", "mcplexer.db-wal"]) {
                const db = await readFile(join(home, file)).catch(() => Buffer.alloc(0))
                for (const m of [plain, run40k.slice(0, 4096), big.slice(0, 100)]) assert.equal(db.indexOf(m), -1, `${file} holds a value in the clear`)
            }
        })
    })
})
