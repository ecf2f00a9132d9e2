import { randomUUID } from "node:crypto"
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js"
import { isInitializeRequest, type JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js"
import type { IncomingMessage } from "node:http"
import { Hono, type Context } from "hono"
import { HTTPException } from "hono/http-exception"
import type * as gateway from "../gateway/index.ts"
import { bearer, type Env } from "./auth.ts"
import { Events } from "./events.ts"
import { Lanes, type Held as Lane } from "./lane.ts"

/** Bounds on the Streamable HTTP sessions one process holds. */
export interface Limits {
    /** sessions held at once; an initialize beyond it gets 503 */
    sessions: number
    /** a session without a request for this long (ms) is closed; the client re-initializes */
    idle: number
    /** SSE events kept per session for a client that reconnects with Last-Event-ID */
    events: number
}

/** The defaults: plenty for a team sharing one gateway, bounded for a machine left running. */
export const limits: Limits = { sessions: 1000, idle: 60 * 60 * 1000, events: 256 }

interface Held { transport: WebStandardStreamableHTTPServerTransport; seen: number; lanes: Lanes }

type Transport = WebStandardStreamableHTTPServerTransport
type Send = Transport["send"]
const standalone = new WeakMap<Transport, { send: Send; queue: Array<Parameters<Send>> }>()
// what a session keeps for a GET stream not yet open
const maxQueued = 64

/** The SDK's private bookkeeping of 1.32 that the answer mode below reads and updates. */
interface Internals {
    _streamMapping?: Map<string, Stream>
    _requestToStreamMapping?: Map<string | number, string>
}
interface Stream {
    resolveJson?: (r: Response) => void
    controller?: ReadableStreamDefaultController<Uint8Array>
    encoder?: { encode(s: string): Uint8Array }
    cleanup: () => void
}

/** Whether the session's GET stream is open. SDK 1.32 keeps this private; unknown counts as open. */
function listening(t: Transport): boolean {
    const m = (t as unknown as Internals)._streamMapping
    return m === undefined || m.has("_GET_stream")
}

const encoder = new TextEncoder()

/**
 * Turns a POST still waiting for its JSON answer into an SSE stream, because something other
 * than its answer (progress, a log message, a downstream's sampling or elicitation request) must
 * reach the client first. Returns the stream to write to, or undefined when the request has none.
 */
function upgrade(t: Transport, related: string | number): Stream | undefined {
    const i = t as unknown as Internals
    const id = i._requestToStreamMapping?.get(related)
    const s = id === undefined ? undefined : i._streamMapping?.get(id)
    if (id === undefined || s === undefined || s.resolveJson === undefined) return s
    let controller!: ReadableStreamDefaultController<Uint8Array>
    const body = new ReadableStream<Uint8Array>({ start: c => { controller = c } })
    const up: Stream = {
        controller, encoder,
        cleanup: () => {
            i._streamMapping?.delete(id)
            try {
                controller.close()
            } catch { /* the client went away */ }
        },
    }
    i._streamMapping!.set(id, up)
    const headers: Record<string, string> = { "content-type": "text/event-stream", "cache-control": "no-cache, no-transform" }
    if (t.sessionId !== undefined) headers["mcp-session-id"] = t.sessionId
    s.resolveJson(new Response(body, { status: 200, headers }))
    return up
}

function event(s: Stream, message: JSONRPCMessage): void {
    try {
        s.controller?.enqueue(encoder.encode(`event: message\ndata: ${JSON.stringify(message)}\n\n`))
    } catch { /* the client went away: the SDK's cleanup follows */ }
}

/**
 * How a session answers, in one place (the transport runs in JSON response mode):
 * - a request is answered with plain JSON, one write, unless something related to it must go
 *   first; then, and only then, its POST becomes an SSE stream (`upgrade`). Measured in process
 *   (client, app and gateway in one process, server-everything behind; CPU per echo call, three
 *   runs each): 0.92–1.12 ms so, 1.30–1.36 ms with every POST an SSE stream and an event store.
 * - what is sent outside any request (a downstream's list_changed, log messages, requests not
 *   tied to a call) goes to the GET stream, kept until the client opens it: the SDK would drop
 *   it, and a client that calls a tool right after initializing, while its GET stream is still
 *   connecting, would never see the sampling request that call causes.
 * Resumability (Last-Event-ID) is kept for the GET stream only, the one long-lived stream a
 * client reconnects to; a JSON answer has nothing to resume, and an upgraded stream ends with
 * its call.
 */
function answer(t: Transport, lanes: Lanes): void {
    const send = t.send.bind(t)
    const queue: Array<Parameters<Send>> = []
    standalone.set(t, { send, queue })
    t.send = (message, options) => {
        const response = "result" in message || "error" in message
        const related = response ? (message as { id: string | number }).id : options?.relatedRequestId
        if (related !== undefined) {
            if (lanes.write(message, related, t.sessionId)) return Promise.resolve()
            const s = response ? (t as unknown as Internals)._streamMapping?.get((t as unknown as Internals)._requestToStreamMapping?.get(related) ?? "") : upgrade(t, related)
            if (s?.controller !== undefined) event(s, message)
            // in JSON mode the SDK only records answers (and resolves or ends the POST); it writes nothing else
            return response ? send(message, options) : Promise.resolve()
        }
        if (listening(t)) return send(message, options)
        queue.push([message, options])
        if (queue.length > maxQueued) queue.shift()
        return Promise.resolve()
    }
}

/** Sends what waited for the GET stream, now open. */
async function flush(t: Transport): Promise<void> {
    const s = standalone.get(t)
    if (s === undefined || !listening(t)) return
    for (const args of s.queue.splice(0)) await s.send(...args)
}

function rpcError(status: number, code: number, message: string): Response {
    return Response.json({ jsonrpc: "2.0", error: { code, message }, id: null }, { status })
}

/**
 * The Streamable HTTP sessions of `/mcp`: each client session gets its own transport and its own
 * gateway connection (one SDK Server each; the downstream pool is shared). Session ids are
 * random UUIDs and never authenticate anything: the bearer token does, on every request.
 */
export class Sessions {
    private readonly held = new Map<string, Held>()
    private readonly sweep: NodeJS.Timeout
    private closed = false
    private readonly gw: gateway.Gateway
    private readonly lim: Limits

    constructor(gw: gateway.Gateway, lim: Limits = limits) {
        this.gw = gw
        this.lim = lim
        this.sweep = setInterval(() => this.expire(), Math.min(60_000, lim.idle))
        this.sweep.unref()
    }

    /** Sessions held now. */
    get size(): number {
        return this.held.size
    }

    /** The held session `id`, for the fast lane (lane.ts); a request on it counts as use. */
    lane(id: string): Lane | undefined {
        const h = this.held.get(id)
        if (h === undefined || this.closed) return undefined
        h.seen = Date.now()
        return h
    }

    /** One request to `/mcp`; `body` is the parsed JSON of a POST (the body cap has been applied). */
    async handle(req: Request, body: unknown): Promise<Response> {
        if (this.closed) return rpcError(503, -32000, "server is shutting down")
        const sid = req.headers.get("mcp-session-id")
        if (sid !== null) {
            const h = this.held.get(sid)
            if (h === undefined) return rpcError(404, -32001, "session not found")
            h.seen = Date.now()
            const res = await h.transport.handleRequest(req, req.method === "POST" ? { parsedBody: body } : undefined)
            if (req.method === "GET" && res.ok) await flush(h.transport)
            return res
        }
        const init = req.method === "POST" && (isInitializeRequest(body) || (Array.isArray(body) && body.some(m => isInitializeRequest(m))))
        if (!init) return rpcError(400, -32000, "bad request: no valid session id (send initialize first)")
        if (this.held.size >= this.lim.sessions) return rpcError(503, -32000, `too many sessions (${this.lim.sessions})`)
        const lanes = new Lanes()
        const t: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
            sessionIdGenerator: () => randomUUID(),
            onsessioninitialized: id => { this.held.set(id, { transport: t, seen: Date.now(), lanes }) },
            onsessionclosed: id => { this.held.delete(id) },
            eventStore: new Events(this.lim.events),
            retryInterval: 1000,
            enableJsonResponse: true,
        })
        t.onclose = () => {
            if (t.sessionId !== undefined) this.held.delete(t.sessionId)
            lanes.close()
        }
        answer(t, lanes)
        await this.gw.connect(t)
        const res = await t.handleRequest(req, { parsedBody: body })
        // an initialize the transport refused leaves no session: its gateway connection goes too
        if (t.sessionId === undefined || !this.held.has(t.sessionId)) await t.close()
        return res
    }

    /** Ends every session (their gateway connections close with them). */
    async close(): Promise<void> {
        this.closed = true
        clearInterval(this.sweep)
        const all = [...this.held.values()]
        this.held.clear()
        await Promise.allSettled(all.map(h => h.transport.close()))
    }

    private expire(): void {
        const cutoff = Date.now() - this.lim.idle
        for (const [id, h] of this.held) {
            if (h.seen >= cutoff) continue
            this.held.delete(id)
            h.transport.close().catch(() => { /* already gone */ })
        }
    }
}

/** The Node request under a hono context, when @hono/node-server serves it (not under app.request). */
export function node(c: Context): IncomingMessage | undefined {
    const env = c.env as { incoming?: IncomingMessage } | undefined
    return env?.incoming
}

/**
 * A POST's JSON body. Under @hono/node-server with a Content-Length (the cap in app.ts has
 * checked it), read straight from the Node stream: asking hono's request for its body builds a
 * web Request and a web stream per call. Measured with the body cap's matching shortcut (app.ts
 * `capped`): serve's CPU per echo call, four alternating runs of 2000 calls on this two-core
 * machine under load, median 1.49 ms with both, 2.02 ms without.
 */
async function json(c: Context): Promise<unknown> {
    const incoming = node(c)
    if (incoming === undefined || incoming.headers["content-length"] === undefined || incoming.headers["transfer-encoding"] !== undefined) return c.req.json()
    const chunks: Buffer[] = []
    for await (const b of incoming) chunks.push(b as Buffer)
    return JSON.parse(Buffer.concat(chunks).toString("utf8"))
}

/**
 * The MCP endpoint as a sub-app: the bearer token only (a browser page has no business here),
 * then the JSON body (already capped), then the session's transport.
 */
export function endpoint(sessions: Sessions, token: string): Hono<Env> {
    const mcp = new Hono<Env>()
    mcp.use("*", bearer(token, true))
    mcp.all("/", async c => {
        let body: unknown
        if (c.req.method === "POST") {
            try {
                body = await json(c)
            } catch (e) {
                if (e instanceof HTTPException) throw e
                return rpcError(400, -32700, "parse error: the body is not JSON")
            }
        }
        return sessions.handle(c.req.raw, body)
    })
    return mcp
}
