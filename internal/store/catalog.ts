/** The queries of the catalog table: the last lists each downstream server announced. */
import { eq } from "drizzle-orm"
import type { Store } from "./open.ts"
import { guard } from "./sqlite.ts"
import { catalog as t } from "./schema.ts"

/** One cached catalog. */
export type Row = typeof t.$inferSelect

/** The cached catalog of `server`, or undefined. */
export function get(s: Store, server: string): Row | undefined {
    return guard(s, () => s.db.select().from(t).where(eq(t.server, server)).get())
}

/** Every cached catalog. */
export function all(s: Store): Row[] {
    return guard(s, () => s.db.select().from(t).all())
}

/** Stores (or replaces) the catalog of `row.server`. */
export function put(s: Store, row: typeof t.$inferInsert): void {
    guard(s, () => s.db.insert(t).values(row).onConflictDoUpdate({ target: t.server, set: row }).run())
}
