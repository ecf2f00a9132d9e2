/**
 * The queries of the approvals and leases tables: calls waiting for a person's answer, and the
 * leases an answer may grant.
 */
import { and, desc, eq, gt, inArray, isNotNull, isNull, lt, ne } from "drizzle-orm"
import type { Store } from "./open.ts"
import { guard } from "./sqlite.ts"
import { approvals, leases } from "./schema.ts"

/** One approval as stored. */
export type Approval = typeof approvals.$inferSelect
/** One lease as stored. */
export type Lease = typeof leases.$inferSelect

/** Pending approvals newest first, or with `all` the last hundred of any status. */
export function list(s: Store, all = false): Approval[] {
    return guard(s, () => all
        ? s.db.select().from(approvals).orderBy(desc(approvals.id)).limit(100).all()
        : s.db.select().from(approvals).where(eq(approvals.status, "pending")).orderBy(desc(approvals.id)).all())
}

/** One approval by id. */
export function get(s: Store, id: number): Approval | undefined {
    return guard(s, () => s.db.select().from(approvals).where(eq(approvals.id, id)).get())
}

/** Records a call that waits for an answer; returns its id. */
export function ask(s: Store, row: typeof approvals.$inferInsert): number {
    return guard(s, () => s.db.insert(approvals).values(row).returning({ id: approvals.id }).get().id)
}

/** Answers approval `id` if it is still pending; false when it was not. */
export function decide(s: Store, id: number, o: { status: string; reason: string | null; by: string }): boolean {
    return guard(s, () => s.db.update(approvals).set({ status: o.status, reason: o.reason, decidedBy: o.by, decidedAt: new Date() })
        .where(and(eq(approvals.id, id), eq(approvals.status, "pending"))).run().changes > 0)
}

/** Leases in force at `now`, newest first; with `all`, the last hundred of any state. */
export function leased(s: Store, o: { all?: boolean; now?: number } = {}): Lease[] {
    return guard(s, () => o.all
        ? s.db.select().from(leases).orderBy(desc(leases.id)).limit(100).all()
        : s.db.select().from(leases).where(and(isNull(leases.revokedAt), gt(leases.expiresAt, new Date(o.now ?? Date.now())))).orderBy(desc(leases.id)).all())
}

/** The lease in force for (workspace, server, scope) that lasts longest, if any. */
export function covering(s: Store, workspace: string, server: string, scope: string, now = Date.now()): Lease | undefined {
    return guard(s, () => s.db.select().from(leases).where(and(eq(leases.workspace, workspace), eq(leases.server, server), eq(leases.scope, scope),
        isNull(leases.revokedAt), gt(leases.expiresAt, new Date(now)))).orderBy(desc(leases.expiresAt)).limit(1).get())
}

/** Grants a lease; returns it. */
export function grant(s: Store, row: typeof leases.$inferInsert): Lease {
    return guard(s, () => s.db.insert(leases).values(row).returning().get())
}

/** The newest lease granted with approval `id`. */
export function leaseOf(s: Store, approval: number): Lease | undefined {
    return guard(s, () => s.db.select().from(leases).where(eq(leases.approval, approval)).orderBy(desc(leases.id)).limit(1).get())
}

/** Ends lease `id` now unless it was already revoked; returns whether it changed and the lease as it stands. */
export function revoke(s: Store, id: number, by: string): { changed: boolean; lease?: Lease } {
    return guard(s, () => {
        const changed = s.db.update(leases).set({ revokedAt: new Date(), revokedBy: by }).where(and(eq(leases.id, id), isNull(leases.revokedAt))).run().changes > 0
        return { changed, lease: s.db.select().from(leases).where(eq(leases.id, id)).get() }
    })
}

/** Which of `ids` have been revoked. */
export function revoked(s: Store, ids: number[]): number[] {
    return guard(s, () => s.db.select({ id: leases.id }).from(leases).where(and(isNotNull(leases.revokedAt), inArray(leases.id, ids))).all().map(r => r.id))
}

/**
 * Deletes decided approvals and leases that ended before `before`, and marks approvals still
 * pending past their expiry (their serve went away) expired. Call it inside `atomic` with audit's.
 */
export function prune(s: Store, before: number, now: number): void {
    guard(s, () => {
        s.db.delete(approvals).where(and(ne(approvals.status, "pending"), lt(approvals.createdAt, new Date(before)))).run()
        s.db.update(approvals).set({ status: "expired", reason: "nobody waits for it any more" })
            .where(and(eq(approvals.status, "pending"), lt(approvals.expiresAt, new Date(now)))).run()
        s.db.delete(leases).where(lt(leases.expiresAt, new Date(before))).run()
    })
}
