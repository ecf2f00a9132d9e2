/**
 * The queries of the secrets table. Rows hold only ciphertexts and names: this file never sees a
 * value, and knows nothing of age or of how a row is authenticated.
 */
import { and, asc, eq, max, min } from "drizzle-orm"
import type { Store } from "./open.ts"
import { guard } from "./sqlite.ts"
import { secrets as t } from "./schema.ts"

/** One stored row. */
export type Row = typeof t.$inferSelect

/** A row as `list` shows it: names, time and recipient, never the ciphertext. */
export interface Entry { scope: string; key: string; updatedAt: Date; recipient: string }

/** The row of (scope, key), or undefined. */
export function get(s: Store, scope: string, key: string): Row | undefined {
    return guard(s, () => s.db.select().from(t).where(and(eq(t.scope, scope), eq(t.key, key))).get())
}

/** Every row of `scope` (every row when undefined), sorted by scope and key. */
export function rows(s: Store, scope?: string): Row[] {
    const q = s.db.select().from(t)
    return guard(s, () => (scope === undefined ? q : q.where(eq(t.scope, scope))).orderBy(asc(t.scope), asc(t.key)).all())
}

/** What is stored, sorted by scope and key; reads no ciphertext. */
export function list(s: Store, scope?: string): Entry[] {
    const q = s.db.select({ scope: t.scope, key: t.key, updatedAt: t.updatedAt, recipient: t.recipient }).from(t)
    return guard(s, () => (scope === undefined ? q : q.where(eq(t.scope, scope))).orderBy(asc(t.scope), asc(t.key)).all())
}

/** Inserts or replaces the row of (scope, key); true when it replaced one. */
export function put(s: Store, r: { scope: string; key: string; recipient: string; ciphertext: Buffer; mac: Buffer }, at = new Date()): boolean {
    return guard(s, () => {
        const before = s.db.select({ scope: t.scope }).from(t).where(and(eq(t.scope, r.scope), eq(t.key, r.key))).get()
        s.db.insert(t).values({ ...r, createdAt: at, updatedAt: at })
            .onConflictDoUpdate({ target: [t.scope, t.key], set: { recipient: r.recipient, ciphertext: r.ciphertext, mac: r.mac, updatedAt: at } }).run()
        return before !== undefined
    })
}

/**
 * Replaces the ciphertext and MAC of a row only if it still holds `was` (compare and set): false
 * when it changed or was deleted meanwhile. The update time is kept: the value did not change.
 */
export function reseal(s: Store, was: Pick<Row, "scope" | "key" | "ciphertext">, next: { recipient: string; ciphertext: Buffer; mac: Buffer }): boolean {
    return guard(s, () => s.db.update(t).set(next)
        .where(and(eq(t.scope, was.scope), eq(t.key, was.key), eq(t.ciphertext, was.ciphertext))).run().changes > 0)
}

/** Whether (scope, key) is stored. */
export function has(s: Store, scope: string, key: string): boolean {
    return guard(s, () => s.db.select({ scope: t.scope }).from(t).where(and(eq(t.scope, scope), eq(t.key, key))).get() !== undefined)
}

/** Deletes the row of (scope, key); false when there was none. */
export function remove(s: Store, scope: string, key: string): boolean {
    return guard(s, () => s.db.delete(t).where(and(eq(t.scope, scope), eq(t.key, key))).run().changes > 0)
}

/** The smallest and largest recipient of all rows, or undefined when there are none. */
export function recipients(s: Store): { min: string; max: string } | undefined {
    // two statements: SQLite answers a lone min() or max() from the recipient index, not both at once
    const lo = guard(s, () => s.db.select({ r: min(t.recipient) }).from(t).get())?.r ?? null
    const hi = guard(s, () => s.db.select({ r: max(t.recipient) }).from(t).get())?.r ?? null
    return lo === null || hi === null ? undefined : { min: lo, max: hi }
}
