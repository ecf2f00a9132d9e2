import type * as redact from "../redact/index.ts"
import * as store from "../store/index.ts"

/** One audit row as the gateway writes it; never a value, only names. */
export type Row = store.audit.Row

// rows wait this long to be written together: one transaction per batch, never one per call
const flushDelay = 25

/** Where the gateway's audit rows go: queued on the hot path, written in batches. */
export class Trail {
    private queue: Row[] = []
    private timer: NodeJS.Timeout | undefined
    private readonly s: store.Store
    private readonly warn: (msg: string) => void
    private readonly registry: redact.Registry

    constructor(s: store.Store, warn: (msg: string) => void, registry: redact.Registry) {
        this.s = s
        this.warn = warn
        this.registry = registry
    }

    /** Queues one row, stamping it now (the row is the trail's from here on); the batch is written shortly after. */
    add(row: Row): void {
        row.time = Date.now()
        this.queue.push(row)
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
            // audit rows' one scrubbing point: a row holds names, never a value, and this makes sure
            store.audit.add(this.s, ...rows.map(r => this.registry.scrubObject(r)))
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
        return store.atomic(this.s, () => {
            const n = store.audit.prune(this.s, before)
            // a pending call whose serve went away before the answer: nobody waits for it any more
            store.approvals.prune(this.s, before, now)
            return n
        })
    }
}
