// The gateway's parts wired together over one pool: sessions and their edges, lists, router, relay, audit, approvals.
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js"
import type { Tool } from "@modelcontextprotocol/sdk/types.js"
import type * as config from "../config/index.ts"
import type * as downstream from "../downstream/index.ts"
import type * as redact from "../redact/index.ts"
import type * as secrets from "../secrets/index.ts"
import { Approvals, type Ask } from "./approve.ts"
import { Trail } from "./audit.ts"
import { Edge } from "./edge.ts"
import { handle } from "./handlers.ts"
import { Lists } from "./lists.ts"
import { Relay } from "./relay.ts"
import { Router } from "./route.ts"
import type { Session } from "./session.ts"
import { approve, Shape, type State } from "./shape.ts"
import type * as store from "../store/index.ts"

/** What the hub needs besides the pool, which it is given by `attach` (the pool needs the relay's hooks first). */
export interface Options {
    config: config.Config
    registry: redact.Registry
    log: downstream.Logger
    /** for secret:// arguments, and its store for audit rows, approvals and leases */
    vault: secrets.Vault
    /** the session root of a client that offers no roots (serve's working directory) */
    cwd: string
}

// how often audit retention runs in a long-lived serve
const pruneInterval = 6 * 60 * 60 * 1000

/**
 * The gateway's parts wired together: the sessions (one edge each), the lists, the router and
 * the relay, the audit trail and the approvals, over one pool shared by every client.
 */
export class Hub {
    pool!: downstream.Pool
    readonly relay: Relay
    /** the audit trail: rows queued per call, written in batches */
    readonly trail: Trail
    private config: config.Config
    private readonly registry: redact.Registry
    private readonly log: downstream.Logger
    private readonly cwd: string
    private readonly sessions = new Set<Session>()
    private readonly edges = new Set<Edge>()
    private readonly lists: Lists
    private readonly router: Router
    private readonly approvals: Approvals
    private readonly shape: Shape
    private readonly store: store.Store
    private prune: NodeJS.Timeout | undefined

    constructor(o: Options) {
        this.config = o.config
        this.registry = o.registry
        this.log = o.log
        this.cwd = o.cwd
        this.trail = new Trail(o.vault.store, m => { this.log.warn(m) }, o.registry)
        this.store = o.vault.store
        this.shape = new Shape({ config: o.config, store: o.vault.store, trail: this.trail })
        this.approvals = new Approvals(o.vault.store, this.trail, (server, scope, why) => {
            this.log.info(`stopping server ${JSON.stringify(server)}${scope === undefined ? "" : ` (scope ${JSON.stringify(scope)})`}: ${why}`)
            void this.pool.stop({ server, scope }, why)
        }, m => { this.log.warn(m) })
        this.lists = new Lists({ config: o.config, pool: () => this.pool, log: o.log, announce: m => { this.relay.broadcast(m) }, observe: c => { this.shape.observe(c) } })
        this.relay = new Relay({ sessions: this.sessions, lists: this.lists, log: o.log })
        // the approval row's one scrubbing point: its arguments are kept in SQLite and shown by the CLI and UI
        const approvals = { ask: (a: Ask) => this.approvals.ask({ ...a, arguments: a.arguments && o.registry.scrubObject(a.arguments) }) }
        this.router = new Router({ config: o.config, lists: this.lists, relay: this.relay, approvals, trail: this.trail, vault: o.vault, registry: o.registry, shape: this.shape })
    }

    /** Gives the hub its pool; the pool needs the relay's hooks first, so this comes after construction. */
    attach(pool: downstream.Pool): void {
        this.pool = pool
        this.relay.pool = pool
    }

    /** Serves one client connection over `t`; `o.root` is its folder when the client offers no roots (default: serve's). */
    async connect(t: Transport, o: { root?: string } = {}): Promise<void> {
        const parts = { router: this.router, relay: this.relay, lists: this.lists, pool: () => this.pool }
        const edge = new Edge(t, {
            registry: this.registry, log: this.log, root: o.root ?? this.cwd, instructions: this.instructions(),
            inside: {
                tool: (s, params, ctx) => this.router.tool(s, params, ctx),
                handle: s => { handle(s, parts) },
                dropped: s => { this.drop(s, edge) },
            },
        })
        this.sessions.add(edge.session)
        this.edges.add(edge)
        await edge.connect()
    }

    /** The tools the client may be shown (with `all`, every tool with its state), with the server and original name of each. */
    async tools(o: { all?: boolean } = {}): Promise<Array<Tool & { server: string; original: string; state: State["state"] }>> {
        const t = await this.lists.refresh()
        const listed = t.tools.list.map(n => ({ ...n.item, name: n.exposed, server: n.server, original: n.original, state: this.shape.state(n.server, n.original).state }))
        return o.all ? listed : listed.filter(x => x.state === "enabled")
    }

    /** Accepts the definition a withheld tool presents now; false when nothing was waiting. */
    approve(server: string, tool: string, by: string): boolean {
        const done = approve(this.store, server, tool, by)
        if (done) {
            this.trail.add({ action: "tool-approved", actor: by, tool, server, status: "ok" })
            this.lists.changed(server)
        }
        return done
    }

    /** A tool's pin: the definition approved and the one last seen. */
    pin(server: string, tool: string): store.pins.Pin | undefined {
        return this.shape.pin(server, tool)
    }

    /** Naming collisions and how they were resolved, as of the last listing. */
    collisions(): string[] {
        return this.lists.current?.collisions ?? []
    }

    /** Takes a reloaded configuration: the pool gets it too, and the clients learn that the lists may have moved. */
    configure(c: config.Config): void {
        this.config = c
        this.pool.configure(c)
        this.router.configure(c)
        this.shape.configure(c)
        this.lists.configure(c)
    }

    /** Deletes audit rows (and finished approvals and leases) past the retention, now and then every few hours. */
    retain(): void {
        const run = () => {
            try {
                const n = this.trail.prune(this.config.audit.retentionDays)
                if (n > 0) this.log.info(`pruned ${n} audit rows older than ${this.config.audit.retentionDays} days`)
            } catch (e) {
                this.log.warn(`could not prune the audit trail: ${e instanceof Error ? e.message : String(e)}`)
            }
        }
        run()
        this.prune ??= setInterval(run, pruneInterval)
        this.prune.unref()
    }

    /** Closes every client connection, then every downstream instance. */
    async close(): Promise<void> {
        await Promise.allSettled([...this.sessions].map(s => s.server.close()))
        this.sessions.clear()
        this.edges.clear()
        if (this.prune !== undefined) clearInterval(this.prune)
        this.approvals.close()
        await this.pool.close()
        this.trail.flush()
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
        return `mcplexer serves the tools, prompts and resources of several MCP servers, each named after its server. What the servers say of themselves:\n\n${parts.join("\n\n")}`
    }

    private drop(session: Session, edge: Edge): void {
        this.sessions.delete(session)
        this.edges.delete(edge)
        for (const call of session.calls.values()) call.abort("the client closed the connection")
        session.calls.clear()
        this.relay.unsubscribe(session)
    }
}
