import { closeSync, constants, openSync, readdirSync, readFileSync, rmSync, writeSync } from "node:fs"
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
// the size the backlog file is reserved at, and every state written into it is padded to
const reserved = 1024

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
        this.reserve()
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
        this.release()
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

    /**
     * Writes the backlog file status reads; a failure here (a full disk) must not reach the call path.
     * On a full disk the atomic writer cannot make its temp file, so the state goes into the blocks
     * reserved at the start instead (issue 19 re-probe: with the database's disk full, status said
     * "audit queue: empty" while 300 rows waited). Written in place, a reader may catch it half
     * done: backlogs skips what does not parse, and the next write comes within a second.
     */
    private publish(): void {
        const text = padded(this.backlog())
        try {
            config.atomic.writeOver(this.file, text)
            this.wrote = true
        } catch {
            this.overwrite(text)
        }
    }

    /** Back to the idle state (nothing queued) once the rows landed, keeping the reserved blocks. */
    private unpublish(): void {
        if (!this.wrote) return
        this.wrote = false
        if (owners.get(this.file) !== this) {
            rmSync(this.file, { force: true })
            return
        }
        const idle = padded({ pid: process.pid, queued: 0, dropped: 0, at: Date.now() })
        try {
            config.atomic.writeOver(this.file, idle)
        } catch {
            if (!this.overwrite(idle)) rmSync(this.file, { force: true })
        }
    }

    /**
     * Takes the backlog file's blocks while the disk has room: an idle state (which backlogs
     * skips), removed by `release`. Not fsynced: it tells status about this process only.
     */
    private reserve(): void {
        // another trail of this process on the same database holds it (a second gateway, in tests)
        if (owners.has(this.file)) return
        try {
            rmSync(this.file, { force: true }) // left by a process of the same pid before a crash
            const fd = openSync(this.file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600)
            try {
                writeSync(fd, padded({ pid: process.pid, queued: 0, dropped: 0, at: Date.now() }))
            } finally {
                closeSync(fd)
            }
            owners.set(this.file, this)
        } catch { /* a full disk already: publish tries the atomic writer, as before */ }
    }

    /** Writes `text` over the reserved file's first bytes, in place; true when it landed. */
    private overwrite(text: string): boolean {
        if (owners.get(this.file) !== this) return false
        try {
            const fd = openSync(this.file, constants.O_WRONLY | (constants.O_NOFOLLOW ?? 0))
            try {
                writeSync(fd, text, 0)
            } finally {
                closeSync(fd)
            }
            this.wrote = true
            return true
        } catch {
            return false // stderr has said it already
        }
    }

    /** Removes the backlog file: the trail is done (its gateway closes; flush calls it). */
    release(): void {
        const mine = owners.get(this.file) === this
        if (mine) owners.delete(this.file)
        if (mine || this.wrote) rmSync(this.file, { force: true })
        this.wrote = false
    }
}

// the backlog file each trail of this process reserved, by name: one name per process and database
const owners = new Map<string, Trail>()

/**
 * A backlog as the file holds it: JSON padded with spaces to the reserved size, so a write in
 * place leaves no tail of a longer state behind it (JSON.parse ignores the spaces). An error too
 * long for it is cut: status shows its first 120 characters.
 */
function padded(b: Backlog): string {
    let text = JSON.stringify(b)
    if (text.length > reserved && b.lastError !== undefined) text = JSON.stringify({ ...b, lastError: b.lastError.slice(0, 400) })
    return text.length >= reserved ? text : text + " ".repeat(reserved - text.length)
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
            // a reserved file of a serve with nothing queued, dropped or failing: no backlog
            if (b.queued === 0 && b.dropped === 0 && b.lastError === undefined) continue
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
