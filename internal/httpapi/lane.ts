/**
 * The fast lane of `/mcp`: a POST carrying one JSON-RPC message into a session this process
 * holds, served on node:http itself. It is most of what an MCP client sends (every tools/call
 * after initialize), and the full way (@hono/node-server building a web Request and Response,
 * hono's routing and bearer-auth, then the SDK transport zod-checking the message and resolving
 * a web Response) cost serve as much CPU again as everything else it does for a call. Measured
 * on 2026-11-26 (echo of server-everything behind `serve --http`, the SDK's client, 10 000 calls
 * with 32 in flight, this two-core machine): serve's CPU per call 392–415 µs the full way,
 * 188–218 µs in the lane; in `npm run bench http-compare`, throughput went from 1.03× to
 * 1.15× the better peer and p50 from 0.92× to 0.80× (the README has the runs).
 *
 * It takes only what it can answer exactly as the full way would; the checks are the same ones
 * (Host and Origin, the bearer token in constant time, the body cap, the headers the SDK
 * requires). A request that fails any of them, or that is anything else (GET, DELETE, no
 * session), goes the full way untouched, which refuses or serves it with its own words; a body
 * the lane read and does not answer itself (initialize, a batch, no JSON-RPC message) goes the
 * full way with that body. Answers still leave through the session's edge (gateway/edge.ts),
 * which scrubs them: this lane only carries the bytes.
 */
import { timingSafeEqual } from "node:crypto"
import type { IncomingMessage, ServerResponse } from "node:http"
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js"
import { SUPPORTED_PROTOCOL_VERSIONS, type JSONRPCMessage, type RequestId } from "@modelcontextprotocol/sdk/types.js"
import * as gateway from "../gateway/index.ts"
import { refusal } from "./guard.ts"

/** What a request must pass to take the lane. */
export interface Gate {
    /** the hostnames Host and Origin may name (guard.ts) */
    allowed: Set<string>
    /** the API token */
    token: string
    /** the largest body, bytes */
    maxBody: number
}

/** A session as the lane needs it: its transport (whose onmessage is the session's edge), and its lanes. */
export interface Held {
    transport: Pick<Transport, "onmessage">
    lanes: Lanes
}

/** The requests of one session being answered in the lane, by id. */
export class Lanes {
    private readonly open = new gateway.Ids<{ res: ServerResponse; sse: boolean }>()

    /**
     * Writes `m` if it belongs to a request in the lane: its answer (JSON, or the last event of
     * its stream), or something that must reach the client first (progress, a log message, a
     * server's own request), which turns the answer into an SSE stream. False when it is not ours.
     */
    write(m: JSONRPCMessage, related: RequestId, sessionId: string | undefined): boolean {
        const lane = this.open.get(related)
        if (lane === undefined) return false
        const answer = "result" in m || "error" in m
        if (answer) this.open.delete(related)
        const res = lane.res
        if (res.destroyed) return true
        if (!lane.sse && answer) {
            json(res, 200, JSON.stringify(m), sessionId)
            return true
        }
        if (!lane.sse) {
            lane.sse = true
            res.writeHead(200, { ...headers("text/event-stream", sessionId), "cache-control": "no-cache, no-transform" })
        }
        res.write(`event: message\ndata: ${JSON.stringify(m)}\n\n`)
        if (answer) res.end()
        return true
    }

    /** The session ended: every request still waiting is told so. */
    close(): void {
        for (const { res, sse } of this.open.values()) {
            if (sse || res.headersSent) res.end()
            else rpcError(res, 404, -32001, "Session not found")
        }
        this.open.clear()
    }

    add(id: RequestId, res: ServerResponse): void {
        this.open.set(id, { res, sse: false })
        // the client gave up: its answer has nowhere to go
        res.once("close", () => {
            if (this.open.get(id)?.res === res) this.open.delete(id)
        })
    }
}

function headers(type: string, sessionId: string | undefined): Record<string, string> {
    return sessionId === undefined ? { "content-type": type } : { "content-type": type, "mcp-session-id": sessionId }
}

/** A whole JSON answer, its length said (else Node would frame it in chunks: more bytes, one more write). */
function json(res: ServerResponse, status: number, body: string, sessionId?: string): void {
    res.writeHead(status, { ...headers("application/json", sessionId), "content-length": String(Buffer.byteLength(body)) }).end(body)
}

function rpcError(res: ServerResponse, status: number, code: number, message: string): void {
    json(res, status, JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null }))
}

/**
 * Builds the lane: `take(req, res)` serves the request and returns true, or returns false
 * having read nothing, for the full way. `session` finds a held session by its id; `full` is the
 * full way for a body already read that the lane does not answer itself (a batch, initialize,
 * anything that is not one JSON-RPC message), so the SDK answers it as it always does.
 */
export function lane(gate: Gate, session: (id: string) => Held | undefined, full: Full): (req: IncomingMessage, res: ServerResponse) => boolean {
    // One comparison of the token's length in bytes whatever is sent, so that neither the bytes
    // nor whether the length matched show in the time taken; no digest per request (hashing
    // both sides, as the full way does, was the lane's largest cost after parsing).
    const want = Buffer.from(gate.token)
    const bearer = (h: string | undefined) => {
        if (h === undefined || !h.startsWith("Bearer ")) return false
        const got = Buffer.from(h.slice(7).trim())
        const fits = got.length === want.length
        return timingSafeEqual(fits ? got : want, want) && fits
    }
    // the Host values seen, with their verdict (a Host names no secret): each is parsed once
    const seen = new Map<string, boolean>()
    const host = (value: string | undefined): boolean => {
        if (value === undefined) return false
        let ok = seen.get(value)
        if (ok === undefined) {
            ok = refusal(gate.allowed, value, undefined) === undefined
            if (seen.size >= 64) seen.clear()
            seen.set(value, ok)
        }
        return ok
    }
    return (req, res) => {
        if (req.method !== "POST" || req.url !== "/mcp") return false
        const h = req.headers
        const sid = h["mcp-session-id"]
        const held = typeof sid === "string" ? session(sid) : undefined
        if (held?.transport.onmessage === undefined) return false
        const guarded = h.origin === undefined ? host(h.host) : refusal(gate.allowed, h.host, h.origin) === undefined
        if (!guarded || !bearer(h.authorization)) return false
        const accept = h.accept, type = h["content-type"], version = h["mcp-protocol-version"], length = h["content-length"]
        if (accept === undefined || !accept.includes("application/json") || !accept.includes("text/event-stream")) return false
        if (type !== "application/json" && !/^application\/json\s*;/i.test(type ?? "")) return false
        if (version !== undefined && (typeof version !== "string" || !SUPPORTED_PROTOCOL_VERSIONS.includes(version))) return false
        if (length === undefined || h["transfer-encoding"] !== undefined || !(Number(length) <= gate.maxBody)) return false
        const chunks: Buffer[] = []
        req.on("data", (b: Buffer) => chunks.push(b))
        req.once("end", () => { deliver(held, Buffer.concat(chunks), req, res, full) })
        return true
    }
}

/** The full way for a body already read: the SDK transport's answer to it, as a web Response. */
export type Full = (req: Request, body: unknown) => Promise<Response>

/** One message, read whole: a request waits in the lane for its answer, a notification or an answer is accepted (202). */
function deliver(held: Held, body: Buffer, req: IncomingMessage, res: ServerResponse, full: Full): void {
    let m: unknown
    try {
        m = JSON.parse(body.toString("utf8"))
    } catch {
        // the full way's own words (mcp.ts endpoint)
        return rpcError(res, 400, -32700, "parse error: the body is not JSON")
    }
    const shape = kind(m)
    if (shape === undefined) {
        const url = `http://${req.headers.host ?? "localhost"}${req.url ?? "/mcp"}`
        const headers = Object.entries(req.headers).flatMap(([k, v]) => v === undefined ? [] : Array.isArray(v) ? v.map(x => [k, x] as [string, string]) : [[k, v] as [string, string]])
        full(new Request(url, { method: "POST", headers }), m).then(r => relay(r, res), () => { rpcError(res, 500, -32603, "internal error") })
        return
    }
    const message = m as JSONRPCMessage
    if (shape === "request") held.lanes.add((message as { id: RequestId }).id, res)
    else res.writeHead(202, { "content-length": "0" }).end()
    held.transport.onmessage?.(message, { requestInfo: { headers: req.headers } })
}

/** Writes a web Response to the Node one, its body as it comes (an SSE stream included). */
async function relay(r: Response, res: ServerResponse): Promise<void> {
    res.writeHead(r.status, Object.fromEntries(r.headers))
    const body = r.body
    if (body === null) return void res.end()
    res.once("close", () => { body.cancel().catch(() => { /* already done */ }) })
    try {
        for await (const chunk of body) res.write(chunk)
    } finally {
        res.end()
    }
}

/** Which messages the lane answers itself: one request (not initialize), or one notification or answer; undefined for the full way. */
function kind(m: unknown): "request" | "accepted" | undefined {
    if (typeof m !== "object" || m === null || Array.isArray(m)) return undefined
    const o = m as { jsonrpc?: unknown; id?: unknown; method?: unknown }
    if (o.jsonrpc !== "2.0") return undefined
    const id = typeof o.id === "string" || typeof o.id === "number"
    if (typeof o.method === "string") {
        if (o.method === "initialize") return undefined
        return id ? "request" : o.id === undefined ? "accepted" : undefined
    }
    return id && ("result" in o || "error" in o) ? "accepted" : undefined
}
