import * as config from "../config/index.ts"
import { createServer, type RequestListener, type ServerOptions } from "node:http"
import type { AddressInfo } from "node:net"
import { serve, type ServerType } from "@hono/node-server"
import { create, type Api, type Options } from "./app.ts"
import { loopback } from "./guard.ts"

/** A listening HTTP server. */
export interface Listening extends Api {
    /** The address actually bound (the port is known even when 0 was asked for). */
    host: string
    port: number
    url: string
    /** Ends every MCP session, then stops listening. */
    close(): Promise<void>
}

/** A bind to anything but loopback without `--allow-remote`. */
export class RemoteBindError extends config.Hinted {
    constructor(host: string) {
        super(`refusing to listen on ${JSON.stringify(host)}: it is reachable from other machines`,
            "to do it on purpose: add --allow-remote (anyone who can reach it and holds the token controls your servers; prefer a TLS proxy)")
    }
}

/** An address that cannot be bound, said for a person: which one, and how to pick another. */
function bindError(e: unknown, host: string, port: number): Error {
    const code = (e as { code?: unknown }).code
    const at = `${host}:${port}`
    const other = `choose another with --http ${host}:PORT, or --http ${host}:0 for any free port`
    if (code === "EADDRINUSE") return config.hinted(`port ${port} is already in use on ${host}`, `another program listens on ${at}; ${other}`)
    if (code === "EACCES") return config.hinted(`not allowed to listen on ${at}`, `ports below 1024 need privileges; ${other}`)
    if (code === "EADDRNOTAVAIL") return config.hinted(`address ${JSON.stringify(host)} is not one of this machine's`, `use 127.0.0.1, or an address of this machine: --http 127.0.0.1:${port}`)
    return e instanceof Error ? e : new Error(String(e))
}

/**
 * node:http's settings. Idle keep-alive connections are kept 65 s (the figure load balancers use), not
 * 5 s: Node closes one at its `Keep-Alive: timeout` hint + 1 s and undici (under every SDK client)
 * drops it at the hint - 2 s, so a client whose event loop lagged 3 s POSTed onto closed connections
 * ("fetch failed", 45 calls of one CI load run); now only a connection idle for a minute is near that edge.
 * Headers and request timeouts stay Node's (60 s, 300 s): since Node 18 they count per request, not idle time.
 */
const serverOptions: ServerOptions = { keepAliveTimeout: 65_000 }

/** Whether a request target's path is `/mcp` (a query string allowed, as hono's route allows it). */
function mcp(url: string | undefined): boolean {
    return url === "/mcp" || url?.startsWith("/mcp?") === true
}

/**
 * Builds the app and listens on `o.bind`. Anything but a loopback address needs `allowRemote`.
 * Port 0 picks a free port; `bind` is then updated so Host checks name the real address.
 */
export async function listen(o: Options & { allowRemote?: boolean }): Promise<Listening> {
    if (!loopback(o.bind.host) && !o.allowRemote) throw new RemoteBindError(o.bind.host)
    let server: ServerType | undefined
    let api: Api | undefined
    const addr = await new Promise<AddressInfo>((resolve, reject) => {
        api = create(o)
        const a = api
        // /mcp on node:http itself (mcp.ts), hono for everything else
        const front = (options: ServerOptions, app: RequestListener) => createServer(options, (req, res) => {
            if (mcp(req.url)) a.mcp(req, res)
            else void app(req, res)
        })
        server = serve({ fetch: a.app.fetch, hostname: o.bind.host.replace(/^\[|\]$/g, ""), port: o.bind.port, serverOptions, createServer: front as typeof createServer }, info => resolve(info))
        server.once("error", e => {
            void a.close()
            reject(bindError(e, o.bind.host, o.bind.port))
        })
    })
    const s = server!, a = api!
    const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address
    return {
        ...a, host, port: addr.port, url: `http://${host}:${addr.port}`,
        async close() {
            await a.close()
            await new Promise<void>(resolve => {
                s.close(() => resolve())
                // idle keep-alive and open SSE streams must not hold shutdown
                if ("closeAllConnections" in s) s.closeAllConnections()
            })
        },
    }
}
