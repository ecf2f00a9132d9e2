import { randomBytes } from "node:crypto"
import { Hono, type Context } from "hono"
import { bodyLimit } from "hono/body-limit"
import { deleteCookie, setCookie } from "hono/cookie"
import { parse } from "hono/utils/cookie"
import { HTTPException } from "hono/http-exception"
import * as config from "../config/index.ts"
import type * as gateway from "../gateway/index.ts"
import type * as redact from "../redact/index.ts"
import * as secrets from "../secrets/index.ts"
import type { Approvals } from "./approvals.ts"
import { hosts, refusal, type Bind } from "./guard.ts"
import { limits as sessionLimits, Sessions, type Limits as SessionLimits } from "./mcp.ts"
import * as state from "./state.ts"
import { derive, same } from "./token.ts"
import * as ui from "./ui.ts"

/** Where the API logs: the serve logger (it scrubs too). */
export type Logger = gateway.Logger

/** What the HTTP server is built from. */
export interface Options {
    gateway: gateway.Gateway
    /**
     * The vault the API writes to: its own connection (actor "api"), so the pool notices a write
     * through PRAGMA data_version exactly as it notices one from the CLI, and restarts what it must.
     */
    vault: secrets.Vault
    registry: redact.Registry
    /** The configuration as of now. */
    config(): config.Config
    /** The bearer token (`mcplexer token`). */
    token: string
    /** The address served, against which Host and Origin are checked. */
    bind: Bind
    /** More hostnames that may appear in Host and Origin (a name the machine is reached by). */
    hosts?: string[]
    /** The approval queue; absent, the API answers 501 and the UI says so. */
    approvals?: Approvals
    log: Logger
    limits?: Partial<Limits>
}

/** Size and session bounds. */
export interface Limits extends SessionLimits {
    /** largest `/mcp` request body, bytes */
    mcpBody: number
    /** largest API or form request body, bytes */
    apiBody: number
}

/** The defaults: a 4 MiB MCP message, a 64 KiB API request. */
export const limits: Limits = { ...sessionLimits, mcpBody: 4 * 1024 * 1024, apiBody: 64 * 1024 }

/** How a request proved itself. */
type Via = "bearer" | "cookie"
/** Per-request values handlers share. */
export interface Env { Variables: { via: Via; nonce: string } }

/** The name of the UI's session cookie. */
export const cookie = "mcplexer_session"

const unsafe = new Set(["POST", "PUT", "PATCH", "DELETE"])

/** The HTTP server as a hono app, with the MCP sessions it holds. */
export interface Api {
    app: Hono<Env>
    sessions: Sessions
    /** Ends every MCP session. */
    close(): Promise<void>
}

/**
 * Builds the hono app: `/mcp` (Streamable HTTP), `/api/v1` (REST) and the web UI at `/`.
 * Every request first passes the Host/Origin check (DNS rebinding), then a body cap, then
 * authentication: the bearer token, or for the UI the cookie the token was exchanged for, whose
 * state-changing requests must also carry the CSRF token and come from this origin. Nothing it
 * answers holds a secret value: the vault is only ever written and listed.
 */
export function create(o: Options): Api {
    const lim: Limits = { ...limits, ...o.limits }
    const allowed = hosts(o.bind, o.hosts)
    const session = derive(o.token, "cookie")
    const csrf = derive(o.token, "csrf")
    const sessions = new Sessions(o.gateway, lim)
    const app = new Hono<Env>()
    const scrub = <T>(v: T): T => o.registry.scrubObject(v)

    const who = (r: Request): Via | undefined | false => {
        const h = r.headers.get("authorization")
        if (h !== null) {
            const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(h)
            return m !== null && same(m[1]!, o.token) ? "bearer" : false
        }
        const k = parse(r.headers.get("cookie") ?? "", cookie)[cookie]
        if (k !== undefined && same(k, session)) return "cookie"
        return undefined
    }
    // a browser says where a request comes from; anything but this origin (or a typed URL) is refused
    const crossSite = (r: Request) => {
        const site = r.headers.get("sec-fetch-site")
        return site !== null && site !== "same-origin" && site !== "none"
    }

    app.onError((err, c) => {
        if (err instanceof HTTPException) return err.getResponse()
        const message = o.registry.scrub(err.message)
        const h = (err as { hint?: unknown }).hint
        const hint = typeof h === "string" ? o.registry.scrub(h) : undefined
        const status = err instanceof secrets.NotFoundError ? 404 : hint !== undefined ? 400 : 500
        if (status === 500) o.log.error(`http: ${c.req.method} ${c.req.path}: ${message}`)
        // programs get JSON, people a page
        if (!c.req.path.startsWith("/api/") && c.req.path !== "/mcp") return c.html(ui.error(status === 500 ? "internal error" : message, hint), status)
        return c.json({ error: status === 500 ? "internal error" : message, ...(hint === undefined ? {} : { hint }) }, status)
    })

    app.use("*", async (c, next) => {
        const why = refusal(allowed, c.req.header("host"), c.req.header("origin"))
        if (why !== undefined) {
            o.log.warn(`http: refused ${c.req.method} ${c.req.path}: ${why}`)
            return c.json({ error: why }, 403)
        }
        c.set("nonce", randomBytes(16).toString("base64"))
        await next()
        c.header("X-Content-Type-Options", "nosniff")
        // not no-referrer: under it a browser sends "Origin: null" with the UI's own form posts
        c.header("Referrer-Policy", "same-origin")
        c.header("X-Frame-Options", "DENY")
        c.header("Cache-Control", "no-store")
        if (c.res.headers.get("content-type")?.startsWith("text/html")) {
            c.header("Content-Security-Policy", `default-src 'none'; script-src 'nonce-${c.get("nonce")}'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; connect-src 'self'`)
        }
    })

    const tooLarge = (max: number) => bodyLimit({
        maxSize: max,
        onError: c => c.json({ error: `request body is larger than ${max} bytes` }, 413),
    })
    app.use("/mcp", tooLarge(lim.mcpBody))
    app.use("/api/*", tooLarge(lim.apiBody))
    app.use("/ui/*", tooLarge(lim.apiBody))
    app.use("/login", tooLarge(lim.apiBody))

    // MCP over Streamable HTTP: the bearer token only (a browser page has no business here)
    app.all("/mcp", async c => {
        if (who(c.req.raw) !== "bearer") {
            c.header("WWW-Authenticate", `Bearer realm="mcplexer"`)
            return c.json({ jsonrpc: "2.0", error: { code: -32001, message: "unauthorized: send Authorization: Bearer <token> (mcplexer token)" }, id: null }, 401)
        }
        let body: unknown
        if (c.req.method === "POST") {
            try {
                body = await c.req.json()
            } catch (e) {
                if (e instanceof HTTPException) throw e
                return c.json({ jsonrpc: "2.0", error: { code: -32700, message: "parse error: the body is not JSON" }, id: null }, 400)
            }
        }
        return sessions.handle(c.req.raw, body)
    })

    // the REST API: the token, or the UI's cookie with its CSRF token on writes
    const api = new Hono<Env>()
    api.use("*", async (c, next) => {
        const via = who(c.req.raw)
        if (via === undefined || via === false) {
            c.header("WWW-Authenticate", `Bearer realm="mcplexer"`)
            return c.json({ error: "unauthorized: send Authorization: Bearer <token> (mcplexer token)" }, 401)
        }
        c.set("via", via)
        if (unsafe.has(c.req.method)) {
            if (via === "cookie" && (crossSite(c.req.raw) || !same(c.req.header("x-csrf-token") ?? "", csrf))) {
                return c.json({ error: "cross-site request refused: missing or wrong x-csrf-token" }, 403)
            }
            const type = c.req.header("content-type")
            if (type !== undefined && !/^application\/json\b/i.test(type)) return c.json({ error: "send application/json" }, 415)
        }
        await next()
    })
    api.get("/health", c => c.json({ status: "ok", sessions: sessions.size, servers: o.config().servers.size }))
    api.get("/scopes", c => c.json(scrub(state.scopes(o.config(), o.vault.list()))))
    api.put("/scopes/:scope/secrets/:key", async c => {
        const { scope, key } = c.req.param()
        declared(o.config(), scope)
        const b: unknown = await c.req.json().catch(() => undefined)
        const value = typeof b === "object" && b !== null ? (b as { value?: unknown }).value : undefined
        if (typeof value !== "string") return c.json({ error: "send {\"value\": \"...\"}" }, 400)
        const replaced = await o.vault.put(scope, key, value)
        return c.json({ scope, key, set: true, replaced })
    })
    api.delete("/scopes/:scope/secrets/:key", c => {
        const { scope, key } = c.req.param()
        o.vault.delete(scope, key)
        return c.json({ scope, key, set: false })
    })
    api.get("/servers", c => c.json(scrub(state.servers(o.config(), o.gateway))))
    api.post("/servers/:name/restart", async c => c.json(scrub(await restart(o, c.req.param("name")))))
    api.get("/catalog", async c => c.json(scrub((await o.gateway.tools()).map(t => ({
        name: t.name, server: t.server, original: t.original, ...(t.description === undefined ? {} : { description: t.description }),
    })))))
    api.get("/audit", c => c.json(scrub(state.audit(o.vault.store, filter(c.req.query())))))
    api.get("/approvals", c => o.approvals ? c.json(scrub(o.approvals.pending())) : c.json({ error: "approvals are not available in this build" }, 501))
    api.post("/approvals/:id/:answer{approve|deny}", c => {
        if (!o.approvals) return c.json({ error: "approvals are not available in this build" }, 501)
        const id = Number(c.req.param("id"))
        const answer = c.req.param("answer") as "approve" | "deny"
        if (!Number.isSafeInteger(id)) return c.json({ error: "approval id must be a number" }, 400)
        // ?for=10m: the approval also grants a lease that long (at most the route's); without it, this call only
        const span = c.req.query("for")
        let lease: number | undefined
        try {
            lease = span === undefined ? undefined : config.duration(span)
        } catch {
            return c.json({ error: `invalid for ${JSON.stringify(span)}: write a duration such as 10m` }, 400)
        }
        try {
            if (!o.approvals.decide(id, answer, `http:${c.get("via")}`, lease)) return c.json({ error: `approval ${id} is not pending` }, 409)
        } catch (e) {
            return c.json({ error: e instanceof Error ? e.message : String(e) }, 400)
        }
        return c.json({ id, status: answer === "approve" ? "approved" : "denied", ...(lease ? { lease } : {}) })
    })
    app.route("/api/v1", api)
    app.all("/api/*", c => c.json({ error: "not found" }, 404))

    // the web UI: the cookie; forms carry the CSRF token
    app.get("/login", c => c.html(ui.login(c.get("nonce"))))
    app.post("/login", async c => {
        if (crossSite(c.req.raw)) return c.html(ui.login(c.get("nonce"), "cross-site login refused"), 403)
        const form = await c.req.parseBody()
        const t = typeof form.token === "string" ? form.token.trim() : ""
        if (!same(t, o.token)) return c.html(ui.login(c.get("nonce"), "wrong token: see mcplexer token"), 401)
        setCookie(c, cookie, session, { httpOnly: true, sameSite: "Strict", path: "/" })
        return c.redirect("/", 303)
    })
    const page = new Hono<Env>()
    page.use("*", async (c, next) => {
        if (who(c.req.raw) !== "cookie") return c.req.method === "GET" ? c.redirect("/login", 303) : c.html(ui.error("log in first"), 401)
        c.set("via", "cookie")
        if (unsafe.has(c.req.method)) {
            const form = await c.req.parseBody()
            if (crossSite(c.req.raw) || typeof form._csrf !== "string" || !same(form._csrf, csrf)) return c.html(ui.error("cross-site request refused"), 403)
        }
        await next()
    })
    const view = (c: Context<Env>): ui.View => ({ nonce: c.get("nonce"), csrf, path: c.req.path, approvals: o.approvals !== undefined })
    page.get("/", async c => {
        const rows = state.audit(o.vault.store, { limit: 200 })
        return c.html(ui.dashboard(view(c), scrub({
            servers: state.servers(o.config(), o.gateway),
            calls: rows.filter(r => r.action === "call").slice(0, 20),
            errors: rows.filter(r => r.status !== null && /error|fail|denied|timeout|missing|expired/.test(r.status)).slice(0, 10),
            sessions: sessions.size,
            tools: (await o.gateway.tools().catch(() => [])).length,
        })))
    })
    page.get("/secrets", c => c.html(ui.secrets(view(c), scrub(state.scopes(o.config(), o.vault.list())), c.req.query("done"))))
    page.get("/audit", c => c.html(ui.audit(view(c), scrub(state.audit(o.vault.store, filter(c.req.query()))), c.req.query())))
    page.get("/approvals", c => c.html(ui.approvals(view(c), o.approvals ? scrub(o.approvals.pending()) : undefined)))
    page.post("/ui/secrets", async c => {
        const form = await c.req.parseBody()
        const scope = text(form.scope), key = text(form.key), value = text(form.value)
        declared(o.config(), scope)
        if (form.action === "delete") {
            o.vault.delete(scope, key)
            return c.redirect(`/secrets?done=${encodeURIComponent(`removed ${scope}/${key}`)}`, 303)
        }
        const replaced = await o.vault.put(scope, key, value)
        return c.redirect(`/secrets?done=${encodeURIComponent(`${replaced ? "updated" : "stored"} ${scope}/${key}`)}`, 303)
    })
    page.post("/ui/restart", async c => {
        const form = await c.req.parseBody()
        await restart(o, text(form.server))
        return c.redirect("/", 303)
    })
    page.post("/ui/approvals", async c => {
        const form = await c.req.parseBody()
        // "lease": approve and grant the route's lease, a choice the page shows on its own button
        const answer = form.answer === "approve" || form.answer === "lease" ? "approve" : "deny"
        o.approvals?.decide(Number(form.id), answer, "http:ui", form.answer === "lease" ? "max" : undefined)
        return c.redirect("/approvals", 303)
    })
    page.post("/logout", c => {
        deleteCookie(c, cookie, { path: "/" })
        return c.redirect("/login", 303)
    })
    app.route("/", page)

    return { app, sessions, close: () => sessions.close() }
}

/** Refuses a scope the config does not declare, as `mcplexer secret put` does. */
function declared(c: config.Config, scope: string): void {
    config.checkName("scope", scope)
    if (c.scopes.has(scope)) return
    const e = new Error(`scope ${JSON.stringify(scope)} is not declared in ${c.file}`) as Error & { hint: string }
    e.hint = "add it under auth_scopes"
    throw e
}

/**
 * Restarts a server's running instances. The pool restarts by scope (DESIGN decision 5 order:
 * resolve, stop, start), so every instance of the same scopes restarts with it.
 */
async function restart(o: Options, name: string): Promise<{ server: string; scopes: string[] }> {
    const s = o.config().servers.get(name)
    if (s === undefined) {
        const e = new Error(`server ${JSON.stringify(name)} is not configured`) as Error & { hint: string }
        e.hint = "see the servers on the dashboard"
        throw e
    }
    const scopes = [...new Set(o.gateway.pool.status().filter(i => i.server === name && i.state !== "stopped").map(i => i.scope ?? ""))]
    for (const scope of scopes) if (scope !== "") await o.gateway.pool.restartScope(scope)
    o.log.info(`http: restarted server ${JSON.stringify(name)}`, { scopes })
    return { server: name, scopes }
}

/** A form field as text; a file upload is no text. */
function text(v: unknown): string {
    return typeof v === "string" ? v : ""
}

function filter(q: Record<string, string>): state.AuditFilter {
    const n = (v: string | undefined) => v === undefined || v === "" || !Number.isFinite(Number(v)) ? undefined : Number(v)
    return {
        action: q.action, actor: q.actor, server: q.server, scope: q.scope, tool: q.tool, status: q.status,
        before: n(q.before), limit: n(q.limit),
    }
}
