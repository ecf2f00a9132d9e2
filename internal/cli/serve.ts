import { rmSync } from "node:fs"
import { join } from "node:path"
import * as config from "../config/index.ts"
import * as gateway from "../gateway/index.ts"
import * as redact from "../redact/index.ts"
import * as secrets from "../secrets/index.ts"
import * as log from "./log.ts"
import { exit, UsageError, type Output } from "./output.ts"
import { watch } from "./watch.ts"

/** How to serve. */
export interface ServeOptions {
    paths: config.Paths
    level: log.Level
    /** serve Streamable HTTP, the API and the UI at HOST:PORT ("" = the default address); stdio is then off unless `stdio` */
    http?: string
    /** serve stdio too, beside HTTP */
    stdio?: boolean
    /** allow a bind to anything but loopback */
    allowRemote?: boolean
    /** more hostnames clients may name in Host and Origin */
    hosts?: string[]
}

/** The address `--http` alone serves. */
export const defaultHttp = { host: "127.0.0.1", port: 7777 }

/** Parses `--http`'s HOST:PORT, [IPv6]:PORT, HOST or PORT. */
export function address(spec: string): { host: string; port: number } {
    const s = spec.trim()
    if (s === "") return { ...defaultHttp }
    const m = /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]]*)(?::(\d+))?|(\d+))$/.exec(s)
    const bad = () => new UsageError(`invalid --http address ${JSON.stringify(spec)}`, "use HOST:PORT, e.g. --http 127.0.0.1:7777, or --http alone for that default")
    if (m === null) throw bad()
    if (m[3] !== undefined) return { host: defaultHttp.host, port: port(m[3], bad) }
    const host = m[1] === undefined || m[1] === "" ? defaultHttp.host : m[1]
    return { host, port: m[2] === undefined ? defaultHttp.port : port(m[2], bad) }
}

function port(p: string, bad: () => Error): number {
    const n = Number(p)
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw bad()
    return n
}

/**
 * Serves MCP over stdio until the client closes stdin or a SIGINT/SIGTERM arrives, then closes
 * every downstream instance (their whole process groups) before returning. Writes nothing but
 * protocol to stdout. With `http`, serves Streamable HTTP, the REST API and the web UI instead
 * (until a signal), or beside stdio with `stdio` too: one gateway, one pool, for every client.
 */
export async function serve(o: ServeOptions, _out: Output): Promise<number> {
    let c = await config.load(o.paths.config)
    // the saved first answers of an older serve (its "front") are never used: a session's lists
    // depend on the client's roots, which only the client can tell (DESIGN decision 10)
    rmSync(join(o.paths.home, "answers.json"), { force: true })
    const registry = redact.create()
    const logger = log.open(join(o.paths.home, "mcplexer.log"), o.level, registry)
    const vault = secrets.open(o.paths, { actor: "serve" })
    // values expired, expiring within 14 days or due for rotation: said once at start, from the index alone
    for (const w of secrets.health(vault, c)) logger.warn(`${w.message}; ${w.hint}`)
    // a client that offers no roots is taken to work in the folder serve was started in
    const gw = gateway.create({ config: c, vault, registry, log: logger, env: process.env, cwd: process.cwd() })
    const stdio = o.http === undefined || o.stdio === true
    const client = stdio ? new gateway.Stdio() : undefined
    const done = new Promise<string>(resolve => {
        if (client !== undefined) {
            void client.ended.then(resolve)
            process.stdin.once("end", () => resolve("the client closed stdin"))
            process.stdin.once("close", () => resolve("the client closed stdin"))
            process.stdout.once("error", () => resolve("the client closed stdout"))
        }
        process.once("SIGINT", () => resolve("SIGINT"))
        process.once("SIGTERM", () => resolve("SIGTERM"))
        process.once("SIGHUP", () => resolve("SIGHUP"))
    })
    let http: { close(): Promise<void> } | undefined
    if (o.http !== undefined) {
        const httpapi = await import("../httpapi/index.ts")
        const bind = address(o.http)
        const token = httpapi.token(o.paths)
        // its own connection: the pool sees the API's writes as it sees the CLI's, and restarts alike
        const apiVault = secrets.open(o.paths, { actor: "api", create: true })
        let l: Awaited<ReturnType<typeof httpapi.listen>>
        try {
            l = await httpapi.listen({
                gateway: gw, vault: apiVault, registry, config: () => c, token: token.token, bind, hosts: o.hosts ?? [],
                approvals: httpapi.fromStore(apiVault.store), log: logger, allowRemote: o.allowRemote === true,
            })
        } catch (e) {
            apiVault.close()
            await gw.close()
            vault.close()
            logger.close()
            throw e
        }
        http = { close: async () => { await l.close(); apiVault.close() } }
        logger.info(`serving MCP over HTTP at ${l.url}/mcp, the web UI at ${l.url}/`, { config: c.file, servers: c.servers.size, token: token.path })
    }
    if (client !== undefined) {
        await gw.connect(client)
        logger.info("serving MCP over stdio", { config: c.file, servers: c.servers.size })
    }
    // a changed config takes effect for new calls; clients are told their lists may have moved
    const watcher = watch(o.paths.config, next => { c = next; gw.configure(next) }, logger)
    const why = await done
    logger.info(`stopping: ${why}`)
    watcher.close()
    await http?.close()
    await gw.close()
    vault.close()
    logger.close()
    return exit.ok
}
