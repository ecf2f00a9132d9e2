/**
 * The queries of the pins table: the definition of each tool as a person last approved it, and
 * the one it was last seen with. A tool whose two hashes differ is withheld (gateway/shape.ts).
 */
import { and, eq } from "drizzle-orm"
import type { Store } from "./open.ts"
import { guard } from "./sqlite.ts"
import { pins } from "./schema.ts"

/** One tool's pin as stored. */
export type Pin = typeof pins.$inferSelect

/** Every pin. */
export function all(s: Store): Pin[] {
    return guard(s, () => s.db.select().from(pins).all())
}

/** The pin of one tool, by its server and the server's own name for it. */
export function get(s: Store, server: string, tool: string): Pin | undefined {
    return guard(s, () => s.db.select().from(pins).where(and(eq(pins.server, server), eq(pins.tool, tool))).get())
}

/** Stores (or replaces) the pins of `rows`, in one transaction. */
export function put(s: Store, ...rows: Array<typeof pins.$inferInsert>): void {
    if (rows.length === 0) return
    guard(s, () => s.db.transaction(tx => {
        for (const row of rows) tx.insert(pins).values(row).onConflictDoUpdate({ target: [pins.server, pins.tool], set: row }).run()
    }))
}
