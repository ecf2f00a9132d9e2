/**
 * The queries of the scope_keys table: each shared scope's MAC key, as an age file and the
 * owner's tag over it. This file never sees a key's bytes, only ciphertexts (see secrets/share.ts).
 */
import { asc, eq } from "drizzle-orm"
import type { Store } from "./open.ts"
import { guard } from "./sqlite.ts"
import { scopeKeys as t } from "./schema.ts"

/** One scope's key row. */
export type Row = typeof t.$inferSelect

/** The key row of `scope`, or undefined when the scope is shared with no one. */
export function get(s: Store, scope: string): Row | undefined {
    return guard(s, () => s.db.select().from(t).where(eq(t.scope, scope)).get())
}

/** Every scope's key row, sorted by scope. */
export function all(s: Store): Row[] {
    return guard(s, () => s.db.select().from(t).orderBy(asc(t.scope)).all())
}

/** Writes (or replaces) the key row of a scope. */
export function set(s: Store, r: Row): void {
    guard(s, () => s.db.insert(t).values(r).onConflictDoUpdate({ target: t.scope, set: { id: r.id, owner: r.owner, recipients: r.recipients, ciphertext: r.ciphertext, tag: r.tag, createdAt: r.createdAt } }).run())
}

/** Removes the key row of a scope (it is shared with no one any more); false when there was none. */
export function remove(s: Store, scope: string): boolean {
    return guard(s, () => s.db.delete(t).where(eq(t.scope, scope)).run().changes > 0)
}
