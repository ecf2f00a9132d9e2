/** Shared test helpers: a fresh MCPLEXER_HOME per test, and the built CLI run as a user would. */
import { spawn, type ChildProcess } from "node:child_process"
import { writeFile } from "node:fs/promises"
import { join, resolve } from "node:path"
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js"
import { temp } from "../bench/temp.ts"

export { temp }

export const root = resolve(import.meta.dirname, "..")
export const cli = join(root, "dist", "mcplexer.js")

/**
 * `mcplexer serve --http 127.0.0.1:0` (and `args`) from the sources, so that a test sees this
 * checkout without a build, in the process itself (tsx imported, not its launcher: a signal reaches
 * serve). Resolves once serve says where it listens: the process, the URL before `/mcp`, and its
 * stderr so far; rejects if it exits first.
 */
export async function serveHttp(home: string, o: { cwd?: string; args?: string[] } = {}): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, MCPLEXER_HOME: home }
    const argv = ["--import", import.meta.resolve("tsx"), join(root, "cmd", "mcplexer.ts"), "serve", "--http", "127.0.0.1:0", ...o.args ?? []]
    const child = spawn(process.execPath, argv, { env, cwd: o.cwd ?? root, stdio: ["ignore", "ignore", "pipe"] })
    let err = ""
    const url = await new Promise<string>((done, fail) => {
        child.stderr.setEncoding("utf8").on("data", (d: string) => {
            err += d
            const m = /serving MCP over HTTP at (http:\/\/\S+)\/mcp/.exec(err)
            if (m) done(m[1]!)
        })
        child.on("close", code => fail(new Error(`serve exited (${code}) before listening:\n${err}`)))
    })
    return { child, url, stderr: () => err }
}

/** A minimal config declaring the scopes the tests use. */
export const baseConfig = `auth_scopes:
  gh: { description: test GitHub scope }
  acme: { description: test ACME scope }
servers: {}
`

/** Creates a new, empty MCPLEXER_HOME; with a config unless `config` is null. */
export async function fresh(config: string | null = baseConfig): Promise<string> {
    const home = temp()
    if (config !== null) await writeFile(join(home, "config.yaml"), config)
    return home
}

export interface Result { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

export interface RunOptions { input?: string; env?: Record<string, string | undefined> }

/** Runs the built CLI in `home` with only the environment a test gives it. */
export function run(home: string, args: string[], o: RunOptions = {}): Promise<Result> {
    const env: Record<string, string> = {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: home,
        MCPLEXER_HOME: home,
    }
    for (const [k, v] of Object.entries(o.env ?? {})) {
        if (v === undefined) delete env[k]
        else env[k] = v
    }
    return new Promise((done, fail) => {
        const child = spawn(process.execPath, [cli, ...args], { env, stdio: ["pipe", "pipe", "pipe"] })
        let stdout = "", stderr = ""
        child.stdout.setEncoding("utf8").on("data", (d: string) => { stdout += d })
        child.stderr.setEncoding("utf8").on("data", (d: string) => { stderr += d })
        child.on("error", fail)
        child.on("close", (code, signal) => done({ code, signal, stdout, stderr }))
        // a command that exits without reading its input may close the pipe first (EPIPE): its
        // output and exit code are the result, not the write
        child.stdin.on("error", () => { /* see above */ })
        child.stdin.end(o.input ?? "")
    })
}

/** Records every message `t` receives, as JSON text, into `seen`, before its client sees it. */
export function tap(t: Transport, seen: string[]): void {
    const start = t.start.bind(t)
    t.start = async () => {
        const deliver = t.onmessage
        t.onmessage = (m, extra) => { seen.push(JSON.stringify(m)); deliver?.(m, extra) }
        return start()
    }
}
