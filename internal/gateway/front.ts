/**
 * The first answers of `serve` over stdio, given before the gateway is loaded. The SDK, zod,
 * drizzle and yaml take most of a start, and a client waits for `initialize` and the lists
 * before anything else: `Front` answers those from a copy of what the gateway answered last
 * time, when everything the answers depend on is as it was then, and hands the connection over
 * to the gateway for the rest (`Core.connect` replays what the front took). A copy that does not
 * fit is never used: the gateway answers, and saves a new copy (`Recorder`).
 *
 * What the answers depend on, and so the key: the bundle that made them, HOME, the config file's
 * text, the catalog rows (their fingerprint and time), the protocol version the client asked for,
 * and the session's folders (the client's roots, else serve's working directory). The copy lives in
 * `answers.json` in the home folder, 0600; it holds names and descriptions, never a value.
 * This file is a lean face of gateway (no SDK, drizzle or yaml at run time), like store/conn.ts.
 */
import { existsSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js"
import type { JSONRPCMessage, RequestId } from "@modelcontextprotocol/sdk/types.js"
import type * as config from "../config/index.ts"
import * as store from "../store/conn.ts"

export { Stdio } from "./stdio.ts"

/** The requests whose answers are kept. */
export const lists = ["tools/list", "prompts/list", "resources/list", "resources/templates/list"] as const

/** What the front took from the client that the gateway must see as if it had been there. */
export interface Replay {
    /** the client's initialize, answered by the front: replayed so that the SDK Server knows the client, its answer dropped */
    initialize?: JSONRPCMessage & { id: RequestId; params?: Record<string, unknown> }
    /** whether the client's notifications/initialized came and was taken */
    initialized: boolean
    /** everything else, in order, for the gateway to handle */
    pending: JSONRPCMessage[]
}

/** The saved answers: for each key, the initialize result and, per session folders, each list. */
interface Entry { key: string; initialize: unknown; lists: Record<string, Partial<Record<(typeof lists)[number], unknown>>> }

// answers kept for this many keys, and per key for this many session folders (the file is read
// whole at every start, so it stays small): the oldest go first
const keep = 4
const keepFolders = 8
// the id of the front's own roots/list request
const rootsId = "mcplexer-front-roots"
// how long the client may take to list its roots, as the gateway allows
const rootsTimeout = 5000
// after answering a list, how long to wait for the client's other lists before loading the
// gateway; after initialize, how long for the lists to start coming
const linger = 25
const idle = 100

/** Where the answers are saved. */
export function file(paths: config.Paths): string {
    return join(paths.home, "answers.json")
}

/** The key of the answers of one client: everything they depend on but the session's folders. */
export function key(o: { config: string; catalog: string; protocol: unknown }): string {
    let build = ""
    try {
        // the entry file names every chunk by its hash, so it changes whenever the code does
        const entry = process.argv[1] ?? ""
        const s = statSync(entry)
        build = `${entry}:${s.size}:${s.mtimeMs}`
    } catch {
        build = ""
    }
    // HOME expands "~" in the config's paths (workspace roots)
    return JSON.stringify([build, process.env.HOME ?? "", o.config, o.catalog, o.protocol])
}

/** The catalog rows as a key part: a relearned catalog or a changed server definition changes it. */
export function catalog(c: store.Conn): string {
    return JSON.stringify(store.guard(c, () => c.sqlite.prepare("SELECT server, fingerprint, updated_at FROM catalog ORDER BY server").raw().all()))
}

/** The session's folders as a key part. */
export function where(uris: string[] | undefined, root: string): string {
    return JSON.stringify(uris === undefined ? ["root", root] : ["roots", uris])
}

function parse(text: string): Entry[] {
    try {
        const v = JSON.parse(text) as { entries?: unknown }
        return Array.isArray(v.entries) ? v.entries as Entry[] : []
    } catch {
        return []
    }
}

function load(path: string): Entry[] {
    try {
        return parse(readFileSync(path, "utf8"))
    } catch {
        return []
    }
}

/**
 * The saved answers (the file's text) with one more: `initialize` and the list `method` with its
 * `result`, for the session folders `at`, recorded under `k`. Returns the file's new text.
 */
export function merge(text: string, k: string, initialize: unknown, at: string, method: (typeof lists)[number], result: unknown): string {
    const entries = parse(text)
    let e = entries.find(x => x.key === k)
    if (e === undefined) {
        e = { key: k, initialize, lists: {} }
        entries.push(e)
    }
    e.initialize = initialize
    const before = e.lists[at]
    delete e.lists[at]
    e.lists[at] = { ...before, [method]: result }
    const folders = Object.keys(e.lists)
    for (const f of folders.slice(0, Math.max(0, folders.length - keepFolders))) delete e.lists[f]
    // the most recent last; the oldest dropped
    const rest = entries.filter(x => x !== e).slice(-(keep - 1))
    return JSON.stringify({ entries: [...rest, e] })
}

/**
 * Serves a client on `t` until the gateway is loaded: answers initialize, ping and the lists from
 * the saved answers when they fit, and keeps everything else for the gateway. `done` resolves
 * when the gateway should take over: at once on a miss, on a request the front cannot answer, or
 * shortly after the lists.
 */
export class Front {
    readonly done: Promise<void>
    private finish!: () => void
    private over = false
    private readonly t: Transport
    private readonly paths: config.Paths
    private readonly cwd: string
    private readonly replay: Replay = { initialized: false, pending: [] }
    private entry: Entry | undefined
    /** the session's folders once known; undefined while the client's roots are awaited */
    private at: string | undefined
    private roots = false
    private held: JSONRPCMessage[] = []
    private timer: NodeJS.Timeout | undefined

    constructor(o: { transport: Transport; paths: config.Paths; cwd: string }) {
        this.t = o.transport
        this.paths = o.paths
        this.cwd = o.cwd
        this.done = new Promise(resolve => { this.finish = resolve })
        this.t.onmessage = m => { this.message(m) }
        this.t.onclose = () => { this.end() }
        this.t.onerror = () => { this.end() }
    }

    /** Starts reading the client. */
    start(): Promise<void> {
        return this.t.start()
    }

    /** What the gateway must replay; the front takes nothing more. */
    handoff(): Replay {
        this.end()
        this.t.onmessage = undefined
        this.t.onclose = undefined
        this.t.onerror = undefined
        return this.replay
    }

    private end(): void {
        if (this.over) return
        this.over = true
        if (this.timer !== undefined) clearTimeout(this.timer)
        this.replay.pending.push(...this.held)
        this.held = []
        this.finish()
    }

    /** Keeps `m` for the gateway, after what the front holds, and hands over. */
    private pass(m: JSONRPCMessage): void {
        this.end()
        this.replay.pending.push(m)
    }

    private send(m: JSONRPCMessage): void {
        this.t.send(m).catch(() => { this.end() })
    }

    private message(m: JSONRPCMessage): void {
        if (this.over) {
            this.replay.pending.push(m)
            return
        }
        const method = (m as { method?: unknown }).method
        const id = (m as { id?: RequestId }).id
        if (method === undefined) {
            // a response: the client's roots, or something for the gateway
            if (id === rootsId) this.rooted(m)
            else this.pass(m)
            return
        }
        if (id === undefined) {
            if (method === "notifications/initialized" && this.replay.initialize !== undefined && !this.replay.initialized) {
                this.replay.initialized = true
                if (this.roots) this.askRoots()
                else this.at = where(undefined, this.cwd)
                return
            }
            this.pass(m)
            return
        }
        if (method === "initialize" && this.replay.initialize === undefined) {
            this.initialize(m as Replay["initialize"] & object)
            return
        }
        if (method === "ping") {
            this.send({ jsonrpc: "2.0", id, result: {} })
            return
        }
        if ((lists as readonly unknown[]).includes(method) && this.entry !== undefined && this.replay.initialized) {
            if (this.at === undefined) {
                this.held.push(m)
                return
            }
            this.list(m, method as (typeof lists)[number], id)
            return
        }
        this.pass(m)
    }

    private initialize(m: NonNullable<Replay["initialize"]>): void {
        const params = m.params ?? {}
        let entry: Entry | undefined
        try {
            // a new home: nothing saved, and the gateway makes the database
            if (!existsSync(this.paths.db)) throw new Error("no database yet")
            const c = store.connect(this.paths.db)
            try {
                if (store.current(c)) {
                    const k = key({ config: readFileSync(this.paths.config, "utf8"), catalog: catalog(c), protocol: params.protocolVersion })
                    entry = load(file(this.paths)).find(e => e.key === k)
                }
            } finally {
                c.close()
            }
        } catch {
            entry = undefined // the gateway will say what is wrong
        }
        if (entry === undefined) {
            this.pass(m)
            return
        }
        this.entry = entry
        this.roots = (params.capabilities as { roots?: unknown } | undefined)?.roots !== undefined
        this.replay.initialize = m
        this.send({ jsonrpc: "2.0", id: m.id, result: entry.initialize } as JSONRPCMessage)
        this.wait(idle)
    }

    /** Hands over after `ms` with nothing more for the front to answer. */
    private wait(ms: number): void {
        if (this.timer !== undefined) clearTimeout(this.timer)
        this.timer = setTimeout(() => { this.end() }, ms)
    }

    private askRoots(): void {
        this.send({ jsonrpc: "2.0", id: rootsId, method: "roots/list" })
        this.wait(rootsTimeout)
    }

    private rooted(m: JSONRPCMessage): void {
        this.wait(idle)
        const roots = (m as { result?: { roots?: unknown } }).result?.roots
        if (!Array.isArray(roots)) {
            this.end()
            return
        }
        this.at = where(roots.map(r => String((r as { uri?: unknown }).uri)), this.cwd)
        const held = this.held
        this.held = []
        for (const h of held) this.message(h)
    }

    private list(m: JSONRPCMessage, method: (typeof lists)[number], id: RequestId): void {
        const result = this.entry?.lists[this.at ?? ""]?.[method]
        if (result === undefined) {
            this.pass(m)
            return
        }
        this.send({ jsonrpc: "2.0", id, result } as JSONRPCMessage)
        // the client's other lists come right after; then the gateway loads while it reads them
        this.wait(linger)
    }
}

/**
 * Records the answers the gateway gives one session, to save them for the next start. Only
 * answers given while the tables were whole (no server left out) and the catalog rows did not
 * move are kept.
 */
export class Recorder {
    private readonly methods = new Map<RequestId, string>()
    private queued: Array<{ k: string; initialize: unknown; at: string; method: (typeof lists)[number]; result: unknown }> = []
    private initialize: unknown
    private protocol: unknown
    private readonly o: {
        config: () => string | undefined
        conn: store.Conn
        /** the session's folders, as `where` gives them, once known */
        at: () => string | undefined
        /** whether the lists were whole when answered */
        whole: () => boolean
        save: (text: string) => void
        path: string
    }

    constructor(o: Recorder["o"]) {
        this.o = o
    }

    /** A message from the client. */
    incoming(m: JSONRPCMessage): void {
        const method = (m as { method?: unknown }).method
        const id = (m as { id?: RequestId }).id
        if (id === undefined || typeof method !== "string") return
        if (method === "initialize") this.protocol = (m as { params?: { protocolVersion?: unknown } }).params?.protocolVersion
        if (method === "initialize" || (lists as readonly string[]).includes(method)) this.methods.set(id, method)
    }

    /** A message to the client. */
    outgoing(m: JSONRPCMessage): void {
        const id = (m as { id?: RequestId }).id
        if (id === undefined || !("result" in m)) return
        const method = this.methods.get(id)
        if (method === undefined) return
        this.methods.delete(id)
        if (method === "initialize") {
            this.initialize = m.result
            return
        }
        const text = this.o.config()
        const at = this.o.at()
        if (this.initialize === undefined || text === undefined || at === undefined || !this.o.whole()) return
        let k: string
        try {
            k = key({ config: text, catalog: catalog(this.o.conn), protocol: this.protocol })
        } catch {
            return
        }
        // written after the answer is on its way, all of a tick's answers in one write
        if (this.queued.length === 0) setTimeout(() => { this.flush() }, 0)
        this.queued.push({ k, initialize: this.initialize, at, method: method as (typeof lists)[number], result: m.result })
    }

    private flush(): void {
        const queued = this.queued
        this.queued = []
        try {
            let before: string | undefined
            try {
                before = readFileSync(this.o.path, "utf8")
            } catch {
                before = undefined
            }
            let text = before ?? ""
            for (const q of queued) text = merge(text, q.k, q.initialize, q.at, q.method, q.result)
            if (text !== before) this.o.save(text)
        } catch {
            // a copy not saved only costs the next start its head start
        }
    }
}
