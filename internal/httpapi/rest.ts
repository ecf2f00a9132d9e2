import { Hono, type Context, type MiddlewareHandler } from "hono"
import * as config from "../config/index.ts"
import type { Options } from "./options.ts"
import { bearer, type Env } from "./auth.ts"
import type { Reply } from "./reply.ts"
import type { Sessions } from "./mcp.ts"
import * as audit from "./audit.ts"
import * as state from "./state.ts"
import * as tools from "./tools.ts"

const unsafe = new Set(["POST", "PUT", "PATCH", "DELETE"])

/**
 * The REST API at `/api/v1`: the bearer token only (hono's bearer-auth). A UI login's cookie
 * opens nothing here: browsers send a 127.0.0.1 cookie to every port, so a page of another local
 * program could have it; the web UI has its own forms. Writes must be JSON. Every answer goes
 * through `reply`, which scrubs it.
 */
export function api(o: Options, sessions: Sessions, reply: Reply): Hono<Env> {
    const api = new Hono<Env>()
    api.use("*", gate(o.token), json(reply))
    api.get("/health", c => reply.json(c, { status: "ok", sessions: sessions.size, servers: o.config().servers.size }))
    api.get("/scopes", c => reply.json(c, state.scopes(o.config(), o.vault.list())))
    api.put("/scopes/:scope/secrets/:key", async c => {
        const { scope, key } = c.req.param()
        declared(o.config(), scope)
        const b: unknown = await c.req.json().catch(() => undefined)
        const value = typeof b === "object" && b !== null ? (b as { value?: unknown }).value : undefined
        if (typeof value !== "string") return reply.json(c, { error: "send {\"value\": \"...\"}" }, 400)
        const replaced = await o.vault.put(scope, key, value)
        return reply.json(c, { scope, key, set: true, replaced })
    })
    api.delete("/scopes/:scope/secrets/:key", c => {
        const { scope, key } = c.req.param()
        o.vault.delete(scope, key)
        return reply.json(c, { scope, key, set: false })
    })
    api.get("/servers", c => reply.json(c, state.servers(o.config(), o.gateway, o.vault)))
    api.post("/servers/:name/restart", async c => reply.json(c, await restart(o, c.req.param("name"))))
    api.post("/servers/:name/stop", async c => reply.json(c, await stop(o, c.req.param("name"))))
    // every tool with its state, flags and change; ?q= ranks the enabled ones as `mcplexer tools search` does
    api.get("/tools", async c => reply.json(c, await tools.list(o, c.req.query("q"))))
    // a client-visible name or glob, switched as `mcplexer tools disable/enable` does: config.yaml is written
    api.post("/tools/:name/:to{enable|disable}", async c => {
        const r = await tools.flip(o, c.req.param("name"), c.req.param("to") === "disable")
        return reply.json(c, { tools: r.names, state: c.req.param("to") === "disable" ? "disabled" : "enabled", file: r.file, written: r.written, live: r.live })
    })
    api.post("/tools/:name/approve", async c => reply.json(c, await tools.approve(o, c.req.param("name"), `http:${c.get("via")}`)))
    api.get("/catalog", async c => reply.json(c, (await o.gateway.tools()).map(t => ({
        name: t.name, server: t.server, original: t.original, ...(t.description === undefined ? {} : { description: t.description }),
    }))))
    api.get("/audit", c => {
        const format = c.req.query("format")
        if (format === "csv" || format === "json") return audit.exported(c, o.vault.store, reply, format)
        if (format !== undefined) return reply.json(c, { error: `invalid format ${JSON.stringify(format)}`, hint: "use format=csv or format=json" }, 400)
        return reply.json(c, audit.select(o.vault.store, audit.filter(c.req.query(), { max: 500, fallback: 100 })).rows)
    })
    const none = { error: "approvals are not available in this build" }
    api.get("/approvals", c => o.approvals ? reply.json(c, o.approvals.pending()) : reply.json(c, none, 501))
    api.post("/approvals/:id/:answer{approve|deny}", c => o.approvals ? decide(c, o.approvals, reply) : reply.json(c, none, 501))
    api.get("/leases", c => o.approvals ? reply.json(c, o.approvals.leases()) : reply.json(c, none, 501))
    api.post("/leases/:id/revoke", c => {
        if (!o.approvals) return reply.json(c, none, 501)
        const id = Number(c.req.param("id"))
        if (!Number.isSafeInteger(id)) return reply.json(c, { error: "lease id must be a number" }, 400)
        return o.approvals.revoke(id, `http:${c.get("via")}`) ? reply.json(c, { id, status: "revoked" }) : reply.json(c, { error: `lease ${id} is not in force` }, 409)
    })
    api.all("*", c => reply.json(c, { error: "not found" }, 404))
    return api
}

/** The bearer token, and nothing else. */
function gate(token: string): MiddlewareHandler<Env> {
    const bearerAuth = bearer(token)
    return async (c, next) => {
        c.set("via", "bearer")
        return bearerAuth(c, next)
    }
}

/** A write with a body that is not JSON is refused before it is read. */
function json(reply: Reply): MiddlewareHandler<Env> {
    return async (c, next) => {
        const type = c.req.header("content-type")
        if (unsafe.has(c.req.method) && type !== undefined && !/^application\/json\b/i.test(type)) return reply.json(c, { error: "send application/json" }, 415)
        return next()
    }
}

/** Approves or denies one waiting call; with ?for=, an approval also grants a lease; a JSON body may give a reason. */
async function decide(c: Context<Env>, approvals: NonNullable<Options["approvals"]>, reply: Reply): Promise<Response> {
    const id = Number(c.req.param("id"))
    const answer = c.req.param("answer") as "approve" | "deny"
    if (!Number.isSafeInteger(id)) return reply.json(c, { error: "approval id must be a number" }, 400)
    // ?for=10m: the approval also grants a lease that long (at most the route's); without it, this call only
    const span = c.req.query("for")
    let lease: number | undefined
    try {
        lease = span === undefined ? undefined : config.duration(span)
    } catch {
        return reply.json(c, { error: `invalid for ${JSON.stringify(span)}: write a duration such as 10m` }, 400)
    }
    // a JSON body may give the reason, which the audit keeps: {"reason": "..."}
    const b: unknown = await c.req.json().catch(() => undefined)
    const reason = typeof b === "object" && b !== null && typeof (b as { reason?: unknown }).reason === "string" ? (b as { reason: string }).reason : undefined
    try {
        if (!approvals.decide(id, answer, `http:${c.get("via")}`, lease, reason)) return reply.json(c, { error: `approval ${id} is not pending` }, 409)
    } catch (e) {
        return reply.json(c, { error: e instanceof Error ? e.message : String(e) }, 400)
    }
    return reply.json(c, { id, status: answer === "approve" ? "approved" : "denied", ...(lease ? { lease } : {}) })
}

/** Refuses a scope the config does not declare, as `mcplexer secret put` does. */
export function declared(c: config.Config, scope: string): void {
    config.checkName("scope", scope)
    if (c.scopes.has(scope)) return
    throw config.hinted(`scope ${JSON.stringify(scope)} is not declared in ${c.file}`, "add it under auth_scopes")
}

/**
 * Restarts a server's running instances. The pool restarts by scope (DESIGN decision 5 order:
 * resolve, stop, start), so every instance of the same scopes restarts with it.
 */
export async function restart(o: Options, name: string): Promise<{ server: string; scopes: string[] }> {
    const s = o.config().servers.get(name)
    if (s === undefined) {
        throw config.hinted(`server ${JSON.stringify(name)} is not configured`, "see the servers on the dashboard", { kind: "missing" })
    }
    const scopes = [...new Set(o.gateway.pool.status().filter(i => i.server === name && i.state !== "stopped").map(i => i.scope ?? ""))]
    for (const scope of scopes) if (scope !== "") await o.gateway.pool.restartScope(scope)
    o.log.info(`http: restarted server ${JSON.stringify(name)}`, { scopes })
    return { server: name, scopes }
}

/** Stops a server's running instances now; each starts again on its next call. */
export async function stop(o: Options, name: string): Promise<{ server: string; stopped: number }> {
    if (!o.config().servers.has(name)) {
        throw config.hinted(`server ${JSON.stringify(name)} is not configured`, "see the servers on the servers page", { kind: "missing" })
    }
    const live = o.gateway.pool.status().filter(i => i.server === name && i.state !== "stopped")
    await Promise.all(live.map(i => o.gateway.pool.stop({ server: name, scope: i.scope }, "stopped over HTTP")))
    o.log.info(`http: stopped server ${JSON.stringify(name)}`, { instances: live.length })
    return { server: name, stopped: live.length }
}
