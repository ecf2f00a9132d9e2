import { Server } from "@modelcontextprotocol/sdk/server/index.js"
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js"
import {
    CompleteRequestSchema, ErrorCode, GetPromptRequestSchema, ListPromptsRequestSchema,
    ListResourcesRequestSchema, ListResourceTemplatesRequestSchema, ListToolsRequestSchema, LoggingLevelSchema, McpError,
    ReadResourceRequestSchema, ResultSchema, RootsListChangedNotificationSchema, ElicitResultSchema, SetLevelRequestSchema,
    SubscribeRequestSchema, UnsubscribeRequestSchema,
    type CallToolRequest, type ClientCapabilities, type JSONRPCMessage, type LoggingLevel, type RequestId, type ServerResult, type Tool,
} from "@modelcontextprotocol/sdk/types.js"
import type * as config from "../config/index.ts"
import type * as downstream from "../downstream/index.ts"
import type * as redact from "../redact/index.ts"
import * as secrets from "../secrets/index.ts"
import { Approvals, type Ask } from "./approve.ts"
import { Trail } from "./audit.ts"
import { abortSignal, Call, context, Relayed, rpcError, toolParams, type Context } from "./call.ts"
import type * as names from "./names.ts"
import * as policy from "./policy.ts"
import * as refs from "./refs.ts"
import * as front from "./front.ts"
import * as tables from "./tables.ts"
import { absent, listChanged, shown, type Route, type Shown, type Tables } from "./tables.ts"

/** What the core needs besides the pool, which it is given by `attach` (the pool needs the core's hooks first). */
export interface Options {
    config: config.Config
    registry: redact.Registry
    log: downstream.Logger
    /** for secret:// arguments, and its store for audit rows, approvals and leases */
    vault: secrets.Vault
    /** the session root of a client that offers no roots (serve's working directory) */
    cwd: string
}

type Params = Record<string, unknown>

/** One client connection: stdio has one, Streamable HTTP one per session. */
export interface Session {
    server: Server
    /** its tools/calls in flight, which the client may cancel by id */
    calls: Map<RequestId, Call>
    level?: LoggingLevel
    subscriptions: Set<string>
    /** the folder used when the client offers no roots */
    root: string
    /** the session's folders: the client's roots, else `root` (undefined until known) */
    dirs?: string[]
    /** the client's root URIs as it listed them, if it did */
    uris?: string[]
    /** the roots request in flight */
    loading?: Promise<void>
    /** the workspaces containing `dirs`, most specific first, and the decisions made with them, as of `generation` */
    chain: config.Workspace[]
    decisions: Map<string, policy.Decision>
    generation: number
}

const severity = new Map(LoggingLevelSchema.options.map((l, i) => [l, i]))

// The client may take its time over a sampling or elicitation request (a person answers it);
// the downstream's own timeout and its cancellation (the signal) bound it first.
const relayTimeout = 60 * 60 * 1000

const capabilities = {
    tools: { listChanged: true },
    prompts: { listChanged: true },
    resources: { listChanged: true, subscribe: true },
    logging: {},
    completions: {},
}

const methodNotFound: number = ErrorCode.MethodNotFound

// how long a client may take to list its roots before serve's working directory is used instead
const rootsTimeout = 5000
// how often audit retention runs in a long-lived serve
const pruneInterval = 6 * 60 * 60 * 1000

// the id of the client's initialize when replayed to the SDK Server after the front answered it
const replayed = "mcplexer-front-initialize"

const macrotask = () => new Promise<void>(resolve => setImmediate(resolve))

function quote(s: string): string {
    return JSON.stringify(s)
}

/**
 * The MCP server the client sees: aggregates the catalogs of every configured server under
 * stable names, routes each call to the owning server and relays everything in between, scrubbed.
 */
export class Core {
    pool!: downstream.Pool
    readonly hooks: downstream.Hooks
    private config: config.Config
    private readonly registry: redact.Registry
    private readonly log: downstream.Logger
    private readonly sessions = new Set<Session>()
    private tables?: Tables
    private loading?: { generation: number; promise: Promise<Tables> }
    private generation = 0
    // what the client was last shown of each server, to announce only the lists that moved
    private shown = new Map<string, Shown>()
    // client requests in flight per instance ("server\0scope"), for the instance's own requests
    private readonly flights = new Map<string, Set<Context>>()
    private readonly vault: secrets.Vault
    private readonly cwd: string
    /** the audit trail: rows queued per call, written in batches */
    readonly trail: Trail
    private readonly approvals: Approvals
    private prune: NodeJS.Timeout | undefined

    constructor(o: Options) {
        this.config = o.config
        this.registry = o.registry
        this.log = o.log
        this.vault = o.vault
        this.cwd = o.cwd
        this.trail = new Trail(o.vault.store, m => { this.log.warn(this.registry.scrub(m)) })
        this.approvals = new Approvals(o.vault.store, this.trail, (server, scope, why) => {
            this.log.info(`stopping server ${quote(server)}${scope === undefined ? "" : ` (scope ${quote(scope)})`}: ${why}`)
            void this.pool.stop({ server, scope }, why)
        }, m => { this.log.warn(m) })
        this.hooks = {
            capabilities: () => this.clientCapabilities(),
            notification: (key, n) => this.notification(key, n),
            request: (key, r, signal) => this.request(key, r, signal),
            changed: server => this.changed(server),
            started: key => this.started(key),
            held: key => this.subscriptionsOn(key).length > 0,
        }
    }

    /** Gives the core its pool; the pool needs the hooks first, so this comes after construction. */
    attach(pool: downstream.Pool): void {
        this.pool = pool
    }

    /** Deletes audit rows (and finished approvals and leases) past the retention, now and then every few hours. */
    retain(): void {
        const run = () => {
            try {
                const n = this.trail.prune(this.config.audit.retentionDays)
                if (n > 0) this.log.info(`pruned ${n} audit rows older than ${this.config.audit.retentionDays} days`)
            } catch (e) {
                this.log.warn(`could not prune the audit trail: ${this.why(e)}`)
            }
        }
        run()
        this.prune ??= setInterval(run, pruneInterval)
        this.prune.unref()
    }

    /**
     * Serves one client connection over `t`; `o.root` is its folder when the client offers no
     * roots (default: serve's working directory). With `o.replay`, the client was first served by
     * the front (front.ts): what it took is handed on here as if it had come now. With
     * `o.answers`, the answers to initialize and the lists are saved there for the next front.
     */
    async connect(t: Transport, o: { root?: string; replay?: front.Replay; answers?: string } = {}): Promise<void> {
        const instructions = this.instructions()
        const server = new Server({ name: "mcplexer", version: "0.1.0" }, {
            capabilities,
            debouncedNotificationMethods: Object.values(listChanged),
            ...(instructions === undefined ? {} : { instructions }),
        })
        const session: Session = { server, calls: new Map(), subscriptions: new Set(), root: o.root ?? this.cwd, chain: [], decisions: new Map(), generation: -1 }
        server.oninitialized = () => { this.roots(session) }
        this.handle(session)
        server.onclose = () => { this.drop(session) }
        server.onerror = e => { this.log.debug("client connection error", { error: this.registry.scrub(e.message) }) }
        this.sessions.add(session)
        await server.connect(t)
        const recorder = o.answers === undefined ? undefined : this.recorder(session, o.answers)
        const send = t.send.bind(t)
        if (recorder !== undefined || o.replay?.initialize !== undefined) {
            t.send = (m, opts) => {
                recorder?.outgoing(m)
                // the SDK Server's answer to the replayed initialize: the client had the front's
                return (m as { id?: unknown }).id === replayed ? Promise.resolve() : send(m, opts)
            }
        }
        // tools/call, the per-call path, is served here before the SDK Server sees it: the Server
        // would zod-check the message twice and make an AbortController and a closure set per call
        const sdk = t.onmessage
        const deliver = (m: JSONRPCMessage, extra?: Parameters<NonNullable<Transport["onmessage"]>>[1]) => {
            recorder?.incoming(m)
            if (!this.take(session, t, m)) sdk?.(m, extra)
        }
        const r = o.replay
        if (r === undefined) {
            t.onmessage = deliver
            return
        }
        // what comes meanwhile waits behind what the front took, so nothing is reordered
        const queue = [...r.pending]
        t.onmessage = m => { queue.push(m) }
        if (r.initialize !== undefined) {
            const init = { ...r.initialize, id: replayed }
            recorder?.incoming(init)
            sdk?.(init)
            if (r.initialized) sdk?.({ jsonrpc: "2.0", method: "notifications/initialized" })
        }
        // the SDK Server takes both in microtasks; the roots request (oninitialized) must be out first
        await macrotask()
        for (let m = queue.shift(); m !== undefined; m = queue.shift()) deliver(m)
        t.onmessage = deliver
    }

    /** Records the answers `session` is given, for the next serve's front. */
    private recorder(session: Session, path: string): front.Recorder {
        return new front.Recorder({
            path,
            conn: this.vault.store,
            config: () => this.config.text,
            at: () => session.dirs === undefined ? undefined : front.where(session.uris, session.root),
            whole: () => this.tables !== undefined && this.tables.unavailable.size === 0,
            save: text => {
                try {
                    secrets.writeOver(path, Buffer.from(text))
                } catch (e) {
                    this.log.debug("could not save the first answers", { error: this.why(e) })
                }
            },
        })
    }

    /**
     * What the downstream servers say of themselves (their initialize `instructions`), from the
     * catalog cache, one section per server: nothing is started to learn them.
     */
    private instructions(): string | undefined {
        const parts: string[] = []
        for (const name of this.config.servers.keys()) {
            const text = this.pool.cached(name)?.instructions?.trim()
            if (text) parts.push(`## ${name}\n\n${text}`)
        }
        if (parts.length === 0) return undefined
        return this.registry.scrub(`mcplexer serves the tools, prompts and resources of several MCP servers, each named after its server. What the servers say of themselves:\n\n${parts.join("\n\n")}`)
    }

    /** The tools the client sees, with the server and original name of each. */
    async tools(): Promise<Array<Tool & { server: string; original: string }>> {
        const t = await this.refresh()
        return this.registry.scrubObject(t.tools.list.map(n => ({ ...n.item, name: n.exposed, server: n.server, original: n.original })))
    }

    /** Naming collisions and how they were resolved, as of the last listing (call `tools()` first for a fresh answer). */
    collisions(): string[] {
        return this.tables?.collisions ?? []
    }

    /** Takes a reloaded configuration: the pool gets it too, and the client learns that the lists may have moved. */
    configure(c: config.Config): void {
        this.config = c
        this.pool.configure(c)
        this.generation++
        this.tables = undefined
        this.shown.clear()
        for (const kind of Object.keys(listChanged) as Array<keyof typeof listChanged>) this.broadcast(listChanged[kind])
    }

    /** Closes every client connection, then every downstream instance. */
    async close(): Promise<void> {
        await Promise.allSettled([...this.sessions].map(s => s.server.close()))
        this.sessions.clear()
        if (this.prune !== undefined) clearInterval(this.prune)
        this.approvals.close()
        await this.pool.close()
        this.trail.flush()
    }

    /**
     * Where a tool goes by its name alone: its server, with the server's own scope. A session's
     * call is then decided by the policy (`decide`, policy.ts), which may deny it, ask first, or
     * send it to another server or scope.
     */
    route(tool: string, t: Tables | undefined = this.tables): Route | undefined {
        return t?.routes.get(tool)
    }

    /** Takes a tools/call (and a cancellation of one) off the client's transport; false leaves the message to the SDK Server. */
    private take(session: Session, t: Transport, m: JSONRPCMessage): boolean {
        const method = (m as { method?: unknown }).method
        if (method === "tools/call") {
            const id = (m as { id?: unknown }).id
            if (typeof id !== "string" && typeof id !== "number") return false
            void this.serve(session, t, id, (m as { params?: unknown }).params)
            return true
        }
        if (method === "notifications/cancelled" && session.calls.size !== 0) {
            const params = (m as { params?: { requestId?: RequestId; reason?: unknown } }).params
            const call = params?.requestId === undefined ? undefined : session.calls.get(params.requestId)
            if (call === undefined) return false
            call.abort(params?.reason)
            return true
        }
        return false
    }

    /** Serves one tools/call and answers it on `t` as the SDK Server would, result or JSON-RPC error. */
    private async serve(session: Session, t: Transport, id: RequestId, raw: unknown): Promise<void> {
        let call: Call | undefined
        let m: JSONRPCMessage
        try {
            const params = toolParams(raw)
            call = new Call(session, t, id, params._meta?.progressToken)
            session.calls.set(id, call)
            m = { jsonrpc: "2.0", id, result: await this.tool(session, params, call) }
        } catch (e) {
            m = { jsonrpc: "2.0", id, error: rpcError(e, s => this.registry.scrub(s)) }
        }
        if (call === undefined) {
            t.send(m, { relatedRequestId: id }).catch(() => { /* the client is gone */ })
            return
        }
        if (session.calls.get(id) === call) session.calls.delete(id)
        call.answer(m)
    }

    /** One tools/call by its exposed name. */
    private async tool(session: Session, params: CallToolRequest["params"], ctx: Context): Promise<ServerResult> {
        const name = params.name
        const t = this.tables?.routes.has(name) ? this.tables : await this.refresh()
        const r = this.route(name, t)
        const n = t.tools.byName.get(name)
        if (r === undefined || n === undefined) {
            // a tool of a server that could not be listed: say why that server is down, with its fix
            const server = name.includes("__") ? name.slice(0, name.indexOf("__")) : undefined
            const why = server === undefined ? undefined : t.unavailable.get(server)
            if (server !== undefined && why !== undefined) {
                return this.failure(why, { server, original: name.slice(server.length + 2), key: { server, scope: undefined } }, true)
            }
            throw new Relayed(ErrorCode.InvalidParams, `unknown tool ${quote(this.registry.scrub(name))}`)
        }
        return this.call(session, r, n, params, ctx)
    }

    private handle(session: Session): void {
        const s = session.server
        s.setRequestHandler(ListToolsRequestSchema, async () => {
            const t = await this.refresh()
            if (session.loading) await session.loading
            // a tool the session cannot call is not listed to it
            const allowed = t.tools.list.filter(n => this.decide(session, n).action === "allow")
            return { tools: this.registry.scrubObject(allowed.map(n => n.exposed === n.item.name ? n.item : { ...n.item, name: n.exposed })) }
        })
        s.setRequestHandler(ListPromptsRequestSchema, async () => {
            const t = await this.refresh()
            return { prompts: this.registry.scrubObject(t.prompts.list.map(n => n.exposed === n.item.name ? n.item : { ...n.item, name: n.exposed })) }
        })
        s.setRequestHandler(GetPromptRequestSchema, async (req, extra) => {
            const name = req.params.name
            const r = (await this.tablesFor(t => t.promptRoutes.has(name))).promptRoutes.get(name)
            if (r === undefined) throw new Relayed(ErrorCode.InvalidParams, `unknown prompt ${quote(this.registry.scrub(name))}`)
            return this.forward(r, "prompts/get", req.params, context(session, extra), false)
        })
        s.setRequestHandler(ListResourcesRequestSchema, async () => {
            const t = await this.refresh()
            return { resources: this.registry.scrubObject(t.resources) }
        })
        s.setRequestHandler(ListResourceTemplatesRequestSchema, async () => {
            const t = await this.refresh()
            return { resourceTemplates: this.registry.scrubObject(t.templates.map(x => x.template)) }
        })
        s.setRequestHandler(ReadResourceRequestSchema, async (req, extra) => {
            const server = await this.owner(req.params.uri)
            return this.forward(this.serverRoute(server), "resources/read", req.params, context(session, extra), false)
        })
        s.setRequestHandler(SubscribeRequestSchema, async (req, extra) => {
            const uri = req.params.uri
            const server = await this.owner(uri)
            const result = await this.forward(this.serverRoute(server), "resources/subscribe", req.params, context(session, extra), false)
            session.subscriptions.add(uri)
            return result
        })
        s.setRequestHandler(UnsubscribeRequestSchema, async (req, extra) => {
            const uri = req.params.uri
            session.subscriptions.delete(uri)
            if (this.subscribed(uri)) return {}
            const server = await this.owner(uri)
            return this.forward(this.serverRoute(server), "resources/unsubscribe", req.params, context(session, extra), false)
        })
        s.setRequestHandler(CompleteRequestSchema, async (req, extra) => {
            const ref = req.params.ref
            let r: Route
            let params: Params = req.params
            if (ref.type === "ref/prompt") {
                const p = (await this.tablesFor(t => t.promptRoutes.has(ref.name))).promptRoutes.get(ref.name)
                if (p === undefined) throw new Relayed(ErrorCode.InvalidParams, `unknown prompt ${quote(this.registry.scrub(ref.name))}`)
                r = p
                params = { ...req.params, ref: { ...ref, name: p.original } }
            } else {
                r = this.serverRoute(await this.templateOwner(ref.uri))
            }
            try {
                return await this.forward(r, "completion/complete", params, context(session, extra), false)
            } catch (e) {
                // a server that does not complete offers nothing to complete, which is no error to the client
                if (e instanceof Relayed && e.code === methodNotFound) return { completion: { values: [], hasMore: false } }
                throw e
            }
        })
        s.setRequestHandler(SetLevelRequestSchema, req => {
            session.level = req.params.level
            this.forwardLevel()
            return {}
        })
        s.setNotificationHandler(RootsListChangedNotificationSchema, async () => {
            this.roots(session, true)
            await this.pool.notify("notifications/roots/list_changed")
        })
    }

    /**
     * Asks the client for its roots (when it offers them) and makes them the session's folders,
     * else serve's working directory. On a change, the session learns that its tool list may have moved.
     */
    private roots(session: Session, changed = false): void {
        const caps = session.server.getClientCapabilities()
        if (caps?.roots === undefined) {
            session.dirs = [session.root]
            return
        }
        const p = session.server.listRoots(undefined, { timeout: rootsTimeout }).then(r => {
            const dirs = policy.folders(r.roots.map(x => x.uri))
            session.dirs = dirs.length > 0 ? dirs : [session.root]
            session.uris = r.roots.map(x => x.uri)
        }, (e: unknown) => {
            this.log.debug("the client did not list its roots", { error: this.why(e) })
            session.dirs ??= [session.root]
        }).finally(() => {
            if (session.loading === p) session.loading = undefined
            session.generation = -1
            if (changed) this.send(session, listChanged.tools)
        })
        session.loading = p
    }

    /** The policy's decision for one tool in one session, cached until the config, the catalog or the session's roots move. */
    private decide(session: Session, n: names.Named<Tool>): policy.Decision {
        if (session.generation !== this.generation) {
            session.chain = policy.chain(this.config, session.dirs ?? [session.root])
            session.decisions.clear()
            session.generation = this.generation
        }
        let d = session.decisions.get(n.exposed)
        if (d === undefined) {
            d = policy.decide(this.config, session.chain, { name: n.exposed, server: n.server, readOnly: n.item.annotations?.readOnlyHint === true })
            session.decisions.set(n.exposed, d)
        }
        return d
    }

    /**
     * One tool call under the policy: denied, held for approval, its secret:// arguments resolved,
     * then forwarded; audited in every case (argument names only), never blocking other calls.
     */
    private async call(session: Session, r: Route, n: names.Named<Tool>, req: CallToolRequest["params"], ctx: Context): Promise<ServerResult> {
        const started = performance.now()
        if (session.loading) await session.loading
        const d = this.decide(session, n)
        const args = req.arguments
        const client = session.server.getClientVersion()?.name ?? "client"
        const detail: Params = { arguments: args === undefined ? [] : Object.keys(args) }
        const row = { action: "call", actor: client, tool: n.exposed, server: d.server, scope: d.scope, workspace: d.workspace, route: d.route, detail }
        const done = (status: string) => { this.trail.add({ ...row, status, latency: Math.round(performance.now() - started) }) }
        const refuse = (status: string, text: string): ServerResult => {
            done(status)
            return { content: [{ type: "text", text: this.registry.scrub(text) }], isError: true }
        }
        if (d.action === "deny") return refuse("denied", `tool ${quote(n.exposed)} is denied here by ${policy.origin(d)}; nothing was sent to server ${quote(d.server)}`)
        if (d.approval) {
            const a = await this.approvals.ask({
                decision: d, client, arguments: args && this.registry.scrubObject(args), elicit: this.elicitor(session), signal: abortSignal(ctx.signal),
            })
            if (!a.ok) {
                detail.approval = a.approval
                const what = a.status === "timeout" ? "timed out waiting for approval" : a.status === "cancelled" ? "was cancelled while waiting for approval" : "was denied"
                return refuse(a.status, `tool ${quote(n.exposed)} ${what} (${a.reason}); nothing was sent to server ${quote(d.server)}`)
            }
            if (a.approval !== undefined) detail.approval = a.approval
            if (a.lease !== undefined) detail.lease = a.lease
        }
        let params: Params = req
        if (args !== undefined && refs.has(args)) {
            try {
                params = { ...req, arguments: await refs.resolve(args, { vault: this.vault, registry: this.registry, trail: this.trail, decision: d, client }) }
            } catch (e) {
                if (e instanceof refs.RefError) return refuse("error", `${e.message}; nothing was sent to server ${quote(d.server)}\n${e.hint}`)
                throw e
            }
        }
        const to = d.server === r.server && d.scope === r.key.scope ? r : { server: d.server, original: r.original, key: { server: d.server, scope: d.scope } }
        try {
            const result = await this.forward(to, "tools/call", params, ctx, true)
            done(ctx.signal.aborted ? "cancelled" : (result as { isError?: boolean }).isError === true ? "error" : "ok")
            return result
        } catch (e) {
            done(ctx.signal.aborted ? "cancelled" : "error")
            throw e
        }
    }

    /** How to ask the person behind a session through elicitation, when its client can show a form. */
    private elicitor(session: Session): Ask["elicit"] {
        const e = session.server.getClientCapabilities()?.elicitation
        if (e === undefined || (e.form === undefined && e.url !== undefined)) return undefined
        return (form, signal, timeout) => session.server.request({ method: "elicitation/create", params: form }, ElicitResultSchema, { signal, timeout })
    }

    /**
     * One request to a downstream, its progress relayed under the client's own token and its
     * result scrubbed. The per-call path: a Map lookup has already happened, nothing here
     * validates, logs or writes.
     */
    private async forward(r: Route, method: string, params: Params, ctx: Context, tool: boolean): Promise<ServerResult> {
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
                    ctx.progress(this.registry.scrubObject({ ...p, progressToken: token }))
                },
            }
        }
        const flying = this.flying(r.key)
        flying.add(ctx)
        try {
            const result = await this.pool.request(r.key, method, out, o)
            // The SDK client drops a progress notification that arrives in the same tick as its
            // response (NOTES.md, issue 2580): let one macrotask pass after the last one relayed.
            if (relayed) await macrotask()
            return this.registry.scrubObject(result)
        } catch (e) {
            if (relayed) await macrotask()
            return this.failure(e, r, tool)
        } finally {
            flying.delete(ctx)
        }
    }

    /**
     * The client requests in flight to the instance `key`, so that what the instance asks
     * meanwhile (sampling, elicitation, roots) goes back to that client, on that request's own
     * stream (Streamable HTTP), not to whichever session came last. One set per instance ever
     * used, kept when empty: nothing is allocated per call.
     */
    private flying(key: downstream.Key): Set<Context> {
        const k = `${key.server}\0${key.scope ?? ""}`
        let set = this.flights.get(k)
        if (set === undefined) this.flights.set(k, set = new Set())
        return set
    }

    private failure(e: unknown, r: Route, tool: boolean): ServerResult {
        if (e instanceof secrets.MissingSecretError) {
            const scope = e.scope, key = e.key, server = e.server ?? r.server
            const text = `server ${quote(server)} cannot start: secret ${quote(key)} is missing from scope ${quote(scope)}\n` +
                `store it with: mcplexer secret put ${scope} ${key}`
            if (tool) return { content: [{ type: "text", text }], isError: true }
            throw new Relayed(ErrorCode.InternalError, text.replace("\n", "; "))
        }
        if (e instanceof McpError) {
            // McpError's message carries "MCP error <code>: " in front; the client's SDK adds it again
            const prefix = `MCP error ${e.code}: `
            const message = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message
            throw new Relayed(e.code, this.registry.scrub(message), this.registry.scrubObject(e.data))
        }
        throw new Relayed(ErrorCode.InternalError, `server ${quote(r.server)}: ${this.why(e)}`)
    }

    /** What went wrong, scrubbed: for log lines and errors bound for the client. */
    private why(e: unknown): string {
        return this.registry.scrub(e instanceof Error ? e.message : String(e))
    }

    private serverRoute(server: string): Route {
        return tables.serverRoute(this.config, server)
    }

    /** The current tables, rebuilt once if `ok` says they lack what the client asked for. */
    private async tablesFor(ok: (t: Tables) => boolean): Promise<Tables> {
        const t = this.tables
        if (t !== undefined && ok(t)) return t
        return this.refresh()
    }

    /** The server that owns a resource URI: listed by it, else matched by one of its templates. */
    private async owner(uri: string): Promise<string> {
        const t = await this.tablesFor(t => tables.owner(t, uri) !== undefined)
        const server = tables.owner(t, uri)
        if (server === undefined) throw new Relayed(-32002, `unknown resource ${quote(this.registry.scrub(uri))}`)
        return server
    }

    /** The server behind a completion/complete resource reference: a template of its own, else a URI it owns. */
    private async templateOwner(uri: string): Promise<string> {
        const own = (t: Tables) => t.templates.find(x => x.template.uriTemplate === uri)?.server
        const t = await this.tablesFor(t => own(t) !== undefined)
        return own(t) ?? this.owner(uri)
    }

    /** The server a resource URI belongs to, by the last listing: a listed resource, else the template it matches. */
    private ownerOf(uri: string): string | undefined {
        return this.tables === undefined ? undefined : tables.owner(this.tables, uri)
    }

    /** The URIs some client subscribed to that the instance `key` serves. */
    private subscriptionsOn(key: downstream.Key): string[] {
        const out = new Set<string>()
        for (const s of this.sessions) {
            for (const uri of s.subscriptions) {
                const server = this.ownerOf(uri)
                if (server === undefined || out.has(uri)) continue
                const k = this.serverRoute(server).key
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
                this.log.warn(`could not subscribe again to ${quote(uri)} on server ${quote(key.server)}: ${this.why(e)}`)
            })
        }
    }

    private subscribed(uri: string): boolean {
        for (const s of this.sessions) if (s.subscriptions.has(uri)) return true
        return false
    }

    /** The tables as of now: every server's catalog, from the cache or by starting it; concurrent callers share one load. */
    private refresh(): Promise<Tables> {
        if (this.loading?.generation === this.generation) return this.loading.promise
        const generation = this.generation
        const promise = this.load().then(t => {
            if (generation === this.generation) this.tables = t
            return t
        }).finally(() => {
            if (this.loading?.generation === generation) this.loading = undefined
        })
        this.loading = { generation, promise }
        return promise
    }

    private async load(): Promise<Tables> {
        const servers = [...this.config.servers.values()].sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
        const catalogs = new Map<string, downstream.Catalog>()
        const unavailable = new Map<string, unknown>()
        await Promise.all(servers.map(async s => {
            try {
                catalogs.set(s.name, this.pool.cached(s.name) ?? await this.pool.catalog(s.name))
            } catch (e) {
                unavailable.set(s.name, e)
                // left out of the lists; the pool's status says why
                const error = this.why(e)
                this.log.warn(`server ${quote(s.name)} is left out of the lists: ${error}`, { server: s.name, error })
            }
        }))
        for (const s of servers) {
            const c = catalogs.get(s.name)
            this.shown.set(s.name, c === undefined ? absent : shown(c))
        }
        return tables.build(this.config, servers, catalogs, unavailable)
    }

    /** A server's catalog moved: rebuild on the next request and tell the client which lists changed. */
    private changed(server: string): void {
        this.generation++
        this.tables = undefined
        const before = this.shown.get(server)
        // never shown (not listed yet, or the listing that is starting it now): nothing to announce
        if (before === undefined) return
        let after: Shown | undefined
        try {
            const c = this.pool.cached(server)
            after = c && shown(c)
        } catch {
            after = undefined
        }
        for (const kind of Object.keys(listChanged) as Array<keyof typeof listChanged>) {
            if (after === undefined || before[kind] !== after[kind]) this.broadcast(listChanged[kind])
        }
        this.shown.set(server, after ?? absent)
    }

    private broadcast(method: string, params?: Params): void {
        for (const s of this.sessions) this.send(s, method, params)
    }

    private send(s: Session, method: string, params?: Params): void {
        if (s.server.transport === undefined) return
        s.server.notification({ method, params }).catch((e: unknown) => {
            this.log.debug("notification to the client failed", { method, error: this.why(e) })
        })
    }

    /** A notification from a downstream: logging filtered by each client's level, resource updates to their subscribers. */
    private notification(key: downstream.Key, n: { method: string; params?: Params }): void {
        switch (n.method) {
            case "notifications/message": {
                const level = severity.get(n.params?.level as LoggingLevel) ?? 0
                let params: Params | undefined
                for (const s of this.sessions) {
                    if (s.level !== undefined && level < (severity.get(s.level) ?? 0)) continue
                    params ??= this.registry.scrubObject({ ...n.params, logger: n.params?.logger ?? key.server })
                    this.send(s, n.method, params)
                }
                return
            }
            case "notifications/resources/updated": {
                const uri = n.params?.uri
                if (typeof uri !== "string") return
                const params = this.registry.scrubObject(n.params)
                for (const s of this.sessions) if (s.subscriptions.has(uri)) this.send(s, n.method, params)
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
                this.broadcast(n.method, n.params && this.registry.scrubObject(n.params))
        }
    }

    /** A request from a downstream (sampling, elicitation, roots): asked of the latest client that can answer it. */
    private async request(key: downstream.Key, r: { method: string; params?: Params }, signal: AbortSignal): Promise<Params> {
        const need = r.method === "sampling/createMessage" ? "sampling" : r.method === "elicitation/create" ? "elicitation" : r.method === "roots/list" ? "roots" : undefined
        // the client whose call the instance is serving, if one can answer: on that call's stream
        for (const ctx of this.flights.get(`${key.server}\0${key.scope ?? ""}`) ?? []) {
            const s = ctx.session
            if (s.server.transport === undefined || (need !== undefined && s.server.getClientCapabilities()?.[need] === undefined)) continue
            if (ctx.signal.aborted) throw new McpError(ErrorCode.ConnectionClosed, "Request was cancelled")
            const params = r.params && this.registry.scrubObject(r.params)
            return s.server.request({ method: r.method, params }, ResultSchema, { signal, timeout: relayTimeout, relatedRequestId: ctx.id })
        }
        let session: Session | undefined
        for (const s of this.sessions) {
            if (s.server.transport === undefined) continue
            const caps = s.server.getClientCapabilities()
            if (need === undefined || caps?.[need] !== undefined) session = s
        }
        if (session === undefined) {
            throw new McpError(ErrorCode.MethodNotFound, `the client does not support ${quote(r.method)} (asked by server ${quote(key.server)})`)
        }
        const params = r.params && this.registry.scrubObject(r.params)
        return session.server.request({ method: r.method, params }, ResultSchema, { signal, timeout: relayTimeout })
    }

    /** What downstreams are told the client can do: the client's own sampling, elicitation and roots. */
    private clientCapabilities(): ClientCapabilities {
        const out: ClientCapabilities = {}
        for (const s of this.sessions) {
            const caps = s.server.getClientCapabilities()
            if (caps?.sampling) out.sampling = caps.sampling
            if (caps?.elicitation) out.elicitation = caps.elicitation
            if (caps?.roots) out.roots = caps.roots
        }
        return out
    }

    /** Sends every running downstream (or the instance `only`) the most verbose level any client asked for. */
    private forwardLevel(only?: downstream.Key): void {
        let level: LoggingLevel | undefined
        for (const s of this.sessions) {
            if (s.level !== undefined && (level === undefined || (severity.get(s.level) ?? 0) < (severity.get(level) ?? 0))) level = s.level
        }
        if (level === undefined) return
        // to every running instance: one that does not log answers method-not-found, which is fine
        for (const st of only === undefined ? this.pool.status() : [{ ...only, state: "running" }]) {
            if (st.state !== "running") continue
            this.pool.request({ server: st.server, scope: st.scope }, "logging/setLevel", { level }).catch((e: unknown) => {
                this.log.debug("logging/setLevel not taken", { server: st.server, error: this.why(e) })
            })
        }
    }

    private drop(session: Session): void {
        this.sessions.delete(session)
        for (const call of session.calls.values()) call.abort("the client closed the connection")
        session.calls.clear()
        for (const uri of session.subscriptions) {
            if (this.subscribed(uri)) continue
            const server = this.ownerOf(uri)
            if (server === undefined) continue
            this.pool.request(this.serverRoute(server).key, "resources/unsubscribe", { uri }).catch(() => { /* best effort */ })
        }
    }
}
