import { join } from "node:path"
import * as config from "../config/index.ts"
import * as gateway from "../gateway/index.ts"
import * as redact from "../redact/index.ts"
import * as secrets from "../secrets/index.ts"
import * as log from "./log.ts"
import { exit, type Output } from "./output.ts"

/** How to serve. */
export interface ServeOptions { paths: config.Paths; level: log.Level }

/**
 * Serves MCP over stdio until the client closes stdin or a SIGINT/SIGTERM arrives, then closes
 * every downstream instance (their whole process groups) before returning. Writes nothing but
 * protocol to stdout.
 */
export async function serve(o: ServeOptions, _out: Output): Promise<number> {
    const c = await config.load(o.paths.config)
    const registry = redact.create()
    const logger = log.open(join(o.paths.home, "mcplexer.log"), o.level, registry)
    const vault = secrets.open(o.paths, { actor: "serve" })
    const gw = gateway.create({ config: c, vault, registry, log: logger, env: process.env })
    const { StdioServerTransport } = await import("@modelcontextprotocol/sdk/server/stdio.js")
    const done = new Promise<string>(resolve => {
        process.stdin.once("end", () => resolve("the client closed stdin"))
        process.stdin.once("close", () => resolve("the client closed stdin"))
        process.once("SIGINT", () => resolve("SIGINT"))
        process.once("SIGTERM", () => resolve("SIGTERM"))
        process.once("SIGHUP", () => resolve("SIGHUP"))
    })
    await gw.connect(new StdioServerTransport())
    logger.info("serving MCP over stdio", { config: c.file, servers: c.servers.size })
    const why = await done
    logger.info(`stopping: ${why}`)
    await gw.close()
    vault.close()
    logger.close()
    return exit.ok
}
