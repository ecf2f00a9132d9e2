/**
 * HTTP load (issue 5): `mcplexer serve --http --stdio` in front of server-everything, 200
 * Streamable HTTP sessions calling `echo` at once for a bounded time (30 s here; the test
 * test/httpapi/load.test.ts runs it for 10 s), then the stdio path of the same process under the
 * same number of calls in flight. Reports sessions held, calls served, errors, and p50/p99 latency
 * as ratios to the stdio path.
 *
 * Environment: BENCH_CLI (the built CLI, default dist/mcplexer.js), BENCH_SECONDS (default 30),
 * BENCH_SESSIONS (default 200).
 */
import { spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import { mkdtemp, readFile, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { z } from "zod"
import { quantile, x } from "./stats.ts"

const root = resolve(import.meta.dirname, "..")
const everything = join(root, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js")
const node = process.execPath
const EchoResult = z.looseObject({ content: z.array(z.looseObject({ type: z.string(), text: z.string().optional() })) })

/** What one load run measured. */
export interface Load {
    sessions: number
    /** the most sessions the server reported holding at once during the run */
    held: number
    calls: number
    errors: number
    firstError?: string
    seconds: number
    /** serve's own CPU time (user + system) per call, ms: what mcplexer costs, apart from the clients */
    http: { p50: number; p99: number; cpu: number }
    stdio: { p50: number; p99: number; calls: number; errors: number; cpu: number }
}

/** CPU time in ms a process has used so far (Linux /proc; NaN elsewhere). */
async function cpu(pid: number | undefined): Promise<number> {
    if (pid === undefined) return NaN
    try {
        const f = (await readFile(`/proc/${pid}/stat`, "utf8")).replace(/^.*\) /s, "").split(" ")
        return (Number(f[11]) + Number(f[12])) * 1000 / 100
    } catch {
        return NaN
    }
}

/** The command that runs the CLI: the build when there is one, else the sources under tsx. */
function command(): string[] {
    const built = resolve(process.env.BENCH_CLI ?? join(root, "dist", "mcplexer.js"))
    if (existsSync(built)) return [built]
    return [join(root, "node_modules", "tsx", "dist", "cli.mjs"), join(root, "cmd", "mcplexer.ts")]
}

async function echo(c: Client, message: string): Promise<void> {
    const r = await c.request({ method: "tools/call", params: { name: "everything__echo", arguments: { message } } }, EchoResult)
    if (r.content[0]?.text !== `Echo: ${message}`) throw new Error(`unexpected echo result ${JSON.stringify(r)}`)
}

/** Calls `echo` from `workers` loops until `until`, each on `client(i)`; latencies in ms. */
async function hammer(workers: number, client: (i: number) => Client, until: number): Promise<{ ms: number[]; errors: number; first?: string }> {
    const ms: number[] = []
    let errors = 0
    let first: string | undefined
    await Promise.all(Array.from({ length: workers }, async (_, i) => {
        const c = client(i)
        for (let n = 0; Date.now() < until; n++) {
            const t = performance.now()
            try {
                await echo(c, `s${i}-${n}`)
                ms.push(performance.now() - t)
            } catch (e) {
                errors++
                first ??= e instanceof Error ? e.message : String(e)
            }
        }
    }))
    return { ms, errors, ...(first === undefined ? {} : { first }) }
}

/** Runs the load: `sessions` HTTP sessions for `seconds`, then the stdio path for as long. */
export async function load(o: { sessions?: number; seconds?: number } = {}): Promise<Load> {
    const sessions = o.sessions ?? 200
    const seconds = o.seconds ?? 30
    const home = await mkdtemp(join(tmpdir(), "mcplexer-bench-"))
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, MCPLEXER_HOME: home }
    await writeFile(join(home, "config.yaml"), `servers:\n  everything:\n    command: ${JSON.stringify(node)}\n    args: [${JSON.stringify(everything)}]\n`)
    const cli = command()
    const token = spawnSync(node, [...cli, "token"], { env, encoding: "utf8" }).stdout.trim()
    if (!token) throw new Error("mcplexer token printed nothing")

    // one process serves both: HTTP for the sessions, stdio for the baseline
    const stdioTransport = new StdioClientTransport({ command: node, args: [...cli, "serve", "--http", "127.0.0.1:0", "--stdio", "--log-level", "info"], env, stderr: "pipe" })
    let err = ""
    let url: (u: string) => void = () => {}
    const base = new Promise<string>(done => { url = done })
    stdioTransport.stderr?.on("data", (b: Buffer) => {
        err = (err + b.toString()).slice(-8000)
        const m = /serving MCP over HTTP at (http:\/\/\S+)\/mcp/.exec(err)
        if (m) url(m[1]!)
    })
    const stdio = new Client({ name: "bench-stdio", version: "0.0.0" })
    const clients: Client[] = []
    try {
        await stdio.connect(stdioTransport)
        const at = await Promise.race([base, new Promise<string>((_, fail) => setTimeout(() => fail(new Error(`no HTTP address in serve's stderr:\n${err}`)), 15_000))])
        await echo(stdio, "warm")

        for (let i = 0; i < sessions; i++) {
            const c = new Client({ name: `bench-http-${i}`, version: "0.0.0" })
            await c.connect(new StreamableHTTPClientTransport(new URL(`${at}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }))
            clients.push(c)
        }
        let held = 0
        const watch = setInterval(() => {
            fetch(`${at}/api/v1/health`, { headers: { authorization: `Bearer ${token}` } })
                .then(r => r.json() as Promise<{ sessions: number }>)
                .then(h => { held = Math.max(held, h.sessions) }, () => { /* counted as it can */ })
        }, 500)
        const pid = stdioTransport.pid ?? undefined
        const t0 = Date.now()
        const c0 = await cpu(pid)
        const h = await hammer(sessions, i => clients[i]!, t0 + seconds * 1000)
        const took = (Date.now() - t0) / 1000
        const httpCpu = (await cpu(pid) - c0) / Math.max(1, h.ms.length)
        clearInterval(watch)
        await Promise.allSettled(clients.map(async c => {
            await (c.transport as StreamableHTTPClientTransport).terminateSession()
            await c.close()
        }))

        // the stdio path: one session, the same number of calls in flight, a third of the time
        const c1 = await cpu(pid)
        const s = await hammer(sessions, () => stdio, Date.now() + Math.max(3, seconds / 3) * 1000)
        const stdioCpu = (await cpu(pid) - c1) / Math.max(1, s.ms.length)
        return {
            sessions, held, calls: h.ms.length, errors: h.errors, ...(h.first === undefined ? {} : { firstError: h.first }), seconds: took,
            http: { p50: quantile(h.ms, 0.5), p99: quantile(h.ms, 0.99), cpu: httpCpu },
            stdio: { p50: quantile(s.ms, 0.5), p99: quantile(s.ms, 0.99), calls: s.ms.length, errors: s.errors, cpu: stdioCpu },
        }
    } finally {
        await Promise.allSettled(clients.map(c => c.close()))
        await stdio.close()
    }
}

/** Prints one run's figures. */
export function report(r: Load): string {
    const f = (n: number) => `${n.toFixed(1)} ms`
    return [
        `sessions: ${r.sessions} opened, ${r.held} held at once (server's count)`,
        `calls served over HTTP: ${r.calls} in ${r.seconds.toFixed(1)} s (${Math.round(r.calls / r.seconds)}/s), errors: ${r.errors}${r.firstError ? ` (first: ${r.firstError})` : ""}`,
        `latency over HTTP, ${r.sessions} sessions: p50 ${f(r.http.p50)}, p99 ${f(r.http.p99)}`,
        `latency over stdio, ${r.sessions} calls in flight on one session: p50 ${f(r.stdio.p50)}, p99 ${f(r.stdio.p99)} (${r.stdio.calls} calls, ${r.stdio.errors} errors)`,
        `HTTP / stdio: p50 ${x(r.http.p50 / r.stdio.p50)}, p99 ${x(r.http.p99 / r.stdio.p99)}`,
        `serve's CPU per call: HTTP ${r.http.cpu.toFixed(3)} ms, stdio ${r.stdio.cpu.toFixed(3)} ms (${x(r.http.cpu / r.stdio.cpu)}); the rest of the latency is the clients' side and the machine`,
    ].join("\n")
}

/** `npm run bench http`: the 30-second run. */
export async function run(): Promise<void> {
    const r = await load({ seconds: Number(process.env.BENCH_SECONDS ?? 30), sessions: Number(process.env.BENCH_SESSIONS ?? 200) })
    console.log(report(r))
}
