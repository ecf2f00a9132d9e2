import type { IncomingMessage, ServerResponse } from "node:http"
import { Hono, type Context, type MiddlewareHandler } from "hono"
import { bodyLimit } from "hono/body-limit"
import { HTTPException } from "hono/http-exception"
import type { ContentfulStatusCode } from "hono/utils/http-status"
import { NONCE, secureHeaders } from "hono/secure-headers"
import * as config from "../config/index.ts"
import { bearer, Logins, type Env } from "./auth.ts"
import { hosts, refusal } from "./guard.ts"
import { Sessions } from "./mcp.ts"
import { Metrics } from "./metrics.ts"
import { limits, type Limits, type Options } from "./options.ts"
import * as reply from "./reply.ts"
import { api } from "./rest.ts"
import * as ui from "./ui.ts"
import { web } from "./web.ts"

export { type Limits, type Logger, type Options, limits } from "./options.ts"
export { type Env } from "./auth.ts"
export { cookie } from "./auth.ts"

/** The HTTP server as a hono app, with the MCP sessions and UI logins it holds. */
export interface Api {
    app: Hono<Env>
    sessions: Sessions
    logins: Logins
    /** `/mcp` under node:http (mcp.ts): every request whose path is `/mcp` goes here, not to the app. */
    mcp(req: IncomingMessage, res: ServerResponse): void
    /** Ends every MCP session. */
    close(): Promise<void>
}

/**
 * Builds the hono app: `/mcp` (Streamable HTTP, mcp.ts, which has its own one gate: Host and
 * Origin, the body cap, the token), then two sub-apps, `/api/v1` (REST) and the web UI at `/`,
 * and `/metrics` (Prometheus, the bearer token).
 * Every request to those first passes the Host/Origin check (DNS rebinding), then gets hono's
 * secure headers and a body cap (413 before anything reads it), then the sub-app's own
 * authentication. REST and UI answers leave through one responder that scrubs them.
 */
export function create(o: Options): Api {
    const lim: Limits = { ...limits, ...o.limits }
    const allowed = hosts(o.bind, o.hosts)
    const sessions = new Sessions(o.gateway, { allowed, token: o.token, maxBody: lim.mcpBody, warn: m => o.log.warn(m) }, lim)
    const logins = new Logins(lim.login)
    const out = reply.create(o.registry)
    const app = new Hono<Env>()
    app.onError((err, c) => failure(err, c, o, out))
    // before the middleware below, which it does not go through: mcp.ts checks its requests itself
    app.all("/mcp", c => sessions.web(c.req.raw))
    app.use("*", async (c, next) => {
        const why = refusal(allowed, c.req.header("host"), c.req.header("origin"))
        if (why === undefined) return next()
        o.log.warn(`http: refused ${c.req.method} ${shown(c.req.path)}: ${why}`)
        return c.json({ error: why }, 403)
    })
    app.use("*", headers)
    app.use("*", capped(lim))
    app.route("/api/v1", api(o, sessions, out))
    // Prometheus scrapes with the same bearer token as the REST API; labels are names, scrubbed all the same
    const metrics = new Metrics(o)
    app.get("/metrics", bearer(o.token), async c => c.body(out.text(await metrics.text()), 200, { "Content-Type": metrics.registry.contentType }))
    app.all("/api/*", c => out.json(c, { error: "not found" }, 404))
    app.route("/", web(o, logins, sessions, out, origin => {
        try {
            return allowed.has(new URL(origin).hostname)
        } catch {
            return false
        }
    }))
    return {
        app, sessions, logins, mcp: (req, res) => { sessions.node(req, res) },
        close: () => {
            metrics.close()
            return sessions.close()
        },
    }
}

// hono's secure headers; a page's one script runs under its nonce. Referrer-Policy is not
// no-referrer: under it a browser sends "Origin: null" with the UI's own form posts.
const secure = secureHeaders({
    contentSecurityPolicy: {
        defaultSrc: ["'none'"], scriptSrc: [NONCE], styleSrc: ["'unsafe-inline'"], imgSrc: ["'self'", "data:"], formAction: ["'self'"],
        frameAncestors: ["'none'"], baseUri: ["'none'"], connectSrc: ["'self'"],
    },
    referrerPolicy: "same-origin",
    xFrameOptions: "DENY",
    strictTransportSecurity: false,
})
const headers: MiddlewareHandler<Env> = async (c, next) => {
    await secure(c, next)
    c.header("Cache-Control", "no-store")
}

/** Caps every request's body (`/mcp` has its own cap, mcp.ts); 413 before it is read. */
function capped(lim: Limits): MiddlewareHandler<Env> {
    return bodyLimit({ maxSize: lim.apiBody, onError: c => c.json({ error: `request body is larger than ${lim.apiBody} bytes` }, 413) })
}

/** A path as the log may show it: a UI login's address key left out (auth.ts Logins). */
function shown(path: string): string {
    return path.replace(/^\/s\/[^/]+/, "/s/…")
}

const statuses: Record<config.Kind, ContentfulStatusCode> = { input: 400, missing: 404, conflict: 409, unavailable: 503 }

/** The one error handler: a person gets a page, a program JSON; nothing unscrubbed, no stack. */
function failure(err: Error, c: Context<Env>, o: Options, out: reply.Reply): Response | Promise<Response> {
    if (err instanceof HTTPException) return err.getResponse()
    const hint = err instanceof config.Hinted ? err.hint : undefined
    const status = err instanceof config.Hinted ? statuses[err.kind] : 500
    if (status === 500) o.log.error(`http: ${c.req.method} ${shown(c.req.path)}: ${out.text(err.message)}`)
    const message = status === 500 ? "internal error" : err.message
    if (!c.req.path.startsWith("/api/")) return out.page(c, ui.error, { message, ...(hint === undefined ? {} : { hint }) }, status)
    return out.json(c, { error: message, ...(hint === undefined ? {} : { hint }) }, status)
}
