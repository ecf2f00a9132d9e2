// One client connection's state: its folders (from its roots, never a guess) and what it set up.
import type { Server } from "@modelcontextprotocol/sdk/server/index.js"
import { ErrorCode, McpError, type LoggingLevel, type RequestId } from "@modelcontextprotocol/sdk/types.js"
import type * as config from "../config/index.ts"
import * as downstream from "../downstream/index.ts"
import type * as redact from "../redact/index.ts"
import * as policy from "./policy.ts"

/** How long a client that offers roots may take to list them. */
export const rootsTimeout = 5000

/** What a session must be able to stop: a tools/call in flight (call.ts). */
export interface Abortable { abort(reason: unknown): void }

/**
 * How many found tools a session's list holds at most: past it the oldest found leaves, so a long
 * session's list never grows back into the full list search mode replaced.
 */
export const foundCap = 50

/**
 * The tools `mcplexer__find_tools` returned to one session, by client-visible name, the most
 * recently found last. The router lists them beside the search tools, each only while it is
 * usable: a found tool later switched off, withheld or denied leaves the list on its own.
 */
export class Found {
    private readonly names = new Set<string>()
    private readonly cap: number

    constructor(cap = foundCap) {
        this.cap = cap
    }

    /** Takes the names of one find; true when one of them is new to the list (the client must be told). */
    add(names: Iterable<string>): boolean {
        let grew = false
        for (const n of names) {
            // found again: it becomes the newest, and the list itself does not change
            if (this.names.delete(n)) this.names.add(n)
            else {
                this.names.add(n)
                grew = true
            }
        }
        for (const oldest of this.names) {
            if (this.names.size <= this.cap) break
            this.names.delete(oldest)
        }
        return grew
    }

    /** Whether the session found the tool `name` (a client-visible name) and it is still among the newest foundCap. */
    has(name: string): boolean {
        return this.names.has(name)
    }

    /** How many found tools the session's list holds. */
    get size(): number {
        return this.names.size
    }
}

/**
 * One client connection as the router sees it: its SDK Server (whose transport is the edge), its
 * folders, and what it set up (log level, subscriptions, calls in flight). No policy decision is
 * taken before its folders are known: `folders()` waits for the client's roots.
 */
export class Session {
    readonly server: Server
    /** the folder of a client that offers no roots (serve's working directory, unless the connection named one) */
    readonly root: string
    /** tools/calls in flight, which the client may cancel by id */
    readonly calls = new downstream.Ids<Abortable>()
    /**
     * The log stream (stderr) of the instance that served each request not answered yet, whatever
     * its method, set by the relay: the edge's answer takes over the held starts of values the
     * instance began there (issue 19 re-probe), and the entry with it.
     */
    readonly logged = new downstream.Ids<redact.Stream>()
    readonly subscriptions = new Set<string>()
    /** in search mode, the tools this session found, which join its own tools/list */
    readonly found = new Found()
    level?: LoggingLevel
    /** the workspaces containing the folders, most specific first, and the decisions made with them, as of `generation` */
    chain: config.Workspace[] = []
    readonly decisions = new Map<string, policy.Decision>()
    generation = -1
    private dirs?: string[]
    // roots the client listed that cannot be read: every decision fails until they change
    private refused?: downstream.Failure
    private asking?: Promise<void>
    // why the last roots request failed
    private why = ""
    // bumped by a change of roots: an answer to an older question is not taken
    private epoch = 0
    private readonly log: downstream.Logger

    constructor(server: Server, root: string, log: downstream.Logger) {
        this.server = server
        this.root = root
        this.log = log
    }

    /** The client's name, for audit rows and approvals. */
    get client(): string {
        return this.server.getClientVersion()?.name ?? "client"
    }

    /** The folders if known already: the per-call path takes them without awaiting. */
    get known(): string[] | undefined {
        return this.dirs
    }

    /**
     * The session's folders, where they really are (policy.real): the client's roots (asked on the
     * stream of request `related`, so an HTTP client gets the question where it listens), or
     * `root` when the client offers none or lists none. A client that offers roots and does not
     * list them within rootsTimeout gets an error, and is asked again on its next request; one
     * that lists a root mcplexer cannot read gets an error naming it until its roots change:
     * never a guess, never serve's folder instead (DESIGN decision 10).
     */
    async folders(related?: RequestId): Promise<string[]> {
        if (this.dirs !== undefined) return this.dirs
        if (this.refused !== undefined) throw this.refused
        await (this.asking ??= this.ask(related))
        if (this.dirs !== undefined) return this.dirs
        // set by ask() meanwhile, which narrowing across the await cannot see
        const refused = this.refused as downstream.Failure | undefined
        if (refused !== undefined) throw refused
        throw new downstream.Failure(ErrorCode.InternalError,
            `the client did not list its roots (${this.why}), so mcplexer cannot tell which workspace applies; try again`)
    }

    /** The client's roots changed: forget them, and ask again before the next decision. */
    rootsChanged(): void {
        this.dirs = undefined
        this.refused = undefined
        this.asking = undefined
        this.epoch++
        this.generation = -1
    }

    private async ask(related: RequestId | undefined): Promise<void> {
        if (this.server.getClientCapabilities()?.roots === undefined) {
            this.dirs = [policy.real(this.root)]
            return
        }
        const epoch = this.epoch
        try {
            const r = await this.server.listRoots(undefined, { timeout: rootsTimeout, ...(related === undefined ? {} : { relatedRequestId: related }) })
            if (epoch !== this.epoch) return
            let dirs: string[]
            try {
                dirs = policy.folders(r.roots.map(x => x.uri))
            } catch (e) {
                // never decided with the readable roots alone, nor with serve's folder: nothing is allowed
                const h = e as config.Hinted
                this.refused = new downstream.Failure(ErrorCode.InvalidParams, `${h.message}; ${h.hint}`)
                this.log.warn(h.message)
                return
            }
            this.dirs = r.roots.length > 0 ? dirs : [policy.real(this.root)]
            this.generation = -1
        } catch (e) {
            this.why = e instanceof McpError && e.code === (ErrorCode.RequestTimeout as number) ? `no answer within ${rootsTimeout / 1000}s` : e instanceof Error ? e.message : String(e)
            this.log.debug("the client did not list its roots", { error: this.why })
        } finally {
            if (epoch === this.epoch) this.asking = undefined
        }
    }
}
