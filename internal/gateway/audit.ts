import { readdirSync, readFileSync, rmSync } from "node:fs"
import { basename, dirname, join } from "node:path"
import * as config from "../config/index.ts"
import type * as redact from "../redact/index.ts"
import * as store from "../store/index.ts"
import { emit } from "./observe.ts"

/** One audit row as the gateway writes it; never a value, only names. */
export type Row = store.audit.Row

/** Rows the trail could not write yet, as `mcplexer status` shows them (one per serve with a backlog). */
export interface Backlog {
    /** the process keeping them */
    pid: number
    /** rows waiting in memory */
    queued: number
    /** rows lost since it started: the oldest, pushed out of a full queue */
    dropped: number
    /** why the last write failed (never a value) */
    lastError?: string
    /** when the writes began to fail (ms since the epoch), unset once they succeed again */
    since?: number
    /** when this was written (ms since the epoch) */
    at: number
}

// rows wait this long to be written together: one transaction per batch, never one per call
const flushDelay = 25
// at most this many rows wait in memory while the database cannot be written (about 3 MB)
const defaultCap = 10_000
// retries after a failed write start here and double up to `maxDelay`
const firstRetry = 50
const maxDelay = 1000
// a lock another process holds for less than this is ordinary (two serves writing at once): only
// a longer episode, or any other failure (a full disk), is worth a line on stderr
const patience = 1000
// how often a backlog's state file is rewritten while it lasts
const publishEvery = 1000

/**
 * Where the gateway's audit rows go: queued on the hot path, written in batches. A write never
 * waits for another process's lock (store.audit.offer): while the database is locked or full the
 * rows stay in a bounded queue (the oldest dropped, and counted, when it is full) and are tried
 * again with backoff, so a call never stalls on its audit row. A backlog is said once on stderr
 * (the `warn` given: serve's log) when it starts and once when it ends, and kept in a small file
 * beside the database for `mcplexer status` (backlogs) while it lasts.
 */
export class Trail {
    // rows not yet tried, as the router left them
    private queue: Row[] = []
    // rows tried and refused, already scrubbed, oldest first
    private held: Row[] = []
    private timer: NodeJS.Timeout | undefined
    private delay = 0
    private dropped = 0
    private episode: { since: number; error: string; dropped: number; told: boolean; published: number } | undefined
    private readonly s: store.Store
    private readonly warn: (msg: string) => void
    private readonly registry: redact.Registry
    private readonly cap: number
    private readonly file: string
    // whether the backlog file is ours to remove (another trail of this process may share its name)
    private wrote = false

    constructor(s: store.Store, warn: (msg: string) => void, registry: redact.Registry, o: { cap?: number } = {}) {
        this.s = s
        this.warn = warn
        this.registry = registry
        this.cap = Math.max(1, o.cap ?? defaultCap)
        this.file = stateFile(s.path, process.pid)
    }

    /** Queues one row, stamping it now (the row is the trail's from here on); the batch is written shortly after. */
    add(row: Row): void {
        row.time = Date.now()
        emit(row)
        if (this.queue.length + this.held.length >= this.cap) this.drop()
        this.queue.push(row)
        if (this.timer === undefined) this.schedule(flushDelay)
    }

    /** Rows waiting to be written, rows dropped since the trail began, and the last failure, if any. */
    backlog(): Backlog {
        const e = this.episode
        return {
            pid: process.pid, queued: this.queue.length + this.held.length, dropped: this.dropped, at: Date.now(),
            ...(e === undefined ? {} : { lastError: e.error, since: e.since }),
        }
    }

    /**
     * Writes every queued row now, waiting for another process's lock as long as the store's busy
     * timeout (the last write, when the gateway closes; tests read the table after it). Rows it
     * cannot write are said on stderr, counted as dropped, and gone.
     */
    flush(): void {
        this.clear()
        if (!this.attempt(undefined)) {
            const lost = this.held.length
            this.held = []
            this.dropped += lost
            this.warn(`audit trail: ${lost} rows could not be written and are lost: ${this.episode?.error ?? "unknown error"}`)
        }
        this.episode = undefined
        this.delay = 0
        this.unpublish()
    }

    /**
     * Deletes audit rows older than `days`, and finished approvals and leases as old; marks pending
     * approvals past their timeout (their serve went away) expired. Returns the audit rows removed:
     * 0 when another process holds the write lock, as the next round will do it (waiting for the
     * lock would block every call of this process meanwhile).
     */
    prune(days: number, now = Date.now()): number {
        const before = now - days * 86_400_000
        try {
            return store.atomic(this.s, () => {
                const n = store.audit.prune(this.s, before)
                // a pending call whose serve went away before the answer: nobody waits for it any more
                store.approvals.prune(this.s, before, now)
                return n
            }, { wait: 0 })
        } catch (e) {
            if (busy(e)) return 0
            throw e
        }
    }

    private schedule(ms: number): void {
        this.timer = setTimeout(() => { this.background() }, ms)
        this.timer.unref()
    }

    private clear(): void {
        if (this.timer !== undefined) clearTimeout(this.timer)
        this.timer = undefined
    }

    /** The timer's write: never waits for a lock; on failure keeps the rows and tries again later. */
    private background(): void {
        this.timer = undefined
        if (this.attempt(0)) {
            this.delay = 0
            return
        }
        this.delay = this.delay === 0 ? firstRetry : Math.min(maxDelay, this.delay * 2)
        this.schedule(this.delay)
    }

    /** One write of everything queued; true when it landed. `wait`: ms to wait for a lock (undefined: the busy timeout). */
    private attempt(wait: number | undefined): boolean {
        if (this.queue.length > 0) {
            // audit rows' one scrubbing point: a row holds names, never a value, and this makes sure
            for (const r of this.queue) this.held.push(this.registry.scrubObject(r))
            this.queue = []
        }
        const rows = this.held
        if (rows.length === 0) return true
        try {
            if (wait === undefined) store.audit.add(this.s, ...rows)
            else store.audit.offer(this.s, rows, wait)
        } catch (e) {
            this.failed(e)
            return false
        }
        this.held = []
        this.recovered(rows.length)
        return true
    }

    private failed(e: unknown): void {
        const now = Date.now()
        const error = this.registry.scrub(reason(e, this.s.path))
        const ep = this.episode ??= { since: now, error, dropped: 0, told: false, published: 0 }
        ep.error = error
        if (!ep.told && (now - ep.since >= patience || !busy(e))) {
            ep.told = true
            this.warn(`audit trail: cannot write to ${JSON.stringify(this.s.path)}: ${error}; keeping up to ${this.cap} rows in memory and trying again`)
        }
        if (ep.told && now - ep.published >= publishEvery) {
            ep.published = now
            this.publish()
        }
    }

    private recovered(wrote: number): void {
        const ep = this.episode
        if (ep === undefined) return
        this.episode = undefined
        if (!ep.told) return
        const lost = ep.dropped === 0 ? "" : `; ${ep.dropped} older rows were dropped from the full queue`
        this.warn(`audit trail: wrote ${wrote} rows kept while ${JSON.stringify(this.s.path)} could not be written (${((Date.now() - ep.since) / 1000).toFixed(1)} s)${lost}`)
        if (ep.dropped > 0) {
            // the trail itself records the gap, where anyone reading it will see it
            try {
                store.audit.offer(this.s, [{ action: "audit", actor: "serve", status: "dropped", detail: { rows: ep.dropped, error: ep.error, since: ep.since } }])
            } catch { /* the next episode will say so */ }
        }
        // status keeps showing what was dropped until this serve ends
        if (this.dropped > 0) this.publish()
        else this.unpublish()
    }

    private drop(): void {
        if (this.held.length > 0) this.held.shift()
        else this.queue.shift()
        this.dropped++
        const ep = this.episode
        if (ep !== undefined) {
            if (ep.dropped === 0) this.warn(`audit trail: the queue of ${this.cap} rows is full; dropping the oldest until ${JSON.stringify(this.s.path)} can be written`)
            ep.dropped++
        }
    }

    /** Writes the backlog file status reads; a failure here (a full disk) must not reach the call path. */
    private publish(): void {
        try {
            config.atomic.writeOver(this.file, JSON.stringify(this.backlog()))
            this.wrote = true
        } catch { /* stderr has said it already */ }
    }

    private unpublish(): void {
        if (!this.wrote) return
        rmSync(this.file, { force: true })
        this.wrote = false
    }
}

/** The backlog file of process `pid` for database `db`: beside it, named after it. */
function stateFile(db: string, pid: number): string {
    return join(dirname(db), `${basename(db)}-audit-${pid}.json`)
}

/**
 * The backlogs of the processes writing audit rows to database `db` that are still running
 * (for `mcplexer status`); a file left by a process that is gone (killed before it could remove
 * it) is removed.
 */
export function backlogs(db: string): Backlog[] {
    const prefix = `${basename(db)}-audit-`
    let names: string[]
    try {
        names = readdirSync(dirname(db))
    } catch {
        return []
    }
    const out: Backlog[] = []
    for (const name of names) {
        if (!name.startsWith(prefix) || !name.endsWith(".json")) continue
        const pid = Number(name.slice(prefix.length, -".json".length))
        if (!Number.isInteger(pid) || pid <= 0) continue
        if (!running(pid)) {
            rmSync(join(dirname(db), name), { force: true })
            continue
        }
        try {
            const b = JSON.parse(readFileSync(join(dirname(db), name), "utf8")) as Backlog
            out.push({ ...b, pid })
        } catch { /* being replaced, or not ours */ }
    }
    return out.sort((a, b) => a.pid - b.pid)
}

function running(pid: number): boolean {
    try {
        process.kill(pid, 0)
        return true
    } catch (e) {
        return (e as NodeJS.ErrnoException).code === "EPERM"
    }
}

/** The SQLite result code behind an error, if any (store.guard keeps the original as the cause). */
function code(e: unknown): string | undefined {
    for (let x = e; x !== undefined && x !== null; x = (x as { cause?: unknown }).cause) {
        const c = (x as { code?: unknown }).code
        if (typeof c === "string" && c.startsWith("SQLITE_")) return c
    }
    return undefined
}

function busy(e: unknown): boolean {
    const c = code(e)
    return c !== undefined && (c.startsWith("SQLITE_BUSY") || c.startsWith("SQLITE_LOCKED"))
}

/** Why a write failed, in a few words a person reads on stderr and in status. */
function reason(e: unknown, db: string): string {
    const c = code(e)
    if (c !== undefined && (c.startsWith("SQLITE_BUSY") || c.startsWith("SQLITE_LOCKED"))) return "the database is locked by another process"
    if (c === "SQLITE_FULL") return "the disk (or the database's size limit) is full"
    const m = e instanceof Error ? e.message : String(e)
    return m.replaceAll(JSON.stringify(db), "the database")
}
