// Where output is scrubbed: the edge of one client connection, the only writer to that client.
import * as wire from "../wire/index.ts"
import { Server } from "@modelcontextprotocol/sdk/server/index.js"
import type { Transport, TransportSendOptions } from "@modelcontextprotocol/sdk/shared/transport.js"
import type { CallToolRequest, JSONRPCMessage, MessageExtraInfo, RequestId, ServerResult } from "@modelcontextprotocol/sdk/types.js"
import type * as downstream from "../downstream/index.ts"
import type * as redact from "../redact/index.ts"
import { Call, toolParams, type Context } from "./call.ts"
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
 * SDK Server (which zod-checks the request and the result and makes an AbortController per call).
 *
 * Scrubbing keeps one stream per client request in flight, through which every message that
 * belongs to it passes, in the order written, every string of each in document order: its
 * progress notifications, the server's requests made on its behalf (sampling, elicitation), and
 * its answer (result, or error message then data). So a value split across any two of them, or
 * two parts of one, is masked; the stream goes with the answer (or the client's cancellation).
 * Log notifications, which belong to no request, share one stream whatever their logger; any
 * other message is scrubbed as a stream of its own strings. An answer also takes over the start
 * of a value that the log notifications, or the stderr of the instance that served it (any
 * method: a tools/call, a resources/read, a prompts/get), ended on: only the held starts, so
 * nothing of either ever reaches the client.
 */
export class Edge implements Transport {
    onclose?: () => void
    onerror?: (error: Error) => void
    onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void
    readonly session: Session
    private readonly t: Transport
    private readonly registry: redact.Registry
    private readonly inside: Inside
    // the scrubbing stream of each client request that something was written for before its answer
    private readonly flows = new Map<RequestId, redact.Stream>()
    private logs: redact.Stream | undefined

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
        if (method === "notifications/cancelled") {
            const p = m.params as { requestId?: RequestId; reason?: unknown } | undefined
            // a cancelled request is not answered: its streams go now
            if (p?.requestId !== undefined && this.flows.size !== 0) this.flows.delete(p.requestId)
            if (p?.requestId !== undefined && this.session.logged.size !== 0) this.session.logged.delete(p.requestId)
            const call = p?.requestId === undefined || this.session.calls.size === 0 ? undefined : this.session.calls.get(p.requestId)
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
            m = wire.result(id, await this.inside.tool(s, params, call))
        } catch (e) {
            m = wire.failure(id, wire.of(e)) as JSONRPCMessage
        }
        if (call === undefined) return this.write(m, id)
        if (s.calls.get(id) === call) s.calls.delete(id)
        call.answer(m)
        // a cancelled call is not answered: its stream goes all the same
        if (this.flows.size !== 0) this.flows.delete(id)
    }

    private readonly write = (m: JSONRPCMessage, related: RequestId): void => {
        this.send(m, { relatedRequestId: related }).catch(() => { /* the client is gone: nothing to tell it */ })
    }

    /** `m` with every string bound for the client scrubbed; the id, method and jsonrpc fields as they are. */
    private scrub(m: Message, related: RequestId | undefined): JSONRPCMessage {
        if (m.result !== undefined || m.error !== undefined) {
            const s = this.answered(m.id)
            // a value a log notification began goes on in the answer (issue 19 re-probe: log, then result)
            if (this.logs !== undefined) s.adopt(this.logs)
            // and one the instance that served the request began on its stderr, whatever the method
            // (issue 19 re-probe: stderr "x <head>", then "<tail> end" in a tools/call result, a
            // resources/read or a prompts/get): the held starts of its log stream, none of its text
            if (this.session.logged.size !== 0 && m.id !== undefined) {
                const log = this.session.logged.get(m.id)
                if (log !== undefined) {
                    this.session.logged.delete(m.id)
                    s.adopt(log)
                }
            }
            if (m.result !== undefined) {
                const result = s.scrubObject(m.result)
                return result === m.result ? m : { ...m, result } as JSONRPCMessage
            }
            const error = s.scrubObject(m.error)
            return error === m.error ? m : { ...m, error } as JSONRPCMessage
        }
        if (m.params === undefined) return m
        const params = this.stream(m, related).scrubObject(m.params)
        return params === m.params ? m : { ...m, params }
    }

    /** The stream of a notification or request: its request's, the log notifications', or one of its own. */
    private stream(m: Message, related: RequestId | undefined): redact.Stream {
        if (m.method === "notifications/message") return this.logs ??= this.registry.stream()
        if (related === undefined) return this.registry.stream()
        return this.flow(related)
    }

    /** The stream of the client request `id`, made when something is first written for it. */
    private flow(id: RequestId): redact.Stream {
        let s = this.flows.get(id)
        if (s === undefined) this.flows.set(id, s = this.registry.stream())
        return s
    }

    /** The stream of the request `id` answers, which goes with the answer. */
    private answered(id: RequestId | undefined): redact.Stream {
        if (id === undefined || this.flows.size === 0) return this.registry.stream()
        const s = this.flows.get(id)
        if (s === undefined) return this.registry.stream()
        this.flows.delete(id)
        return s
    }
}
