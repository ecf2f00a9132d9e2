// Where output is scrubbed: the edge of one client connection, the only writer to that client.
import { Server } from "@modelcontextprotocol/sdk/server/index.js"
import type { Transport, TransportSendOptions } from "@modelcontextprotocol/sdk/shared/transport.js"
import type { CallToolRequest, JSONRPCMessage, MessageExtraInfo, ProgressToken, RequestId, ServerResult } from "@modelcontextprotocol/sdk/types.js"
import type * as downstream from "../downstream/index.ts"
import type * as redact from "../redact/index.ts"
import { Call, rpcError, toolParams, type Context } from "./call.ts"
import { Session } from "./session.ts"

type Params = Record<string, unknown>
type Message = JSONRPCMessage & { id?: RequestId; method?: string; params?: Params; result?: unknown; error?: unknown }

/** What an edge hands its client's requests to. */
export interface Inside {
    /** One tools/call, decided and relayed by the router. */
    tool(session: Session, params: CallToolRequest["params"], ctx: Context): Promise<ServerResult>
    /** Sets up the session's SDK Server: every other method (handlers.ts). */
    handle(session: Session): void
    /** The connection ended. */
    dropped(session: Session): void
}

/** What every client is told the gateway serves. */
const capabilities = {
    tools: { listChanged: true },
    prompts: { listChanged: true },
    resources: { listChanged: true, subscribe: true },
    logging: {},
    completions: {},
}

/** The list_changed notifications, which the SDK Server sends once per tick at most. */
const debounced = ["notifications/tools/list_changed", "notifications/prompts/list_changed", "notifications/resources/list_changed"]

/**
 * The edge of one client connection (a stdio session or one Streamable HTTP session): the only
 * writer to that client. Every result, error, notification and request bound for the client
 * passes through `send` exactly once, and is scrubbed there: the place where output is scrubbed.
 *
 * It stands between the client's transport and the session's SDK Server (the Server's transport
 * is the edge), and takes tools/call and its cancellation off the transport itself, handing them
 * to the router: the per-call path. Measured (bench/gateway.ts, 32 calls in flight, two runs each,
 * 2026-11-26): serve used 37–40 µs of CPU per call this way, 72 µs with tools/call handled by the
 * SDK Server (which zod-checks the request and the result and makes an AbortController per call). Scrubbing follows REDACT-API.md: a result's strings as one
 * stream, so a value split across two content items is masked; the progress notifications of one
 * request as one stream (kept until the request is answered); the log lines of one logger as one.
 */
export class Edge implements Transport {
    onclose?: () => void
    onerror?: (error: Error) => void
    onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void
    readonly session: Session
    private readonly t: Transport
    private readonly registry: redact.Registry
    private readonly inside: Inside
    private readonly streams = new Map<ProgressToken, redact.Stream>()
    // the progress token of each request that had progress, to drop its stream with the answer
    private readonly tokens = new Map<RequestId, ProgressToken>()
    private readonly logs = new Map<string, redact.Stream>()

    constructor(t: Transport, o: { registry: redact.Registry; inside: Inside; log: downstream.Logger; root: string; instructions?: string }) {
        this.t = t
        this.registry = o.registry
        this.inside = o.inside
        const server = new Server({ name: "mcplexer", version: "0.1.0" }, {
            capabilities,
            debouncedNotificationMethods: debounced,
            ...(o.instructions === undefined ? {} : { instructions: o.instructions }),
        })
        this.session = new Session(server, o.root, o.log)
        server.onerror = e => { o.log.debug("client connection error", { error: e.message }) }
    }

    /** Connects the session's SDK Server through this edge to the client's transport. */
    async connect(): Promise<void> {
        this.inside.handle(this.session)
        await this.session.server.connect(this)
    }

    get sessionId(): string | undefined {
        return this.t.sessionId
    }

    /** Called by the SDK Server's connect: takes the client's transport over, keeping what its owner set on it. */
    async start(): Promise<void> {
        const t = this.t
        const closed = t.onclose, failed = t.onerror
        t.onclose = () => {
            closed?.()
            this.inside.dropped(this.session)
            this.onclose?.()
        }
        t.onerror = e => {
            failed?.(e)
            this.onerror?.(e)
        }
        t.onmessage = (m, extra) => { this.receive(m, extra) }
        await t.start()
    }

    /** The one way to the client: scrubs `m`, then writes it. */
    send(m: JSONRPCMessage, o?: TransportSendOptions): Promise<void> {
        return this.t.send(this.scrub(m, o?.relatedRequestId), o)
    }

    close(): Promise<void> {
        return this.t.close()
    }

    /** A message from the client: tools/call and its cancellation to the router, the rest to the SDK Server. */
    private receive(m: Message, extra?: MessageExtraInfo): void {
        const method = m.method
        if (method === "tools/call" && (typeof m.id === "string" || typeof m.id === "number")) {
            void this.call(m.id, m.params)
            return
        }
        if (method === "notifications/cancelled" && this.session.calls.size !== 0) {
            const p = m.params as { requestId?: RequestId; reason?: unknown } | undefined
            const call = p?.requestId === undefined ? undefined : this.session.calls.get(p.requestId)
            if (call !== undefined) return call.abort(p?.reason)
        }
        this.onmessage?.(m, extra)
    }

    /** Serves one tools/call and answers it, result or JSON-RPC error. */
    private async call(id: RequestId, raw: unknown): Promise<void> {
        const s = this.session
        let call: Call | undefined
        let m: JSONRPCMessage
        try {
            const params = toolParams(raw)
            call = new Call(s, this.write, id, params._meta?.progressToken)
            s.calls.set(id, call)
            m = { jsonrpc: "2.0", id, result: await this.inside.tool(s, params, call) }
        } catch (e) {
            m = { jsonrpc: "2.0", id, error: rpcError(e) }
        }
        if (call === undefined) return this.write(m, id)
        if (s.calls.get(id) === call) s.calls.delete(id)
        call.answer(m)
        // a cancelled call is not answered: its progress stream goes all the same
        this.done(id)
    }

    private readonly write = (m: JSONRPCMessage, related: RequestId): void => {
        this.send(m, { relatedRequestId: related }).catch(() => { /* the client is gone: nothing to tell it */ })
    }

    /** `m` with every string bound for the client scrubbed; the id, method and jsonrpc fields as they are. */
    private scrub(m: Message, related: RequestId | undefined): JSONRPCMessage {
        if (m.result !== undefined) {
            this.done(m.id)
            const result = this.registry.stream().scrubObject(m.result)
            return result === m.result ? m : { ...m, result } as JSONRPCMessage
        }
        if (m.error !== undefined) {
            this.done(m.id)
            const error = this.registry.scrubObject(m.error)
            return error === m.error ? m : { ...m, error } as JSONRPCMessage
        }
        if (m.params === undefined) return m
        const params = this.stream(m, related).scrubObject(m.params)
        return params === m.params ? m : { ...m, params }
    }

    /** The scrubber of a notification or request: its request's progress stream, its logger's stream, or the registry. */
    private stream(m: Message, related: RequestId | undefined): redact.Stream {
        const p = m.params!
        if (m.method === "notifications/progress") {
            const token = p.progressToken as ProgressToken
            let s = this.streams.get(token)
            if (s === undefined) {
                this.streams.set(token, s = this.registry.stream())
                if (related !== undefined) this.tokens.set(related, token)
            }
            return s
        }
        if (m.method === "notifications/message") {
            const logger = typeof p.logger === "string" ? p.logger : ""
            let s = this.logs.get(logger)
            if (s === undefined) this.logs.set(logger, s = this.registry.stream())
            return s
        }
        return this.registry
    }

    /** Request `id` is answered: its progress stream goes. */
    private done(id: RequestId | undefined): void {
        if (this.tokens.size === 0 || id === undefined) return
        const token = this.tokens.get(id)
        if (token === undefined) return
        this.tokens.delete(id)
        this.streams.delete(token)
    }
}
