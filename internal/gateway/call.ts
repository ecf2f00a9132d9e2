// A client request in flight, as the router and the relay see it, and the one way a failure becomes a JSON-RPC error.
import * as wire from "../wire/index.ts"
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js"
import {
    ErrorCode,
    type CallToolRequest, type JSONRPCMessage, type ProgressToken, type RequestId, type ServerNotification, type ServerRequest,
} from "@modelcontextprotocol/sdk/types.js"
import * as downstream from "../downstream/index.ts"
import type { Session } from "./session.ts"

type Params = Record<string, unknown>

/** A client request in flight, whichever way it came in: what relaying it downstream needs of it. */
export interface Context {
    readonly session: Session
    readonly id: RequestId
    /** aborted when the client cancels the request or goes away */
    readonly signal: downstream.Signal
    /** the client's progress token, when it asked for progress */
    readonly token: ProgressToken | undefined
    /** Tells the client of progress on this request (params as the downstream sent them, with the client's token); nothing once it was cancelled. */
    progress(params: Params): void
}

/** A request the SDK Server dispatched (every method but tools/call). */
export function context(session: Session, extra: RequestHandlerExtra<ServerRequest, ServerNotification>): Context {
    return {
        session,
        id: extra.requestId,
        signal: extra.signal,
        token: extra._meta?.progressToken,
        progress(params) {
            extra.sendNotification({ method: "notifications/progress", params } as ServerNotification).catch(() => { /* the client is gone: the call fails on its own */ })
        },
    }
}

/** How a Call writes to its client: the edge's one writer, naming the request. */
export type Write = (m: JSONRPCMessage, related: RequestId) => void

/**
 * One tools/call, served by the edge without the SDK Server (the per-call path: the Server would
 * zod-check the message twice and make an AbortController and a closure set per call). It is its
 * own cancel signal, lighter than an AbortController per call.
 */
export class Call implements Context, downstream.Signal {
    readonly session: Session
    readonly id: RequestId
    readonly token: ProgressToken | undefined
    aborted = false
    reason: unknown = undefined
    private readonly write: Write
    private listeners: Array<{ handleEvent(): void }> | undefined

    constructor(session: Session, write: Write, id: RequestId, token: ProgressToken | undefined) {
        this.session = session
        this.write = write
        this.id = id
        this.token = token
    }

    get signal(): downstream.Signal {
        return this
    }

    progress(params: Params): void {
        if (!this.aborted) this.write(wire.notification("notifications/progress", params), this.id)
    }

    /** Answers the request, unless it was cancelled (the client expects nothing then, as with the SDK). */
    answer(m: JSONRPCMessage): void {
        if (!this.aborted) this.write(m, this.id)
    }

    /** The client cancelled the request or went away. */
    abort(reason: unknown): void {
        if (this.aborted) return
        this.aborted = true
        this.reason = reason
        for (const l of this.listeners ?? []) l.handleEvent()
    }

    addEventListener(_type: "abort", listener: { handleEvent(): void }): void {
        (this.listeners ??= []).push(listener)
    }

    removeEventListener(_type: "abort", listener: { handleEvent(): void }): void {
        const i = this.listeners?.indexOf(listener) ?? -1
        if (i !== -1) this.listeners!.splice(i, 1)
    }
}

/** A real AbortSignal for code that needs one (approvals), following `s`; made only on that path. */
export function abortSignal(s: downstream.Signal): AbortSignal {
    if (s instanceof AbortSignal) return s
    const ac = new AbortController()
    if (s.aborted) ac.abort(s.reason)
    else s.addEventListener("abort", { handleEvent: () => { ac.abort(s.reason) } })
    return ac.signal
}

/** The params of a tools/call, checked as far as the gateway reads them. */
export function toolParams(p: unknown): CallToolRequest["params"] {
    const bad = (why: string) => new downstream.Failure(ErrorCode.InvalidParams, `invalid tools/call request: ${why}`)
    if (!isObject(p)) throw bad("params must be an object")
    if (typeof p.name !== "string") throw bad(`"name" must be a string`)
    if (p.arguments !== undefined && !isObject(p.arguments)) throw bad(`"arguments" must be an object`)
    const meta = p._meta
    if (meta !== undefined) {
        if (!isObject(meta)) throw bad(`"_meta" must be an object`)
        const token = meta.progressToken
        if (token !== undefined && typeof token !== "string" && typeof token !== "number") throw bad(`"progressToken" must be a string or a number`)
    }
    return p as CallToolRequest["params"]
}

function isObject(v: unknown): v is Params {
    return typeof v === "object" && v !== null && !Array.isArray(v)
}
