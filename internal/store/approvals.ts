/**
 * The queries of the approvals and leases tables that the audit retention needs. (gateway/approve.ts
 * still holds its own; they belong here.)
 */
import { and, eq, lt, ne } from "drizzle-orm"
import type { Store } from "./open.ts"
import { guard } from "./sqlite.ts"
import { approvals, leases } from "./schema.ts"

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
