/**
 * The queries of the meta table: facts about the database itself. One so far, `authenticated`:
 * when the store began to hold a MAC on every secret row. Before it, a row without a MAC may be
 * one 0.1 wrote; after it, such a row was written by something other than mcplexer. `traces`
 * gathers the other signs in the database that it is past 0.1 (a database writer can remove the
 * mark, so the mark alone is not enough: see secrets/mark.ts).
 */
import { asc, eq, isNotNull, isNull } from "drizzle-orm"
import type { Store } from "./open.ts"
import { guard } from "./sqlite.ts"
import { meta as t, scopeKeys, secrets } from "./schema.ts"

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
    if (unauthenticated(s) !== undefined) return undefined
    guard(s, () => s.db.insert(t).values({ name: authenticatedName, value: String(at.getTime()) }).onConflictDoNothing().run())
    return at
}

/** A row 0.1 may have left (no MAC) other than `except`, the first found; undefined when none is left. */
export function unauthenticated(s: Store, except?: { scope: string; key: string }): { scope: string; key: string } | undefined {
    const rows = guard(s, () => s.db.select({ scope: secrets.scope, key: secrets.key }).from(secrets).where(isNull(secrets.mac))
        .orderBy(asc(secrets.scope), asc(secrets.key)).limit(2).all())
    return rows.find(r => r.scope !== except?.scope || r.key !== except?.key)
}

/**
 * What in the database shows that it is not as 0.1 left it, besides the mark: a row that carries
 * a MAC (0.1 wrote none), or a shared scope's key (0.1 had none). Each is the first found.
 */
export function traces(s: Store): { row?: { scope: string; key: string }; shared?: string } {
    const row = guard(s, () => s.db.select({ scope: secrets.scope, key: secrets.key }).from(secrets).where(isNotNull(secrets.mac))
        .orderBy(asc(secrets.scope), asc(secrets.key)).limit(1).get())
    if (row !== undefined) return { row }
    const k = guard(s, () => s.db.select({ scope: scopeKeys.scope }).from(scopeKeys).orderBy(asc(scopeKeys.scope)).limit(1).get())
    return k === undefined ? {} : { shared: k.scope }
}
