/**
 * One Streamable HTTP session's transport: what its gateway connection (the edge) writes to, and
 * where the answers, the event streams of POSTs and the session's GET stream are written. The
 * edge has scrubbed every message before it gets here.
 */
import type { Transport, TransportSendOptions } from "@modelcontextprotocol/sdk/shared/transport.js"
import type { JSONRPCMessage, MessageExtraInfo } from "@modelcontextprotocol/sdk/types.js"
import * as wire from "../wire/index.ts"
import { Events, type Event } from "./events.ts"
import { refuse, type Out } from "./io.ts"

const sseHeaders = { "content-type": "text/event-stream", "cache-control": "no-cache, no-transform", "x-accel-buffering": "no" }
// how often an idle GET stream gets a comment line, so that proxies and clients keep it open (the SDK's figure)
const keepAlive = 15_000

function event(m: object, id?: number): string {
    return id === undefined ? `event: message\ndata: ${JSON.stringify(m)}\n\n` : `event: message\nid: ${id}\ndata: ${JSON.stringify(m)}\n\n`
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
export class Channel implements Transport {
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

    /** `events`: how many messages are kept for the GET stream (Limits.events) */
    constructor(id: string, events: number) {
        this.sessionId = id
        this.events = new Events(events)
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
