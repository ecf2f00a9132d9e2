// Where a call is routed: tool → server, scope, policy, approval, secret:// arguments, audit.
import {
    ElicitResultSchema, ErrorCode,
    type CallToolRequest, type RequestId, type ServerResult, type Tool,
} from "@modelcontextprotocol/sdk/types.js"
import picomatch from "picomatch"
import type * as config from "../config/index.ts"
import * as downstream from "../downstream/index.ts"
import type * as redact from "../redact/index.ts"
import type * as secrets from "../secrets/index.ts"
import type { Approvals, Ask } from "./approve.ts"
import type { Trail } from "./audit.ts"
import { abortSignal, type Context } from "./call.ts"
import type { Lists } from "./lists.ts"
import type * as names from "./names.ts"
import * as policy from "./policy.ts"
import * as refs from "./refs.ts"
import { failure, type Relay } from "./relay.ts"
import type { Session } from "./session.ts"
import * as search from "../search/index.ts"
import { Shape } from "./shape.ts"
import * as tables from "./tables.ts"
import type { Route, Tables } from "./tables.ts"

type Params = Record<string, unknown>

const quote = (s: string) => JSON.stringify(s)
const nothing = (d: policy.Decision) => `nothing was sent to server ${quote(d.server)}`

/** What a refused call answers, and how its audit row ends. */
class Refusal {
    readonly status: string
    readonly text: string
    constructor(status: string, text: string) {
        this.status = status
        this.text = text
    }
}

/**
 * The router: where a call goes. A tool's name gives its server (tables.ts); the session's folders
 * give the workspaces whose routes decide (policy.ts) whether it may run, with which scope, on
 * which server, after whose approval; secret:// arguments are resolved here, then the relay
 * takes it downstream. Every call is audited (argument names only). It never scrubs: the edge does.
 */
export class Router {
    private config: config.Config
    private readonly lists: Lists
    private readonly relay: Relay
    private readonly approvals: Pick<Approvals, "ask">
    private readonly trail: Trail
    private readonly vault: secrets.Vault
    private readonly registry: redact.Registry
    private readonly shape: Shape
    // the search index of the tables it was built from: rebuilt only when the tables are
    private readonly indexes = new WeakMap<Tables, search.Index>()

    constructor(o: { config: config.Config; lists: Lists; relay: Relay; approvals: Pick<Approvals, "ask">; trail: Trail; vault: secrets.Vault; registry: redact.Registry; shape: Shape }) {
        this.config = o.config
        this.shape = o.shape
        this.lists = o.lists
        this.relay = o.relay
        this.approvals = o.approvals
        this.trail = o.trail
        this.vault = o.vault
        this.registry = o.registry
    }

    configure(c: config.Config): void {
        this.config = c
    }

    /**
     * The tools `session` may call, as it is shown them; waits for its folders first. Switched off,
     * withheld and quarantined tools are left out (shape.ts); in search mode the list is the two
     * search tools, what `always` names and what this session found (unless `add_found: false`).
     */
    async tools(session: Session, related: RequestId): Promise<Tool[]> {
        // the client's roots are asked while the tables load
        const [t, dirs] = await Promise.all([this.lists.refresh(), session.folders(related)])
        const mode = this.config.toolSearch
        const found = mode.addFound && session.found.size > 0 ? session.found : undefined
        const allowed = this.usable(session, dirs, t).filter(n => !mode.enabled || found?.has(n.exposed) === true || mode.always.some(g => matches(g, n.exposed)))
        const listed = allowed.map(n => n.exposed === n.item.name ? n.item : { ...n.item, name: n.exposed })
        return mode.enabled ? [...search.tools, ...listed] : listed
    }

    /** One tools/call by its exposed name (in search mode, also the two search tools). */
    async tool(session: Session, params: CallToolRequest["params"], ctx: Context): Promise<ServerResult> {
        const name = params.name
        if (this.config.toolSearch.enabled) {
            if (name === search.findTools.name) return this.find(session, params, ctx)
            if (name === search.callTool.name) return this.callByName(session, params, ctx)
        }
        const now = this.lists.current
        const t = now?.routes.has(name) ? now : await this.lists.having(t => t.routes.has(name))
        const r = t.routes.get(name)
        const n = t.tools.byName.get(name)
        if (r === undefined || n === undefined) return unknownTool(t, name)
        return this.call(session, r, n, params, ctx)
    }

    /** The tools the user lets through (shape.ts) that the policy allows in this session. */
    private usable(session: Session, dirs: string[], t: Tables): Array<names.Named<Tool>> {
        return t.tools.list.filter(n => this.shape.state(n.server, n.original).state === "enabled" && this.decide(session, dirs, n).action === "allow")
    }

    /** `mcplexer__find_tools`: the best matches among the tools this session may call, with their full input schemas. */
    private async find(session: Session, params: CallToolRequest["params"], ctx: Context): Promise<ServerResult> {
        const { query, limit } = params.arguments ?? {}
        if (typeof query !== "string" || query.trim() === "") return toolError(`${search.findTools.name} needs a query: the task in plain words`)
        const n = typeof limit === "number" && Number.isInteger(limit) && limit > 0 ? Math.min(limit, 50) : search.findLimit
        const [t, dirs] = await Promise.all([this.lists.refresh(), session.known ?? session.folders(ctx.id)])
        const usable = new Map(this.usable(session, dirs, t).map(x => [x.exposed, x]))
        let idx = this.indexes.get(t)
        if (idx === undefined) this.indexes.set(t, idx = search.index(t.tools.list.map(x => ({ ...x.item, name: x.exposed, server: x.server }))))
        // ranked over every tool once per tables, then cut to what this session may call
        const hits = search.rank(idx, query, t.tools.list.length).filter(h => usable.has(h.name)).slice(0, n)
        const found = hits.map(h => {
            const x = usable.get(h.name)!.item
            return { name: h.name, description: x.description ?? "", inputSchema: x.inputSchema, ...(x.annotations ? { annotations: x.annotations } : {}) }
        })
        const mode = this.config.toolSearch
        // a tool `always` lists is in the list already: finding it changes nothing
        if (mode.addFound && session.found.add(found.map(f => f.name).filter(x => !mode.always.some(g => matches(g, x))))) {
            // this session only, on the find's own stream (before its answer), so that an HTTP
            // client hears it even before it opened its GET stream
            await session.server.notification({ method: tables.listChanged.tools }, { relatedRequestId: ctx.id }).catch(() => { /* the client is gone */ })
        }
        return { content: [{ type: "text", text: found.length ? JSON.stringify(found, null, 2) : `no tool matches ${quote(query)}` }], structuredContent: { tools: found } }
    }

    /** `mcplexer__call_tool`: a call by name, through the same policy, approval, audit and edge as a direct one. */
    private async callByName(session: Session, params: CallToolRequest["params"], ctx: Context): Promise<ServerResult> {
        const { name, arguments: args } = params.arguments ?? {}
        if (typeof name !== "string" || name === search.findTools.name || name === search.callTool.name) {
            return toolError(`${search.callTool.name} needs the name of a tool ${search.findTools.name} returned`)
        }
        if (args !== undefined && (args === null || typeof args !== "object" || Array.isArray(args))) return toolError(`the arguments of ${quote(name)} must be an object`)
        const inner = { ...params, name, arguments: args as Params | undefined }
        const now = this.lists.current
        const t = now?.routes.has(name) ? now : await this.lists.having(t => t.routes.has(name))
        const r = t.routes.get(name)
        const n = t.tools.byName.get(name)
        if (r === undefined || n === undefined) return toolError(`unknown tool ${quote(name)}; find one with ${search.findTools.name}`)
        return this.call(session, r, n, inner, ctx)
    }

    /** The server that owns a resource URI: listed by it, else matched by one of its templates. */
    async owner(uri: string): Promise<Route> {
        const t = await this.lists.having(t => tables.owner(t, uri) !== undefined)
        const server = tables.owner(t, uri)
        if (server === undefined) throw new downstream.Failure(-32002, `unknown resource ${quote(uri)}`)
        return this.lists.serverRoute(server)
    }

    /** The server behind a completion/complete resource reference: a template of its own, else a URI it owns. */
    async templateOwner(uri: string): Promise<Route> {
        const own = (t: Tables) => t.templates.find(x => x.template.uriTemplate === uri)?.server
        const server = own(await this.lists.having(t => own(t) !== undefined))
        return server === undefined ? this.owner(uri) : this.lists.serverRoute(server)
    }

    /** A prompt's route by its exposed name. */
    async prompt(name: string): Promise<Route> {
        const r = (await this.lists.having(t => t.promptRoutes.has(name))).promptRoutes.get(name)
        if (r === undefined) throw new downstream.Failure(ErrorCode.InvalidParams, `unknown prompt ${quote(name)}`)
        return r
    }

    /** The policy's decision for one tool in one session, cached until the config, the catalog or the session's folders move. */
    private decide(session: Session, dirs: string[], n: names.Named<Tool>): policy.Decision {
        if (session.generation !== this.lists.generation) {
            session.chain = policy.chain(this.config, dirs)
            session.decisions.clear()
            session.generation = this.lists.generation
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
        const d = this.decide(session, session.known ?? await session.folders(ctx.id), n)
        const args = req.arguments
        const detail: Params = { arguments: args === undefined ? [] : Object.keys(args) }
        const done = (status: string) => {
            this.trail.add({
                action: "call", actor: session.client, tool: n.exposed, server: d.server, scope: d.scope, workspace: d.workspace, route: d.route, detail,
                status, latency: Math.round(performance.now() - started),
            })
        }
        const st = this.shape.state(n.server, n.original)
        const refused = st.state !== "enabled" ? new Refusal(st.state, Shape.refusal(n.exposed, st)!)
            : d.action === "deny" ? new Refusal("denied", `tool ${quote(n.exposed)} is denied here by ${policy.origin(d)}; ${nothing(d)}`)
            : d.approval ? await this.approve(session, d, n, args, ctx, detail) : undefined
        const params = refused ?? (args !== undefined && refs.has(args) ? await this.resolve(session, d, req) : req)
        if (params instanceof Refusal) {
            done(params.status)
            return { content: [{ type: "text", text: params.text }], isError: true }
        }
        const to = d.server === r.server && d.scope === r.key.scope ? r : { server: d.server, original: r.original, key: { server: d.server, scope: d.scope } }
        try {
            const result = await this.relay.forward(to, "tools/call", params, ctx, true)
            done(ctx.signal.aborted ? "cancelled" : (result as { isError?: boolean }).isError === true ? "error" : "ok")
            return result
        } catch (e) {
            done(ctx.signal.aborted ? "cancelled" : "error")
            throw e
        }
    }

    /** Asks for approval; a refusal when the person did not give it. */
    private async approve(session: Session, d: policy.Decision, n: names.Named<Tool>, args: Params | undefined, ctx: Context, detail: Params): Promise<Refusal | undefined> {
        const a = await this.approvals.ask({
            decision: d, client: session.client, arguments: args, elicit: elicitor(session), signal: abortSignal(ctx.signal),
        })
        if (!a.ok) {
            detail.approval = a.approval
            const what = a.status === "timeout" ? "timed out waiting for approval" : a.status === "cancelled" ? "was cancelled while waiting for approval" : "was denied"
            return new Refusal(a.status, `tool ${quote(n.exposed)} ${what} (${a.reason}); ${nothing(d)}`)
        }
        if (a.approval !== undefined) detail.approval = a.approval
        if (a.lease !== undefined) detail.lease = a.lease
        return undefined
    }

    /** The call's params with its secret:// arguments replaced by the values, or a refusal naming the fix. */
    private async resolve(session: Session, d: policy.Decision, req: CallToolRequest["params"]): Promise<Params | Refusal> {
        try {
            return { ...req, arguments: await refs.resolve(req.arguments, { vault: this.vault, registry: this.registry, trail: this.trail, decision: d, client: session.client }) }
        } catch (e) {
            if (e instanceof refs.RefError) return new Refusal("error", `${e.message}; ${nothing(d)}\n${e.hint}`)
            throw e
        }
    }
}

function toolError(text: string): ServerResult {
    return { content: [{ type: "text", text }], isError: true }
}

const globs = new Map<string, (s: string) => boolean>()
/** Whether glob `g` (over client-visible names) matches `name`. */
function matches(g: string, name: string): boolean {
    let m = globs.get(g)
    if (m === undefined) globs.set(g, m = picomatch(g, { dot: true }))
    return m(name)
}

/** A tool not in the tables: a tool of a server that could not be listed says why that server is down, with its fix. */
function unknownTool(t: Tables, name: string): ServerResult {
    const server = name.includes("__") ? name.slice(0, name.indexOf("__")) : undefined
    const why = server === undefined ? undefined : t.unavailable.get(server)
    if (server !== undefined && why !== undefined) {
        return failure(why, { server, original: name.slice(server.length + 2), key: { server, scope: undefined } }, true)
    }
    throw new downstream.Failure(ErrorCode.InvalidParams, `unknown tool ${quote(name)}`)
}

/** How to ask the person behind a session through elicitation, when its client can show a form. */
function elicitor(session: Session): Ask["elicit"] {
    const e = session.server.getClientCapabilities()?.elicitation
    if (e === undefined || (e.form === undefined && e.url !== undefined)) return undefined
    return (form, signal, timeout) => session.server.request({ method: "elicitation/create", params: form }, ElicitResultSchema, { signal, timeout })
}
