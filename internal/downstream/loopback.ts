import { randomBytes } from "node:crypto"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import * as config from "../config/index.ts"

/** What the authorization server sent back to the redirect URI. */
export interface Callback { code: string; iss?: string }

/**
 * The redirect target of one login (RFC 8252 §7.3): an HTTP listener on 127.0.0.1 at a random
 * port. It answers only `GET /callback` whose `state` is the one expected, whose Host is
 * 127.0.0.1:port (a page on another origin cannot reach it through DNS rebinding), and only once;
 * it closes after the code arrives, after an error, or after `timeout`.
 *
 * It also serves the login's start link, `GET /start/<random>`: the browser is given that link,
 * not the authorization URL, because a program's arguments are readable by every local user
 * (/proc/<pid>/cmdline) and the authorization URL carries the state and the PKCE challenge. The
 * start link redirects once; a second request for it means two readers, so the login fails
 * rather than ever completing for whoever came first unnoticed. A reader quick enough to finish a
 * whole login before the person's browser even asks for the link is caught by the hold: a login
 * completes no sooner than `hold` after its link was handed out, and the browser's own request
 * arriving meanwhile fails it.
 */
export class Loopback {
    /** where the authorization server sends the browser back */
    readonly url: string
    private readonly server: Server
    private readonly host: string
    private state: string | undefined
    private used = false
    private target: URL | undefined
    private startPath: string | undefined
    private started = false
    private handed = 0
    private readonly hold: number
    private timer: NodeJS.Timeout | undefined
    private result: Promise<Callback>
    private settle!: { ok: (c: Callback) => void; fail: (e: Error) => void }

    private constructor(server: Server, port: number, hold: number) {
        this.server = server
        this.hold = hold
        this.host = `127.0.0.1:${port}`
        this.url = `http://${this.host}/callback`
        this.result = new Promise<Callback>((ok, fail) => { this.settle = { ok, fail } })
        this.result.catch(() => {}) // observed by whoever awaits code(); never an unhandled rejection
        server.on("request", (req, res) => {
            const reply = (status: number, text: string) => {
                res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", connection: "close" }).end(`${text}\n`)
            }
            if (req.headers.host !== this.host) return reply(421, "mcplexer: wrong host")
            const u = new URL(req.url ?? "/", `http://${this.host}`)
            if (req.method === "GET" && this.startPath !== undefined && u.pathname === this.startPath) {
                if (this.started) {
                    reply(410, "mcplexer: this login link was opened already, so the login was stopped; start it again")
                    this.finish(config.hinted("the login link was opened twice, so the login was stopped and nothing was stored",
                        "start the login again; if this happens again, another program or user on this machine is opening your login links", { kind: "conflict" }))
                    return
                }
                this.started = true
                res.writeHead(302, { location: this.target?.href ?? "", "cache-control": "no-store", "referrer-policy": "no-referrer", connection: "close" }).end()
                return
            }
            if (req.method !== "GET" || u.pathname !== "/callback") return reply(404, "mcplexer: not found")
            if (this.used) return reply(410, "mcplexer: this login link was used already")
            // a callback can only follow the start link's redirect: nothing else knows the state
            if (this.startPath !== undefined && !this.started) return reply(400, "mcplexer: this login was not started from here")
            if (this.state === undefined || u.searchParams.get("state") !== this.state) return reply(400, "mcplexer: wrong state: this is not the login mcplexer started")
            this.used = true
            const error = u.searchParams.get("error")
            const code = u.searchParams.get("code")
            if (error !== null || code === null) {
                const why = error === null ? "no code" : `${error}${u.searchParams.has("error_description") ? `: ${u.searchParams.get("error_description")}` : ""}`
                reply(400, `mcplexer: the login failed (${why}); you can close this tab`)
                this.finish(config.hinted(`the authorization server refused the login: ${why.slice(0, 200)}`,
                    "start the login again; if it keeps failing, the authorization server's answer above says why", { kind: "unavailable" }))
                return
            }
            const iss = u.searchParams.get("iss")
            reply(200, "mcplexer: logged in; you can close this tab")
            const got = { code, ...(iss === null ? {} : { iss }) }
            const wait = this.handed + this.hold - Date.now()
            if (wait <= 0) return this.finish(got)
            // still listening: the person's browser asking for the start link now fails the login
            if (this.timer !== undefined) clearTimeout(this.timer)
            this.timer = setTimeout(() => this.finish(got), wait)
        })
    }

    /**
     * Listens on 127.0.0.1 at a random port; the listener gives up after `timeout` ms. A login
     * completes no sooner than `hold` ms after its start link was handed out (see the class).
     */
    static async open(timeout: number, hold = holdTime()): Promise<Loopback> {
        const server = createServer()
        await new Promise<void>((done, fail) => {
            server.once("error", fail)
            server.listen(0, "127.0.0.1", () => done())
        })
        const l = new Loopback(server, (server.address() as AddressInfo).port, hold)
        l.timer = setTimeout(() => l.finish(config.hinted(`no login arrived within ${Math.round(timeout / 1000)}s`,
            "start the login again and finish it in the browser that opens", { kind: "unavailable" })), timeout)
        l.timer.unref()
        return l
    }

    /** The state the callback must carry: the one in the authorization URL. */
    expect(state: string): void {
        this.state = state
    }

    /**
     * The one-shot link to give the browser instead of `authorization` (http://127.0.0.1:port/start/<random>):
     * it redirects there once; a second request fails the login.
     */
    start(authorization: URL): string {
        this.target = authorization
        this.startPath = `/start/${nonce()}`
        this.handed = Date.now()
        return `http://${this.host}${this.startPath}`
    }

    /** The code, once the browser comes back; rejects on a refused login or the timeout. */
    code(): Promise<Callback> {
        return this.result
    }

    /** Stops listening (idempotent); a login still waited for fails. */
    close(): void {
        this.finish(new Error("the login was abandoned"))
    }

    private finish(r: Callback | Error): void {
        if (this.timer !== undefined) clearTimeout(this.timer)
        this.timer = undefined
        if (r instanceof Error) this.settle.fail(r)
        else this.settle.ok(r)
        this.server.close()
        this.server.closeIdleConnections()
    }
}

/**
 * How long a login is held after its link is handed out, in ms: long enough for a browser to open
 * the link, so the person's own request still finds the listener. MCPLEXER_LOGIN_HOLD (seconds) sets
 * it; 0 turns the hold off (for logins driven by a program, where no second reader is feared).
 */
export const holdDefault = 5_000

function holdTime(env: NodeJS.ProcessEnv = process.env): number {
    const v = env.MCPLEXER_LOGIN_HOLD
    if (v === undefined || v === "") return holdDefault
    const n = Number(v)
    if (!Number.isFinite(n) || n < 0) {
        throw config.hinted(`MCPLEXER_LOGIN_HOLD ${JSON.stringify(v)} is not a number of seconds`,
            `set it to how long a login waits for the browser to open its link, e.g. 5, or unset it (default ${holdDefault / 1000})`, { kind: "input" })
    }
    return n * 1000
}

/** A random value for `state` (128 bits, URL-safe). */
export function nonce(): string {
    return randomBytes(16).toString("base64url")
}
