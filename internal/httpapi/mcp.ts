/**
 * `/mcp`: MCP over Streamable HTTP, served here outright, with no SDK transport underneath. One
 * gate checks every request first, in one order (Host and Origin, a declared body over the cap,
 * the bearer token in constant time), whether it arrives on node:http (`serve --http`) or as a
 * web Request (hono's `app.request`, in tests); then the method's own checks, then the session.
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
import { randomUUID, timingSafeEqual } from "node:crypto"
import type { IncomingMessage, ServerResponse } from "node:http"
import type { Transport, TransportSendOptions } from "@modelcontextprotocol/sdk/shared/transport.js"
import { SUPPORTED_PROTOCOL_VERSIONS, type JSONRPCMessage, type MessageExtraInfo } from "@modelcontextprotocol/sdk/types.js"
import type * as gateway from "../gateway/index.ts"
import * as wire from "../wire/index.ts"
import { Events, type Event } from "./events.ts"
import { refusal } from "./guard.ts"

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

/** What every request to `/mcp` must pass first. */
export interface Gate {
    /** the hostnames Host and Origin may name (guard.ts) */
    allowed: Set<string>
    /** the API token */
    token: string
    /** the largest body, bytes */
    maxBody: number
    /** where refusals of Host and Origin are logged */
    warn(message: string): void
}

/** A request as the endpoint reads it, from node:http or from a web Request. */
interface In {
    readonly method: string
    /** a header's value; `name` is lowercase */
    header(name: string): string | undefined
    /** every header, for the SDK Server's request info */
    headers(): Record<string, string | string[] | undefined>
    /** the body, or undefined when it is longer than `max` bytes (reading stops there); rejects when the client went away */
    body(max: number): Promise<Buffer | undefined>
}

/** Where an answer goes. */
interface Out {
    /** a whole answer */
    send(status: number, headers: Record<string, string>, body?: string): void
    /** the head of an event stream; `write` its events, then `end` */
    open(headers: Record<string, string>): void
    write(chunk: string): void
    end(): void
    /** the client hung up, or the answer is complete */
    readonly closed: boolean
    /** `f` runs when the connection closes, early or not */
    onclose(f: () => void): void
}

const sseHeaders = { "content-type": "text/event-stream", "cache-control": "no-cache, no-transform", "x-accel-buffering": "no" }
const batchMax = 100
// how often an idle GET stream gets a comment line, so that proxies and clients keep it open (the SDK's figure)
const keepAlive = 15_000

function event(m: object, id?: number): string {
    return id === undefined ? `event: message\ndata: ${JSON.stringify(m)}\n\n` : `event: message\nid: ${id}\ndata: ${JSON.stringify(m)}\n\n`
}

/** A JSON-RPC error about the request as a whole (no id), with its HTTP status. */
function refuse(out: Out, status: number, code: number, message: string, headers: Record<string, string> = {}): void {
    out.send(status, { "content-type": "application/json", ...headers }, JSON.stringify(wire.failure(null, wire.error(code, message))))
}

/** The requests of one POST waiting for their answers: plain JSON until something else must go first, then an event stream. */
interface Post {
    out: Out
    /** the requests of the POST in its order, each with its answer once it has one */
    slots: Array<{ id: wire.Id; answer?: object }>
    /** slots still without an answer */
    left: number
    batch: boolean
    sse: boolean
}

/**
 * One client session: the transport its gateway connection (the edge) writes to. A request's
 * answer goes to the POST that carried it; anything related to a request still waiting turns that
 * POST into an event stream; anything else goes to the session's GET stream, numbered and kept
 * (`Events`) until the stream opens, and for a client that reconnects.
 */
class Channel implements Transport {
    onclose?: () => void
    onerror?: (error: Error) => void
    onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void
    readonly sessionId: string
    seen = Date.now()
    private readonly posts = new Map<wire.Id, Post>()
    private readonly events: Events
    private stream?: { out: Out; timer: NodeJS.Timeout }
    // the last event written to a GET stream
    private written = 0
    private ended = false

    constructor(id: string, lim: Limits) {
        this.sessionId = id
        this.events = new Events(lim.events)
    }

    start(): Promise<void> {
        return Promise.resolve()
    }

    /** The one way out of the session, for the edge: see the class comment. */
    send(m: JSONRPCMessage, o?: TransportSendOptions): Promise<void> {
        const answer = "result" in m || "error" in m
        const related = answer ? (m as { id?: wire.Id }).id : o?.relatedRequestId
        if (related !== undefined && related !== null) {
            const p = this.posts.get(related)
            // its client hung up, or it was never a request of this session: nowhere to write
            if (p !== undefined) {
                if (answer) this.answer(p, related, m)
                else this.related(p, m)
            }
        } else if (!answer && !this.ended) {
            const e = this.events.add(m)
            if (this.stream !== undefined && !this.stream.out.closed) this.emit(this.stream.out, e)
        }
        return Promise.resolve()
    }

    /** Ends the session: every request still waiting is told so, its GET stream ends. */
    close(): Promise<void> {
        if (this.ended) return Promise.resolve()
        this.ended = true
        for (const p of new Set(this.posts.values())) {
            if (p.sse) p.out.end()
            else refuse(p.out, 404, wire.codes.timeout, "session not found", { "mcp-session-id": this.sessionId })
        }
        this.posts.clear()
        this.drop()
        this.onclose?.()
        return Promise.resolve()
    }

    /** The messages of one POST in this session; the body has passed every check. */
    post(messages: unknown[], info: MessageExtraInfo, out: Out): void {
        const p: Post = { out, slots: [], left: 0, batch: messages.length > 1, sse: false }
        const pass: unknown[] = []
        for (const m of messages) {
            if (wire.kind(m) === "request") {
                const id = (m as { id: wire.Id }).id
                if (this.posts.has(id)) {
                    // a second request with the id of one still waiting: the first keeps its
                    // answer, this one is refused at once rather than left without one
                    const why = `request id ${JSON.stringify(id)} is already in use by a request still in progress in this session`
                    p.slots.push({ id, answer: wire.failure(id, wire.error(wire.codes.invalidRequest, why)) })
                    continue
                }
                p.slots.push({ id })
                p.left++
                this.posts.set(id, p)
            }
            pass.push(m)
        }
        if (p.slots.length === 0) out.send(202, {})
        else if (p.left === 0) this.complete(p)
        else {
            out.onclose(() => {
                for (const { id } of p.slots) if (this.posts.get(id) === p) this.posts.delete(id)
            })
        }
        for (const m of pass) this.onmessage?.(m as JSONRPCMessage, info)
    }

    /** Opens the session's GET stream; after `last` (Last-Event-ID) it replays what followed that event. */
    listen(out: Out, last: number | undefined): void {
        this.drop()
        out.open({ ...sseHeaders, "mcp-session-id": this.sessionId })
        const timer = setInterval(() => { if (!out.closed) out.write(": keepalive\n\n") }, keepAlive)
        timer.unref()
        const s = { out, timer }
        this.stream = s
        out.onclose(() => {
            clearInterval(timer)
            if (this.stream === s) this.stream = undefined
        })
        for (const e of this.events.after(last ?? this.written)) this.emit(out, e)
    }

    /** Whether the GET stream is open. */
    listening(): boolean {
        return this.stream !== undefined && !this.stream.out.closed
    }

    /** Whether `id` (a Last-Event-ID) names an event of this session. */
    knows(id: number): boolean {
        return this.events.known(id)
    }

    private drop(): void {
        const s = this.stream
        if (s === undefined) return
        this.stream = undefined
        clearInterval(s.timer)
        s.out.end()
    }

    private emit(out: Out, e: Event): void {
        out.write(event(e.message, e.id))
        if (e.id > this.written) this.written = e.id
    }

    private json(): Record<string, string> {
        return { "content-type": "application/json", "mcp-session-id": this.sessionId }
    }

    private answer(p: Post, id: wire.Id, m: JSONRPCMessage): void {
        this.posts.delete(id)
        const slot = p.slots.find(x => x.id === id && x.answer === undefined)
        if (slot === undefined) return
        slot.answer = m
        p.left--
        if (p.out.closed) return
        if (p.sse) {
            p.out.write(event(m))
            if (p.left === 0) p.out.end()
            return
        }
        if (p.left === 0) this.complete(p)
    }

    /** Every request of a POST not turned into a stream is answered: one JSON answer, or the batch's in its order. */
    private complete(p: Post): void {
        p.out.send(200, this.json(), JSON.stringify(p.batch ? p.slots.map(x => x.answer) : p.slots[0]!.answer))
    }

    private related(p: Post, m: JSONRPCMessage): void {
        if (p.out.closed) return
        if (!p.sse) {
            p.sse = true
            p.out.open({ ...sseHeaders, "mcp-session-id": this.sessionId })
            // answers of a batch that came before the stream
            for (const x of p.slots) if (x.answer !== undefined) p.out.write(event(x.answer))
        }
        p.out.write(event(m))
    }
}

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
    private readonly want: Buffer
    // the Host values seen with no Origin, and their verdict (a Host names no secret): each is parsed once
    private readonly hosts = new Map<string, string | undefined>()

    constructor(gw: gateway.Gateway, gate: Gate, lim: Limits = limits) {
        this.gw = gw
        this.gate = gate
        this.lim = lim
        this.want = Buffer.from(gate.token)
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
        const why = this.refusal(r)
        if (why !== undefined) {
            this.gate.warn(`http: refused ${r.method} /mcp: ${why}`)
            return refuse(out, 403, wire.codes.closed, why)
        }
        const length = r.header("content-length")
        if (length !== undefined && !(Number(length) <= this.gate.maxBody)) return this.tooLarge(out)
        if (!this.bearer(r.header("authorization"))) {
            return refuse(out, 401, wire.codes.timeout, "unauthorized: send Authorization: Bearer <token> (mcplexer token)", { "www-authenticate": `Bearer realm="mcplexer"` })
        }
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

    private refusal(r: In): string | undefined {
        const host = r.header("host"), origin = r.header("origin")
        if (origin !== undefined || host === undefined) return refusal(this.gate.allowed, host, origin)
        if (this.hosts.has(host)) return this.hosts.get(host)
        const why = refusal(this.gate.allowed, host, undefined)
        if (this.hosts.size >= 64) this.hosts.clear()
        this.hosts.set(host, why)
        return why
    }

    // One comparison of the token's length in bytes whatever is sent, so that neither the bytes
    // nor whether the length matched show in the time taken; no digest per request (hashing both
    // sides was the largest cost of a call's checks after parsing).
    private bearer(h: string | undefined): boolean {
        const m = h === undefined ? null : /^Bearer +(\S+) *$/i.exec(h)
        if (m === null) return false
        const got = Buffer.from(m[1]!)
        const fits = got.length === this.want.length
        return timingSafeEqual(fits ? got : this.want, this.want) && fits
    }

    private tooLarge(out: Out): void {
        // the rest of the body is not read: the connection goes with the answer
        refuse(out, 413, wire.codes.invalidRequest, `request body is larger than ${this.gate.maxBody} bytes`, { connection: "close" })
    }

    private version(r: In, out: Out): boolean {
        const v = r.header("mcp-protocol-version")
        if (v === undefined || SUPPORTED_PROTOCOL_VERSIONS.includes(v)) return true
        refuse(out, 400, wire.codes.closed, `bad request: unsupported protocol version ${JSON.stringify(v)} (supported: ${SUPPORTED_PROTOCOL_VERSIONS.join(", ")})`)
        return false
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
        if (body === undefined) return this.tooLarge(out)
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
            if (!this.version(r, out)) return
            return s.post(messages, info, out)
        }
        if (!init) return refuse(out, 400, wire.codes.closed, "bad request: no valid session id (send initialize first)")
        if (messages.length > 1) return refuse(out, 400, wire.codes.invalidRequest, "invalid request: initialize must be sent alone")
        if (this.held.size >= this.lim.sessions) return refuse(out, 503, wire.codes.closed, `too many sessions (${this.lim.sessions})`)
        const s = new Channel(randomUUID(), this.lim)
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
        if (s === undefined || !this.version(r, out)) return
        const raw = r.header("last-event-id")
        const last = raw === undefined ? undefined : /^\d{1,15}$/.test(raw) ? Number(raw) : NaN
        if (last !== undefined && !s.knows(last)) return refuse(out, 400, wire.codes.closed, "bad request: Last-Event-ID names no event of this session")
        if (s.listening()) return refuse(out, 409, wire.codes.closed, "conflict: only one GET stream is allowed per session")
        s.listen(out, last)
    }

    private async delete(r: In, out: Out): Promise<void> {
        const s = this.session(r, out)
        if (s === undefined || !this.version(r, out)) return
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

class NodeIn implements In {
    private readonly req: IncomingMessage
    constructor(req: IncomingMessage) {
        this.req = req
    }

    get method(): string {
        return this.req.method ?? ""
    }

    header(name: string): string | undefined {
        const v = this.req.headers[name]
        return typeof v === "string" ? v : v === undefined ? undefined : v.join(", ")
    }

    headers(): Record<string, string | string[] | undefined> {
        return this.req.headers
    }

    body(max: number): Promise<Buffer | undefined> {
        const req = this.req
        return new Promise((resolve, reject) => {
            const chunks: Buffer[] = []
            let n = 0
            const data = (b: Buffer) => {
                n += b.length
                if (n <= max) return void chunks.push(b)
                req.off("data", data)
                req.pause()
                resolve(undefined)
            }
            req.on("data", data)
            req.once("end", () => { resolve(n > max ? undefined : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)) })
            req.once("close", () => { if (!req.complete && n <= max) reject(new Error("the client went away")) })
        })
    }
}

class NodeOut implements Out {
    private readonly res: ServerResponse
    constructor(res: ServerResponse) {
        this.res = res
    }

    send(status: number, headers: Record<string, string>, body?: string): void {
        const res = this.res
        if (res.headersSent || res.destroyed) return
        // its length said, or Node would frame it in chunks: more bytes, one more write
        res.writeHead(status, { ...headers, "content-length": body === undefined ? "0" : String(Buffer.byteLength(body)) }).end(body)
    }

    open(headers: Record<string, string>): void {
        if (this.res.headersSent || this.res.destroyed) return
        this.res.writeHead(200, headers)
        this.res.flushHeaders()
    }

    write(chunk: string): void {
        if (!this.closed) this.res.write(chunk)
    }

    end(): void {
        if (!this.res.writableEnded) this.res.end()
    }

    get closed(): boolean {
        return this.res.destroyed || this.res.writableEnded
    }

    onclose(f: () => void): void {
        this.res.once("close", f)
    }
}

class WebIn implements In {
    private readonly req: Request
    constructor(req: Request) {
        this.req = req
    }

    get method(): string {
        return this.req.method
    }

    header(name: string): string | undefined {
        return this.req.headers.get(name) ?? undefined
    }

    headers(): Record<string, string> {
        return Object.fromEntries(this.req.headers)
    }

    async body(max: number): Promise<Buffer | undefined> {
        const body = this.req.body
        if (body === null) return Buffer.alloc(0)
        const chunks: Uint8Array[] = []
        let n = 0
        for await (const c of body as AsyncIterable<Uint8Array>) {
            n += c.length
            // leaving the loop cancels the stream: nothing more is read
            if (n > max) return undefined
            chunks.push(c)
        }
        return Buffer.concat(chunks)
    }
}

class WebOut implements Out {
    readonly response: Promise<Response>
    private resolve!: (r: Response) => void
    private controller?: ReadableStreamDefaultController<Uint8Array>
    private done = false
    private readonly closers: Array<() => void> = []
    private readonly encoder = new TextEncoder()

    constructor() {
        this.response = new Promise(resolve => { this.resolve = resolve })
    }

    send(status: number, headers: Record<string, string>, body?: string): void {
        if (this.done || this.controller !== undefined) return
        this.done = true
        const { connection: _, ...rest } = headers
        this.resolve(new Response(body ?? null, { status, headers: rest }))
        this.closed_()
    }

    open(headers: Record<string, string>): void {
        if (this.done || this.controller !== undefined) return
        const body = new ReadableStream<Uint8Array>({
            start: c => { this.controller = c },
            cancel: () => {
                this.done = true
                this.closed_()
            },
        })
        this.resolve(new Response(body, { status: 200, headers }))
    }

    write(chunk: string): void {
        if (this.done) return
        try {
            this.controller?.enqueue(this.encoder.encode(chunk))
        } catch { /* the reader went away */ }
    }

    end(): void {
        if (this.done) return
        this.done = true
        try {
            this.controller?.close()
        } catch { /* the reader went away */ }
        if (this.controller === undefined) this.resolve(new Response(null, { status: 200 }))
        this.closed_()
    }

    get closed(): boolean {
        return this.done
    }

    onclose(f: () => void): void {
        if (this.done) return f()
        this.closers.push(f)
    }

    private closed_(): void {
        for (const f of this.closers.splice(0)) f()
    }
}
