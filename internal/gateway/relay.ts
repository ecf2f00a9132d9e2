// The downstream side: requests taken to the pool (where a scope is decrypted) and what servers send back unasked.
import {
    ErrorCode, LoggingLevelSchema, ResultSchema,
    type ClientCapabilities, type LoggingLevel, type ServerResult,
} from "@modelcontextprotocol/sdk/types.js"
import * as downstream from "../downstream/index.ts"
import type * as redact from "../redact/index.ts"
import * as secrets from "../secrets/index.ts"
import type { Context } from "./call.ts"
import type { Lists } from "./lists.ts"
import type { Session } from "./session.ts"
import * as tables from "./tables.ts"
import { listChanged, type Route } from "./tables.ts"

type Params = Record<string, unknown>

const severity = new Map(LoggingLevelSchema.options.map((l, i) => [l, i]))

// The client may take its time over a sampling or elicitation request (a person answers it);
// the downstream's own timeout and its cancellation (the signal) bound it first.
const relayTimeout = 60 * 60 * 1000

/**
 * What every downstream is told the client can do: all the gateway can relay, whichever client
 * connected first, so every server lists the same tools to every client (a server may list
 * more tools to a client that can sample, elicit or list roots). A request that the client in
 * question cannot answer gets a clear error instead (`request`).
 */
export const relayed: ClientCapabilities = { sampling: {}, elicitation: {}, roots: { listChanged: true } }

const macrotask = () => new Promise<void>(resolve => setImmediate(resolve))

const quote = (s: string) => JSON.stringify(s)

/**
 * The downstream side of the gateway: requests relayed to the pool (where an instance is started
 * and its scope decrypted, downstream/instance.ts), their progress relayed from the transport,
 * and what the instances send back unasked (notifications, and their own requests for sampling,
 * elicitation and roots) delivered to the clients. It never scrubs: each client's edge does.
 */
export class Relay {
    pool!: downstream.Pool
    readonly hooks: downstream.Hooks
    private readonly sessions: Set<Session>
    private readonly lists: Lists
    private readonly log: downstream.Logger
    // client requests in flight per instance ("server\0scope"), for the instance's own requests,
    // each under a number of its own (a client's request id is unique to its session only)
    private readonly flights = new Map<string, downstream.Ids<Context>>()
    // the log stream of each instance's latest process ("server\0scope"), which its answers may continue
    private readonly logs = new Map<string, redact.Stream>()
    private seq = 0

    constructor(o: { sessions: Set<Session>; lists: Lists; log: downstream.Logger }) {
        this.sessions = o.sessions
        this.lists = o.lists
        this.log = o.log
        this.hooks = {
            capabilities: () => relayed,
            notification: (key, n) => { this.notification(key, n) },
            request: (key, r, signal) => this.request(key, r, signal),
            changed: server => { this.lists.changed(server) },
            started: key => { this.started(key) },
            held: key => this.subscriptionsOn(key).length > 0,
            logged: (key, stream) => { this.logs.set(instance(key), stream) },
        }
    }

    /**
     * One request to a downstream, its progress relayed under the client's own token. The
     * per-call path: a Map lookup has already happened, nothing here validates, logs or writes.
     */
    async forward(r: Route, method: string, params: Params, ctx: Context, tool: boolean): Promise<ServerResult> {
        const token = ctx.token
        const out: Params = { ...params }
        if (r.original !== "") out.name = r.original
        let o: downstream.RequestOptions = { signal: ctx.signal }
        let relayed = false
        if (token !== undefined) {
            // the pool gives the downstream a token of its own; the client's stays here
            const { progressToken: _, ...meta } = params._meta as Params
            if (Object.keys(meta).length > 0) out._meta = meta
            else delete out._meta
            o = {
                signal: ctx.signal,
                onprogress: p => {
                    relayed = true
                    ctx.progress({ ...p, progressToken: token })
                },
            }
        }
        const k = instance(r.key)
        const flying = this.flying(k)
        const n = ++this.seq
        flying.set(n, ctx)
        try {
            const result = await this.pool.request(r.key, method, out, o)
            // The SDK client drops a progress notification that arrives in the same tick as its
            // response (NOTES.md, issue 2580): let one macrotask pass after the last one relayed.
            if (relayed) await macrotask()
            return result
        } catch (e) {
            if (relayed) await macrotask()
            return failure(e, r, tool)
        } finally {
            flying.delete(n)
            // the edge scrubs the answer as going on from what the instance wrote to its log (any
            // method: a tools/call, a resources/read, a prompts/get); known only now when this
            // request started the instance. A cancelled request is not answered: nothing to take.
            if (this.logs.size !== 0 && !ctx.signal.aborted) {
                const log = this.logs.get(k)
                if (log !== undefined) ctx.session.logged.set(ctx.id, log)
            }
        }
    }

    /** Sends every running downstream (or the instance `only`) the most verbose level any client asked for. */
    forwardLevel(only?: downstream.Key): void {
        let level: LoggingLevel | undefined
        for (const s of this.sessions) {
            if (s.level !== undefined && (level === undefined || (severity.get(s.level) ?? 0) < (severity.get(level) ?? 0))) level = s.level
        }
        if (level === undefined) return
        // to every running instance: one that does not log answers method-not-found, which is fine
        for (const st of only === undefined ? this.pool.status() : [{ ...only, state: "running" }]) {
            if (st.state !== "running") continue
            this.pool.request({ server: st.server, scope: st.scope }, "logging/setLevel", { level }).catch((e: unknown) => {
                this.log.debug("logging/setLevel not taken", { server: st.server, error: message(e) })
            })
        }
    }

    /** Whether some client is subscribed to `uri`. */
    subscribed(uri: string): boolean {
        for (const s of this.sessions) if (s.subscriptions.has(uri)) return true
        return false
    }

    /** A session ended: its subscriptions nobody else holds are dropped downstream. */
    unsubscribe(session: Session): void {
        for (const uri of session.subscriptions) {
            if (this.subscribed(uri)) continue
            const server = this.ownerOf(uri)
            if (server === undefined) continue
            this.pool.request(this.lists.serverRoute(server).key, "resources/unsubscribe", { uri }).catch(() => { /* best effort */ })
        }
    }

    /** Tells every client (its edge scrubs). */
    broadcast(method: string, params?: Params): void {
        for (const s of this.sessions) this.send(s, method, params)
    }

    private send(s: Session, method: string, params?: Params): void {
        if (s.server.transport === undefined) return
        s.server.notification({ method, params }).catch((e: unknown) => {
            this.log.debug("notification to the client failed", { method, error: message(e) })
        })
    }

    /**
     * The client requests in flight to the instance `k` names, so that what the instance asks
     * meanwhile (sampling, elicitation, roots) goes back to that client, on that request's own
     * stream (Streamable HTTP), not to whichever session came last. One table per instance ever
     * used, kept when empty.
     */
    private flying(k: string): downstream.Ids<Context> {
        let table = this.flights.get(k)
        if (table === undefined) this.flights.set(k, table = new downstream.Ids())
        return table
    }

    /** A notification from a downstream: logging filtered by each client's level, resource updates to their subscribers. */
    private notification(key: downstream.Key, n: { method: string; params?: Params }): void {
        switch (n.method) {
            case "notifications/message": {
                const level = severity.get(n.params?.level as LoggingLevel) ?? 0
                const params = { ...n.params, logger: n.params?.logger ?? key.server }
                for (const s of this.sessions) {
                    if (s.level === undefined || level >= (severity.get(s.level) ?? 0)) this.send(s, n.method, params)
                }
                return
            }
            case "notifications/resources/updated": {
                const uri = n.params?.uri
                if (typeof uri !== "string") return
                for (const s of this.sessions) if (s.subscriptions.has(uri)) this.send(s, n.method, n.params)
                return
            }
            // list_changed: the pool relearns the catalog and calls changed(), which announces what
            // moved; progress and cancellation belong to one request, which the pool handles
            case listChanged.tools:
            case listChanged.prompts:
            case listChanged.resources:
            case "notifications/progress":
            case "notifications/cancelled":
                return
            default:
                this.broadcast(n.method, n.params)
        }
    }

    /**
     * A request from a downstream (sampling, elicitation, roots): asked of the client whose call
     * the instance is serving, on that call's stream, else of the latest client; a client that
     * cannot answer it gets no question, and the server a clear error.
     */
    private async request(key: downstream.Key, r: { method: string; params?: Params }, signal: AbortSignal): Promise<Params> {
        const need = r.method === "sampling/createMessage" ? "sampling" : r.method === "elicitation/create" ? "elicitation" : r.method === "roots/list" ? "roots" : undefined
        // a URL-mode elicitation (a login link) needs a client that declared that mode
        const url = need === "elicitation" && r.params?.mode === "url"
        const can = (s: Session) => {
            const c = s.server.getClientCapabilities()
            return need === undefined || (c?.[need] !== undefined && (!url || c.elicitation?.url !== undefined))
        }
        const unable = (s: Session | undefined) => new downstream.Failure(ErrorCode.MethodNotFound,
            `${s === undefined ? "no client is connected that supports" : `the client ${quote(s.client)} does not support`} ${quote(url ? "elicitation/create (url mode)" : r.method)} (asked by server ${quote(key.server)})`)
        for (const ctx of this.flights.get(instance(key))?.values() ?? []) {
            const s = ctx.session
            if (s.server.transport === undefined) continue
            if (ctx.signal.aborted) throw new downstream.Failure(ErrorCode.ConnectionClosed, "the client cancelled the request")
            if (!can(s)) throw unable(s)
            return s.server.request({ method: r.method, params: r.params }, ResultSchema, { signal, timeout: relayTimeout, relatedRequestId: ctx.id })
        }
        let session: Session | undefined
        for (const s of this.sessions) if (s.server.transport !== undefined && can(s)) session = s
        if (session === undefined) throw unable(undefined)
        return session.server.request({ method: r.method, params: r.params }, ResultSchema, { signal, timeout: relayTimeout })
    }

    /** The server a resource URI belongs to, by the last listing: a listed resource, else the template it matches. */
    private ownerOf(uri: string): string | undefined {
        const t = this.lists.current
        return t === undefined ? undefined : tables.owner(t, uri)
    }

    /** The URIs some client subscribed to that the instance `key` serves. */
    private subscriptionsOn(key: downstream.Key): string[] {
        const out = new Set<string>()
        for (const s of this.sessions) {
            for (const uri of s.subscriptions) {
                const server = this.ownerOf(uri)
                if (server === undefined || out.has(uri)) continue
                const k = this.lists.serverRoute(server).key
                if (k.server === key.server && k.scope === key.scope) out.add(uri)
            }
        }
        return [...out]
    }

    /**
     * An instance (re)started: a restart (a crash, a changed secret, an idle stop) lost what the
     * clients had set up on it, so the log level and their subscriptions are sent again.
     */
    private started(key: downstream.Key): void {
        this.forwardLevel(key)
        for (const uri of this.subscriptionsOn(key)) {
            this.pool.request(key, "resources/subscribe", { uri }).catch((e: unknown) => {
                this.log.warn(`could not subscribe again to ${quote(uri)} on server ${quote(key.server)}: ${message(e)}`)
            })
        }
    }
}

/** What a failed request becomes: a tool's missing secret a tool error with its fix, a Failure as it is, else a Failure naming the server. */
export function failure(e: unknown, r: Route, tool: boolean): ServerResult {
    if (e instanceof secrets.MissingSecretError) {
        const scope = e.scope, key = e.key, server = e.server ?? r.server
        const text = `server ${quote(server)} cannot start: secret ${quote(key)} is missing from scope ${quote(scope)}\n` +
            `store it with: mcplexer secret put ${scope} ${key}`
        if (tool) return { content: [{ type: "text", text }], isError: true }
        throw new downstream.Failure(ErrorCode.InternalError, text.replace("\n", "; "))
    }
    if (e instanceof downstream.Failure) throw e
    throw new downstream.Failure(ErrorCode.InternalError, `server ${quote(r.server)}: ${message(e)}`)
}

/** The flights table's name for an instance: "server\0scope". */
function instance(key: downstream.Key): string {
    return `${key.server}\0${key.scope ?? ""}`
}

function message(e: unknown): string {
    return e instanceof Error ? e.message : String(e)
}
