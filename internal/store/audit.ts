/** The queries of the audit table: who did what, where and when; never a secret value. */
import { and, desc, eq, gt, gte, lt, max, type SQL } from "drizzle-orm"
import type { Store } from "./open.ts"
import * as hot from "./hot.ts"
import { guard } from "./sqlite.ts"
import { audit as t } from "./schema.ts"

/** One audit event to write (its fields are in hot.ts, which writes it). */
export type Row = hot.AuditRow

/** One audit row as read back. */
export type Stored = typeof t.$inferSelect

/**
 * Appends audit rows in one transaction. HOT PATH: every tools/call through serve writes a row
 * (batched by gateway/audit.ts), so this goes through the prepared insert of hot.ts, not drizzle.
 * Measured on 2026-11-26 (`BENCH_PROFILE=throughput npm run bench gateway`, 32 calls in flight):
 * drizzle building one insert per batch cost serve about 25 µs of CPU per call (its `is` checks
 * and SQL assembly, per parameter), more than a third of all serve did per call.
 */
export function add(s: Store, ...rows: Row[]): void {
    if (rows.length > 0) hot.audit(s, rows)
}

/**
 * Appends audit rows in one transaction without waiting for another process's write lock: when
 * the database is locked (or full, or read-only) it throws at once, the rows unwritten, where
 * `add` would block the whole process for the busy timeout first. HOT PATH: the gateway's trail
 * (gateway/audit.ts) writes with this and keeps what failed for a later try.
 */
export function offer(s: Store, rows: readonly Row[], wait = 0): void {
    if (rows.length > 0) hot.audit(s, rows, wait)
}

/** What rows may be chosen by: equal columns, a time and an id range. */
export interface Filter {
    action?: string; actor?: string; server?: string; scope?: string; tool?: string; status?: string
    /** time at or after (ms) */
    since?: number
    /** id greater than */
    after?: number
    /** id less than */
    before?: number
}

function where(f: Filter): SQL | undefined {
    const w: SQL[] = []
    for (const k of ["action", "actor", "server", "scope", "tool", "status"] as const) {
        const v = f[k]
        if (v !== undefined && v !== "") w.push(eq(t[k], v))
    }
    if (f.since !== undefined) w.push(gte(t.time, new Date(f.since)))
    if (f.after !== undefined) w.push(gt(t.id, f.after))
    if (f.before !== undefined) w.push(lt(t.id, f.before))
    return w.length > 0 ? and(...w) : undefined
}

/** The rows matching `f`, oldest first; with `last`, only the newest `last` of them (still oldest first). */
export function query(s: Store, f: Filter, o: { last?: number } = {}): Stored[] {
    const q = s.db.select().from(t).where(where(f))
    if (o.last === undefined) return guard(s, () => q.orderBy(t.id).all())
    return guard(s, () => q.orderBy(desc(t.id)).limit(Math.max(0, Math.floor(o.last ?? 0))).all()).reverse()
}

/** The rows matching `f`, newest first, at most `limit`. */
export function newest(s: Store, f: Filter, limit: number): Stored[] {
    return guard(s, () => s.db.select().from(t).where(where(f)).orderBy(desc(t.id)).limit(limit).all())
}

/** The id of the newest row, 0 when there is none. */
export function last(s: Store): number {
    return guard(s, () => s.db.select({ id: max(t.id) }).from(t).get())?.id ?? 0
}

/** Deletes the rows older than `before` (ms); returns how many. */
export function prune(s: Store, before: number): number {
    return guard(s, () => s.db.delete(t).where(lt(t.time, new Date(before))).run().changes)
}
