/**
 * `/mcp`: MCP over Streamable HTTP, served here outright, with no SDK transport underneath. One
 * gate (gate.ts) checks every request first, in one order (Host and Origin, a declared body over
 * the cap, the bearer token in constant time), whether it arrives on node:http (`serve --http`)
 * or as a web Request (hono's `app.request`, in tests; io.ts); then the method's own checks here,
 * then the session's channel (channel.ts).
 *
 * Why not the SDK's WebStandardStreamableHTTPServerTransport: what mcplexer needs of it (plain
 * JSON answers that turn into an SSE stream only when something must reach the client before the
 * answer; what is sent before the GET stream opens kept for it, not dropped) meant reading and
 * writing its private `_streamMapping`, which a patch release may change silently. And the web
 * Request and Response it speaks, built per call by @hono/node-server, cost serve as much CPU again
 * as everything else it does for a call: measured on 2026-11-26 (echo of server-everything behind
 * `serve --http`, the SDK's client, 10 000 calls, 32 in flight, this two-core machine) 392–415 µs
 * of serve's CPU per call that way, 188–218 µs on node:http directly. The figures of this file
 * against the peers are in the README (`npm run bench http-compare`).
 *
 * Answers still leave through the session's edge (gateway/edge.ts), which scrubs them: this file
 * only carries the bytes.
 */
import { randomUUID } from "node:crypto"
import type { IncomingMessage, ServerResponse } from "node:http"
import type { MessageExtraInfo } from "@modelcontextprotocol/sdk/types.js"
import type * as gateway from "../gateway/index.ts"
import * as wire from "../wire/index.ts"
import { Channel } from "./channel.ts"
import { Checks, type Gate } from "./gate.ts"
import { NodeIn, NodeOut, WebIn, WebOut, refuse, type In, type Out } from "./io.ts"

export { type Gate } from "./gate.ts"

/** Bounds on the Streamable HTTP sessions one process holds. */
export interface Limits {
    /** sessions held at once; an initialize beyond it gets 503 */
    sessions: number
    /** a session without a request for this long (ms) is closed; the client re-initializes */
    idle: number
    /** messages kept per session for its GET stream, to send when it opens or to replay after Last-Event-ID */
    events: number
}

/** The defaults: plenty for a team sharing one gateway, bounded for a machine left running. */
export const limits: Limits = { sessions: 1000, idle: 60 * 60 * 1000, events: 256 }

// the most messages one POST may hold
const batchMax = 100

/**
 * The Streamable HTTP sessions of `/mcp`: each client session gets its own channel and its own
 * gateway connection (one SDK Server each; the downstream pool is shared). Session ids are
 * random UUIDs and never authenticate anything: the bearer token does, on every request.
 */
export class Sessions {
    private readonly held = new Map<string, Channel>()
    private readonly sweep: NodeJS.Timeout
    private closed = false
    private readonly gw: gateway.Gateway
    private readonly lim: Limits
    private readonly gate: Gate
    private readonly checks: Checks

    constructor(gw: gateway.Gateway, gate: Gate, lim: Limits = limits) {
        this.gw = gw
        this.gate = gate
        this.lim = lim
        this.checks = new Checks(gate)
        this.sweep = setInterval(() => this.expire(), Math.min(60_000, lim.idle))
        this.sweep.unref()
    }

    /** Sessions held now. */
    get size(): number {
        return this.held.size
    }

    /** One request to `/mcp` on node:http. */
    node(req: IncomingMessage, res: ServerResponse): void {
        void this.serve(new NodeIn(req), new NodeOut(res))
    }

    /** One request to `/mcp` as a web Request (hono's app.request). */
    web(req: Request): Promise<Response> {
        const out = new WebOut()
        void this.serve(new WebIn(req), out)
        return out.response
    }

    /** Ends every session (their gateway connections close with them). */
    async close(): Promise<void> {
        this.closed = true
        clearInterval(this.sweep)
        const all = [...this.held.values()]
        this.held.clear()
        await Promise.allSettled(all.map(h => h.close()))
    }

    /** The gate, then the method. */
    private async serve(r: In, out: Out): Promise<void> {
        if (!this.checks.pass(r, out)) return
        if (this.closed) return refuse(out, 503, wire.codes.closed, "server is shutting down")
        try {
            if (r.method === "POST") return await this.post(r, out)
            if (r.method === "GET") return this.get(r, out)
            if (r.method === "DELETE") return await this.delete(r, out)
            refuse(out, 405, wire.codes.closed, "method not allowed: use POST, GET or DELETE", { allow: "GET, POST, DELETE" })
        } catch (e) {
            // the client went away while its body was read: nobody to answer
            if (out.closed) return
            this.gate.warn(`http: ${r.method} /mcp failed: ${e instanceof Error ? e.message : String(e)}`)
            refuse(out, 500, wire.codes.internal, "internal error")
        }
    }

    /** The session a request names, or undefined having answered 400 (none named) or 404 (unknown). */
    private session(r: In, out: Out): Channel | undefined {
        const sid = r.header("mcp-session-id")
        if (sid === undefined) {
            refuse(out, 400, wire.codes.closed, "bad request: no valid session id (send initialize first)")
            return undefined
        }
        const s = this.held.get(sid)
        if (s === undefined) {
            refuse(out, 404, wire.codes.timeout, "session not found")
            return undefined
        }
        s.seen = Date.now()
        return s
    }

    private async post(r: In, out: Out): Promise<void> {
        const accept = r.header("accept")
        if (accept === undefined || !accept.includes("application/json") || !accept.includes("text/event-stream")) {
            return refuse(out, 406, wire.codes.closed, "not acceptable: the client must accept both application/json and text/event-stream")
        }
        const type = r.header("content-type")
        if (type !== "application/json" && !/^application\/json\s*(;|$)/i.test(type ?? "")) {
            return refuse(out, 415, wire.codes.closed, "unsupported media type: Content-Type must be application/json")
        }
        const sid = r.header("mcp-session-id")
        const body = await r.body(this.gate.maxBody)
        if (body === undefined) return this.checks.tooLarge(out)
        let parsed: unknown
        try {
            parsed = JSON.parse(body.toString("utf8"))
        } catch {
            return refuse(out, 400, wire.codes.parse, "parse error: the body is not JSON")
        }
        const messages = Array.isArray(parsed) ? parsed : [parsed]
        if (messages.length === 0 || messages.length > batchMax) return refuse(out, 400, wire.codes.invalidRequest, `invalid request: a batch holds 1 to ${batchMax} messages`)
        let init = false
        for (const m of messages) {
            const k = wire.kind(m)
            if (k === undefined) return refuse(out, 400, wire.codes.invalidRequest, "invalid request: not a JSON-RPC message")
            if (k === "request" && (m as { method: string }).method === "initialize") init = true
        }
        const info: MessageExtraInfo = { requestInfo: { headers: r.headers() } }
        if (sid !== undefined) {
            const s = this.session(r, out)
            if (s === undefined) return
            if (init) return refuse(out, 400, wire.codes.invalidRequest, "invalid request: this session is already initialized")
            if (!this.checks.version(r, out)) return
            return s.post(messages, info, out)
        }
        if (!init) return refuse(out, 400, wire.codes.closed, "bad request: no valid session id (send initialize first)")
        if (messages.length > 1) return refuse(out, 400, wire.codes.invalidRequest, "invalid request: initialize must be sent alone")
        if (this.held.size >= this.lim.sessions) return refuse(out, 503, wire.codes.closed, `too many sessions (${this.lim.sessions})`)
        const s = new Channel(randomUUID(), this.lim.events)
        s.onclose = () => { if (this.held.get(s.sessionId) === s) this.held.delete(s.sessionId) }
        this.held.set(s.sessionId, s)
        await this.gw.connect(s)
        s.post(messages, info, out)
    }

    private get(r: In, out: Out): void {
        if (!(r.header("accept") ?? "").includes("text/event-stream")) {
            return refuse(out, 406, wire.codes.closed, "not acceptable: the client must accept text/event-stream")
        }
        const s = this.session(r, out)
        if (s === undefined || !this.checks.version(r, out)) return
        const raw = r.header("last-event-id")
        const last = raw === undefined ? undefined : /^\d{1,15}$/.test(raw) ? Number(raw) : NaN
        if (last !== undefined && !s.knows(last)) return refuse(out, 400, wire.codes.closed, "bad request: Last-Event-ID names no event of this session")
        if (s.listening()) return refuse(out, 409, wire.codes.closed, "conflict: only one GET stream is allowed per session")
        s.listen(out, last)
    }

    private async delete(r: In, out: Out): Promise<void> {
        const s = this.session(r, out)
        if (s === undefined || !this.checks.version(r, out)) return
        this.held.delete(s.sessionId)
        await s.close()
        out.send(200, {})
    }

    private expire(): void {
        const cutoff = Date.now() - this.lim.idle
        for (const [id, s] of this.held) {
            if (s.seen >= cutoff) continue
            this.held.delete(id)
            void s.close()
        }
    }
}
