import { createHash, randomBytes, timingSafeEqual } from "node:crypto"
import { same } from "./token.ts"
import type { Context, MiddlewareHandler } from "hono"
import { bearerAuth } from "hono/bearer-auth"
import { getCookie } from "hono/cookie"

/** The name of the UI's session cookie. */
export const cookie = "mcplexer_session"

/** One browser login: its cookie, when it ends, and the CSRF token its forms carry. */
interface Login { cookie: string; expires: number; csrf: string }

/**
 * The web UI's logins, kept in memory only. A login is two random values: a key, which is the
 * first segment of every UI address (`/s/<key>/…`), and a cookie scoped to that path (Path=/s/<key>).
 * Both are needed. Browsers send a 127.0.0.1 cookie to every port of 127.0.0.1, so a cookie alone
 * could be replayed by any local program a page of the browser talks to; with Path, the browser
 * sends it only to addresses under the key, which no other port's page knows, and the key alone
 * (seen in history or on a screen) opens nothing without the HttpOnly cookie. Nothing here is
 * derived from the API token, and a login dies at logout, at expiry, or when `serve` stops.
 */
export class Logins {
    private readonly held = new Map<string, Login>()
    private readonly ttl: number
    constructor(ttl: number) {
        this.ttl = ttl
    }

    /** Starts a login; returns its key (the address segment), its cookie and how long it lasts, in seconds. */
    start(): { key: string; cookie: string; maxAge: number } {
        this.sweep()
        const key = randomBytes(24).toString("base64url"), cookie = randomBytes(32).toString("base64url")
        this.held.set(key, { cookie, expires: Date.now() + this.ttl, csrf: randomBytes(32).toString("base64url") })
        return { key, cookie, maxAge: Math.ceil(this.ttl / 1000) }
    }

    /** The login of address key `key` when `cookie` is its cookie; undefined when unknown, ended, expired or not its cookie. */
    get(key: string | undefined, cookie: string | undefined): Login | undefined {
        if (key === undefined || cookie === undefined) return undefined
        const l = this.held.get(key)
        if (l === undefined) return undefined
        if (l.expires <= Date.now()) {
            this.held.delete(key)
            return undefined
        }
        return same(cookie, l.cookie) ? l : undefined
    }

    /** Ends a login: neither its address nor its cookie works again, whoever holds them. */
    end(key: string | undefined): void {
        if (key !== undefined) this.held.delete(key)
    }

    /** Logins held now. */
    get size(): number {
        return this.held.size
    }

    private sweep(): void {
        const now = Date.now()
        for (const [key, l] of this.held) if (l.expires <= now) this.held.delete(key)
    }
}

/** The address prefix of a login's pages. */
export function base(key: string): string {
    return `/s/${key}`
}

/** How a request proved itself. */
export type Via = "bearer" | "ui"

/** Per-request values the sub-apps share. */
export interface Env {
    Variables: { via: Via; csrf: string; secureHeadersNonce?: string }
}

const unauthorized = "unauthorized: send Authorization: Bearer <token> (mcplexer token)"

/** hono's bearer-auth against the API token (constant-time), with mcplexer's messages. */
export function bearer(token: string): MiddlewareHandler<Env> {
    const message = (text: string) => ({ error: text })
    const challenge = `Bearer realm="mcplexer"`
    // `same`, with the token's own digest taken once rather than on every request
    const digest = (s: string) => createHash("sha256").update(s).digest()
    const want = digest(token)
    return bearerAuth({
        verifyToken: t => timingSafeEqual(digest(t), want),
        realm: "mcplexer",
        noAuthenticationHeader: { message: message(unauthorized), wwwAuthenticateHeader: challenge },
        invalidAuthenticationHeader: { message: message(unauthorized), wwwAuthenticateHeader: challenge },
        invalidToken: { message: message(unauthorized), wwwAuthenticateHeader: challenge },
    })
}

/** The live login of a request to `/s/:key/…`: its key in the address and its cookie, both. */
export function login(c: Context, logins: Logins): { key: string; csrf: string } | undefined {
    const key = c.req.param("key")
    const l = logins.get(key, getCookie(c, cookie))
    return l === undefined || key === undefined ? undefined : { key, csrf: l.csrf }
}

/** True when a browser says the request comes from another site (a typed URL counts as this one). */
export function crossSite(c: Context): boolean {
    const site = c.req.header("sec-fetch-site")
    return site !== undefined && site !== "same-origin" && site !== "none"
}

/** Whether the request came over TLS: only then may a cookie say Secure and still be sent back. */
export function tls(c: Context): boolean {
    return new URL(c.req.url).protocol === "https:"
}
