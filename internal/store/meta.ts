/**
 * The queries of the meta table: facts about the database itself. One so far, `authenticated`:
 * when the store began to hold a MAC on every secret row. Before it, a row without a MAC may be
 * one 0.1 wrote; after it, such a row was written by something other than mcplexer.
 */
import { eq, isNull } from "drizzle-orm"
import type { Store } from "./open.ts"
import { guard } from "./sqlite.ts"
import { meta as t, secrets } from "./schema.ts"

const authenticatedName = "authenticated"

/** When every row of the store began to carry a MAC, or undefined for a store 0.1 left that no one vouched for yet. */
export function authenticated(s: Store): Date | undefined {
    const row = guard(s, () => s.db.select({ value: t.value }).from(t).where(eq(t.name, authenticatedName)).get())
    if (row === undefined) return undefined
    const ms = Number(row.value)
    // a mark someone garbled is still a mark: its presence is what counts, not its date
    return new Date(Number.isFinite(ms) ? ms : 0)
}

/**
 * Marks the store as holding a MAC on every row from now on, if no row lacks one (and it is not
 * marked yet); returns the mark, or undefined while rows without a MAC remain. Safe to call
 * whenever: marking a store with no unauthenticated row never refuses a row 0.1 wrote. Run it
 * inside the transaction that wrote the rows.
 */
export function seal(s: Store, at = new Date()): Date | undefined {
    const was = authenticated(s)
    if (was !== undefined) return was
    const open = guard(s, () => s.db.select({ key: secrets.key }).from(secrets).where(isNull(secrets.mac)).limit(1).get())
    if (open !== undefined) return undefined
    guard(s, () => s.db.insert(t).values({ name: authenticatedName, value: String(at.getTime()) }).onConflictDoNothing().run())
    return at
}
