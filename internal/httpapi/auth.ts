import { createHash, randomBytes, timingSafeEqual } from "node:crypto"
import type { Context, MiddlewareHandler } from "hono"
import { bearerAuth } from "hono/bearer-auth"
import { getCookie } from "hono/cookie"

/** The name of the UI's session cookie. */
export const cookie = "mcplexer_session"

/** One browser login: when it ends, and the CSRF token its forms and API writes carry. */
interface Login { expires: number; csrf: string }

/**
 * The web UI's logins, kept in memory only: a random id per login (the cookie), an expiry, and
 * its own CSRF token. Nothing here is derived from the API token, so a cookie reveals nothing
 * and dies with its login: at logout, at expiry, or when `serve` stops.
 */
export class Logins {
    private readonly held = new Map<string, Login>()
    private readonly ttl: number
    constructor(ttl: number) {
        this.ttl = ttl
    }

    /** Starts a login; returns its id (the cookie value) and how long it lasts, in seconds. */
    start(): { id: string; maxAge: number } {
        this.sweep()
        const id = randomBytes(32).toString("base64url")
        this.held.set(id, { expires: Date.now() + this.ttl, csrf: randomBytes(32).toString("base64url") })
        return { id, maxAge: Math.ceil(this.ttl / 1000) }
    }

    /** The login a cookie names, or undefined when it is unknown, ended or expired. */
    get(id: string | undefined): Login | undefined {
        if (id === undefined) return undefined
        const l = this.held.get(id)
        if (l === undefined) return undefined
        if (l.expires > Date.now()) return l
        this.held.delete(id)
        return undefined
    }

    /** Ends a login: its cookie no longer works, whoever holds it. */
    end(id: string | undefined): void {
        if (id !== undefined) this.held.delete(id)
    }

    /** Logins held now. */
    get size(): number {
        return this.held.size
    }

    private sweep(): void {
        const now = Date.now()
        for (const [id, l] of this.held) if (l.expires <= now) this.held.delete(id)
    }
}

/** How a request proved itself. */
export type Via = "bearer" | "cookie"

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

/** The login a request's cookie names, if it is live. */
export function login(c: Context, logins: Logins): { id: string; csrf: string } | undefined {
    const id = getCookie(c, cookie)
    const l = logins.get(id)
    return l === undefined || id === undefined ? undefined : { id, csrf: l.csrf }
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
