import { Hono, type Context, type MiddlewareHandler } from "hono"
import { deleteCookie, setCookie } from "hono/cookie"
import { csrf as sameOrigin } from "hono/csrf"
import { streamSSE } from "hono/streaming"
import * as config from "../config/index.ts"
import * as secrets from "../secrets/index.ts"
import type { Options } from "./options.ts"
import { base, cookie, crossSite, login, tls, type Env, type Logins } from "./auth.ts"
import type { Reply } from "./reply.ts"
import * as audit from "./audit.ts"
import { declared, restart, stop } from "./rest.ts"
import type { Sessions } from "./mcp.ts"
import * as state from "./state.ts"
import { same } from "./token.ts"
import * as ui from "./ui.ts"
import * as views from "./pages.ts"
import * as tools from "./tools.ts"

/**
 * The web UI. Log in at `/login` with the API token; a login lives at its own address,
 * `/s/<key>/`, and its cookie (random, HttpOnly, SameSite=Strict, Secure over TLS) is scoped to
 * that path: a page or form works only with both (auth.ts Logins says why). Every form that
 * changes something also carries the login's CSRF token and must come from this site (hono's
 * csrf checks Origin and Sec-Fetch-Site first). Pages get their data through `reply`, which scrubs it.
 */
export function web(o: Options, logins: Logins, sessions: Sessions, reply: Reply, allowed: (origin: string) => boolean): Hono<Env> {
    const web = new Hono<Env>()
    // a form from another site is refused before its body is read
    web.use("*", sameOrigin({ origin: allowed, secFetchSite: ["same-origin", "none"] }))
    entry(web, o, logins, reply)
    // under a login's address: its cookie too, and on a write its CSRF token
    web.use("/s/:key/*", gate(logins, reply))
    pages(web, o, sessions, reply)
    forms(web, o, logins)
    // anywhere else: no login, whatever cookie came
    web.all("*", c => c.req.method === "GET" || c.req.method === "HEAD" ? c.redirect("/login", 303) : reply.page(c, ui.error, { message: "log in first" }, 401))
    return web
}

const nonce = (c: Context<Env>) => c.get("secureHeadersNonce") ?? ""

const view = (o: Options, c: Context<Env>): ui.View => {
    const at = base(c.req.param("key") ?? "")
    return { nonce: nonce(c), csrf: c.get("csrf"), base: at, path: c.req.path.slice(at.length) || "/", approvals: o.approvals !== undefined, pending: o.approvals?.pending().length ?? 0 }
}

/** The login page, and logging in with the API token for a login address and its cookie. */
function entry(web: Hono<Env>, o: Options, logins: Logins, reply: Reply): void {
    web.get("/login", c => reply.page(c, ui.login, { nonce: nonce(c) }))
    web.post("/login", async c => {
        if (crossSite(c)) return reply.page(c, ui.login, { nonce: nonce(c), problem: "cross-site login refused" }, 403)
        const form = await fields(c)
        const t = typeof form.token === "string" ? form.token.trim() : ""
        if (!same(t, o.token)) return reply.page(c, ui.login, { nonce: nonce(c), problem: "wrong token: see mcplexer token" }, 401)
        const l = logins.start()
        setCookie(c, cookie, l.cookie, { httpOnly: true, sameSite: "Strict", path: base(l.key), secure: tls(c), maxAge: l.maxAge })
        return c.redirect(`${base(l.key)}/`, 303)
    })
}

/** Lets through a request with a live login (its address and its cookie), and a write only with its CSRF token. */
function gate(logins: Logins, reply: Reply): MiddlewareHandler<Env> {
    return async (c, next) => {
        const l = login(c, logins)
        if (l === undefined) return c.req.method === "GET" || c.req.method === "HEAD" ? c.redirect("/login", 303) : reply.page(c, ui.error, { message: "log in first" }, 401)
        c.set("via", "ui")
        c.set("csrf", l.csrf)
        if (c.req.method !== "GET" && c.req.method !== "HEAD") {
            const form = await fields(c)
            if (crossSite(c) || typeof form._csrf !== "string" || !same(form._csrf, l.csrf)) return reply.page(c, ui.error, { message: "cross-site request refused" }, 403)
        }
        return next()
    }
}

/** The pages: the dashboard, servers, tools, secrets, the audit trail, approvals; and the live count of waiting calls. */
function pages(web: Hono<Env>, o: Options, sessions: Sessions, reply: Reply): void {
    web.get("/s/:key/", async c => {
        const rows = audit.select(o.vault.store, { limit: 200 }).rows
        return reply.page(c, d => views.dashboard(view(o, c), d), {
            servers: state.servers(o.config(), o.gateway, o.vault),
            calls: rows.filter(r => r.action === "call").slice(0, 20),
            errors: rows.filter(r => r.status !== null && /error|fail|denied|timeout|missing|expired/.test(r.status)).slice(0, 10),
            sessions: sessions.size,
            tools: (await o.gateway.tools().catch(() => [])).length,
        })
    })
    web.get("/s/:key/servers", async c => reply.page(c, d => views.servers(view(o, c), d, c.req.query("done")), await state.details(o.config(), o.gateway, o.vault)))
    web.get("/s/:key/tools", async c => {
        const q = c.req.query()
        return reply.page(c, d => views.tools(view(o, c), d, q), await tools.list(o, q.q))
    })
    web.get("/s/:key/secrets", c => reply.page(c, d => ui.secrets(view(o, c), d.scopes, c.req.query("done"), d.warnings),
        { scopes: state.scopes(o.config(), o.vault.list()), warnings: secrets.health(o.vault, o.config()) }))
    web.get("/s/:key/audit", c => {
        const q = c.req.query()
        const f = audit.filter(q, { max: 200, fallback: 50 })
        const { rows, more } = audit.select(o.vault.store, f)
        return reply.page(c, d => views.audit(view(o, c), d, f, q, more), rows)
    })
    // the same selection as the page, whole (up to the export cap), as a file
    web.get("/s/:key/audit.csv", c => audit.exported(c, o.vault.store, reply, "csv"))
    web.get("/s/:key/audit.json", c => audit.exported(c, o.vault.store, reply, "json"))
    web.get("/s/:key/approvals", c => reply.page(c, d => views.approvals(view(o, c), d.pending, d.leases, c.req.query("done")),
        { pending: o.approvals?.pending(), leases: o.approvals?.leases() ?? [] }))
    web.get("/s/:key/events", c => live(c, o))
}

/**
 * Server-sent events for an open page: `approvals` with the number of calls waiting, at once and
 * whenever it changes. The queue is in the store, which every process shares (a call waiting in
 * another serve counts too), so it is read every quarter second rather than told.
 */
function live(c: Context<Env>, o: Options): Response {
    return streamSSE(c, async stream => {
        let last = -1
        let beat = Date.now()
        while (!stream.aborted && !stream.closed) {
            const n = o.approvals?.pending().length ?? 0
            if (n !== last) {
                await stream.writeSSE({ event: "approvals", data: String(n) })
                last = n
                beat = Date.now()
            } else if (Date.now() - beat > 15_000) {
                // a comment now and then, so a proxy does not close an idle stream
                await stream.write(": still here\n\n")
                beat = Date.now()
            }
            await stream.sleep(250)
        }
    })
}

/** The forms that change something: a secret, a restart or stop, a tool's switch or approval, an approval, a lease, logging out. */
function forms(web: Hono<Env>, o: Options, logins: Logins): void {
    web.post("/s/:key/ui/secrets", async c => {
        const form = await fields(c)
        const scope = text(form.scope), key = text(form.key), value = text(form.value)
        declared(o.config(), scope)
        if (form.action === "delete") {
            o.vault.delete(scope, key)
            return c.redirect(`${here(c)}/secrets?done=${encodeURIComponent(`removed ${scope}/${key}`)}`, 303)
        }
        const replaced = await o.vault.put(scope, key, value)
        return c.redirect(`${here(c)}/secrets?done=${encodeURIComponent(`${replaced ? "updated" : "stored"} ${scope}/${key}`)}`, 303)
    })
    web.post("/s/:key/ui/restart", async c => {
        const form = await fields(c)
        const r = await restart(o, text(form.server))
        const back = c.req.header("referer")?.includes("/servers") ? `/servers?done=${encodeURIComponent(`restarted ${r.server}`)}` : "/"
        return c.redirect(`${here(c)}${back}`, 303)
    })
    web.post("/s/:key/ui/stop", async c => {
        const form = await fields(c)
        const r = await stop(o, text(form.server))
        return c.redirect(`${here(c)}/servers?done=${encodeURIComponent(`stopped ${r.server}; it starts again on its next call`)}`, 303)
    })
    web.post("/s/:key/ui/tools", async c => {
        const form = await fields(c)
        const back = (done: string) => c.redirect(`${here(c)}/tools?${again(form, done)}#tool-${encodeURIComponent(text(form.tool))}`, 303)
        const r = await tools.flip(o, text(form.tool), form.to === "off")
        const verb = form.to === "off" ? "switched off" : "switched on"
        return back(`${verb} ${r.names.join(", ")} in ${r.file}${r.live ? "" : "; serve takes it when it reloads the file"}`)
    })
    web.post("/s/:key/ui/tools/approve", async c => {
        const form = await fields(c)
        const r = await tools.approve(o, text(form.tool), "http:ui")
        return c.redirect(`${here(c)}/tools?${again(form, r.approved ? `approved ${r.name}: its definition as presented now is pinned` : `${r.name} was no longer waiting`)}`, 303)
    })
    web.post("/s/:key/ui/approvals", async c => {
        const form = await fields(c)
        const id = Number(form.id)
        // "lease": the route's longest lease; "for": the time chosen beside it; "approve": this call only
        const answer = form.answer === "approve" || form.answer === "lease" || form.answer === "for" ? "approve" : "deny"
        const lease = form.answer === "lease" ? "max" : form.answer === "for" ? config.duration(text(form.for)) : undefined
        const ok = o.approvals?.decide(id, answer, "http:ui", lease, answer === "deny" ? text(form.reason) : undefined) ?? false
        const done = !ok ? `approval ${id} was no longer waiting` : answer === "deny" ? `denied ${id}` : `approved ${id}${lease === undefined ? "" : lease === "max" ? " with its lease" : ` for ${text(form.for)}`}`
        return c.redirect(`${here(c)}/approvals?done=${encodeURIComponent(done)}`, 303)
    })
    web.post("/s/:key/ui/leases", async c => {
        const form = await fields(c)
        const id = Number(form.id)
        const ok = o.approvals?.revoke(id, "http:ui") ?? false
        return c.redirect(`${here(c)}/approvals?done=${encodeURIComponent(ok ? `revoked lease ${id}` : `lease ${id} had already ended`)}`, 303)
    })
    web.post("/s/:key/logout", c => {
        // the login ends here, not only in this browser: a copy of the cookie stops working too
        const key = c.req.param("key")
        logins.end(key)
        deleteCookie(c, cookie, { path: base(key), secure: tls(c) })
        return c.redirect("/login", 303)
    })
}

/** The tools page's query again (its search and server), with a note of what was done. */
function again(form: Record<string, string | File>, done: string): string {
    const q = new URLSearchParams({ done })
    for (const k of ["q", "server"]) if (text(form[k])) q.set(k, text(form[k]))
    return q.toString()
}

/** A form's fields; a body that is no form (a multipart type without its parts, say) is the client's error, 400, not a 500. */
async function fields(c: Context<Env>): Promise<Record<string, string | File>> {
    try {
        return await c.req.parseBody()
    } catch {
        throw config.hinted("the request body is not a form", "send the page's own form (application/x-www-form-urlencoded or multipart/form-data)", { kind: "input" })
    }
}

/** The address prefix of the login a request is under. */
function here(c: Context<Env>): string {
    return base(c.req.param("key") ?? "")
}

/** A form field as text; a file upload is no text. */
function text(v: unknown): string {
    return typeof v === "string" ? v : ""
}
