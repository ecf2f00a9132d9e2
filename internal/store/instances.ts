/** The queries of the instances table: the live state of each (server, scope), for `status` in another process. */
import { and, eq } from "drizzle-orm"
import type { Store } from "./open.ts"
import { guard } from "./sqlite.ts"
import { instances as t } from "./schema.ts"

/** One instance's state. */
export type Row = typeof t.$inferSelect

/** Every row. */
export function all(s: Store): Row[] {
    return guard(s, () => s.db.select().from(t).all())
}

/** Records the state of (row.server, row.scope). */
export function put(s: Store, row: typeof t.$inferInsert): void {
    guard(s, () => s.db.insert(t).values(row).onConflictDoUpdate({ target: [t.server, t.scope], set: row }).run())
}

/** Deletes the row of (server, scope) if it is still the one written at `updatedAt` (another process may have replaced it). */
export function remove(s: Store, server: string, scope: string, updatedAt: Date): void {
    guard(s, () => s.db.delete(t).where(and(eq(t.server, server), eq(t.scope, scope), eq(t.updatedAt, updatedAt))).run())
}
