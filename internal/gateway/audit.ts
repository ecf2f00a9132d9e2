import type Database from "better-sqlite3"
import * as store from "../store/index.ts"

/** One audit row as the gateway writes it; never a value, only names. */
export interface Row {
    action: string
    /** the client (its name from initialize), or "serve" */
    actor: string
    scope?: string
    key?: string
    server?: string
    tool?: string
    status?: string
    workspace?: string
    route?: string
    latency?: number
    detail?: Record<string, unknown>
}

// rows wait this long to be written together: one transaction per batch, never one per call
const flushDelay = 25

/** Where the gateway's audit rows go: queued on the hot path, written in batches. */
export class Trail {
    private queue: Array<Row & { time: number }> = []
    private timer: NodeJS.Timeout | undefined
    private insert: Database.Statement | undefined
    private readonly s: store.Store
    private readonly warn: (msg: string) => void

    constructor(s: store.Store, warn: (msg: string) => void) {
        this.s = s
        this.warn = warn
    }

    /** Queues one row, stamped now; the batch is written shortly after. */
    add(row: Row): void {
        this.queue.push({ ...row, time: Date.now() })
        if (this.timer === undefined) {
            this.timer = setTimeout(() => { this.flush() }, flushDelay)
            this.timer.unref()
        }
    }

    /** Writes every queued row in one transaction. */
    flush(): void {
        if (this.timer !== undefined) clearTimeout(this.timer)
        this.timer = undefined
        const rows = this.queue
        if (rows.length === 0) return
        this.queue = []
        try {
            store.guard(this.s, () => {
                const insert = this.insert ??= this.s.sqlite.prepare("INSERT INTO audit (time, action, actor, scope, key, server, tool, status, " +
                    "workspace, route, latency, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
                this.s.sqlite.transaction(() => {
                    for (const r of rows) {
                        insert.run(r.time, r.action, r.actor, r.scope ?? null, r.key ?? null, r.server ?? null, r.tool ?? null, r.status ?? null,
                            r.workspace ?? null, r.route ?? null, r.latency ?? null, r.detail === undefined ? null : JSON.stringify(r.detail))
                    }
                })()
            })
        } catch (e) {
            this.warn(`could not write ${rows.length} audit rows: ${e instanceof Error ? e.message : String(e)}`)
        }
    }

    /**
     * Deletes audit rows older than `days`, and finished approvals and leases as old; marks pending
     * approvals past their timeout (their serve went away) expired. Returns the audit rows removed.
     */
    prune(days: number, now = Date.now()): number {
        const before = now - days * 86_400_000
        return store.guard(this.s, () => this.s.sqlite.transaction(() => {
            const n = this.s.sqlite.prepare("DELETE FROM audit WHERE time < ?").run(before).changes
            this.s.sqlite.prepare("DELETE FROM approvals WHERE status != 'pending' AND created_at < ?").run(before)
            // a call whose serve went away before the answer: nobody waits for it any more
            this.s.sqlite.prepare("UPDATE approvals SET status = 'expired', reason = 'nobody waits for it any more' WHERE status = 'pending' AND expires_at < ?").run(now)
            this.s.sqlite.prepare("DELETE FROM leases WHERE expires_at < ?").run(before)
            return n
        })())
    }
}
