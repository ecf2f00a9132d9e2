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

/**
 * A row as `list` shows it: names, times and recipient, never the ciphertext. `scopeKey` is the
 * scope key the row is sealed under (null: the identity's own); `expiresAt` when its owner said it
 * expires. A staged value (`secret put --next`) is never an entry of its own: its current row
 * carries `next`, when it was staged.
 */
export interface Entry { scope: string; key: string; updatedAt: Date; recipient: string; scopeKey: string | null; expiresAt: Date | null; next?: Date }

/**
 * The key under which a value staged beside `key` is stored (`secret put --next`): ":" is in no
 * key name, so no stored key and no environment variable name can collide with it, while the
 * row is sealed, re-encrypted, rotated and shared exactly as every other row.
 */
export function staged(key: string): string {
    return `${key}:next`
}

/** Whether a stored key is a staged value's (see `staged`). */
export function isStaged(key: string): boolean {
    return key.endsWith(":next")
}

/** The row of (scope, key), or undefined. */
export function get(s: Store, scope: string, key: string): Row | undefined {
    return guard(s, () => s.db.select().from(t).where(and(eq(t.scope, scope), eq(t.key, key))).get())
}

/** Every row of `scope` (every row when undefined), sorted by scope and key. */
export function rows(s: Store, scope?: string): Row[] {
    const q = s.db.select().from(t)
    return guard(s, () => (scope === undefined ? q : q.where(eq(t.scope, scope))).orderBy(asc(t.scope), asc(t.key)).all())
}

/** What is stored, sorted by scope and key; reads no ciphertext. A staged value shows as `next` on its key. */
export function list(s: Store, scope?: string): Entry[] {
    const q = s.db.select({ scope: t.scope, key: t.key, updatedAt: t.updatedAt, recipient: t.recipient, scopeKey: t.scopeKey, expiresAt: t.expiresAt }).from(t)
    const all = guard(s, () => (scope === undefined ? q : q.where(eq(t.scope, scope))).orderBy(asc(t.scope), asc(t.key)).all())
    const next = new Map(all.filter(e => isStaged(e.key)).map(e => [`${e.scope}/${e.key}`, e.updatedAt]))
    const out: Entry[] = []
    for (const e of all) {
        if (isStaged(e.key)) continue
        const n = next.get(`${e.scope}/${staged(e.key)}`)
        out.push(n === undefined ? e : { ...e, next: n })
    }
    return out
}

/** A row as written: `scopeKey` null when the MAC is keyed from the identity; `expiresAt` null when never said. */
export interface Written { scope: string; key: string; recipient: string; ciphertext: Buffer; mac: Buffer; scopeKey?: string | null; expiresAt?: Date | null }

/** Inserts or replaces the row of (scope, key); true when it replaced one. */
export function put(s: Store, r: Written, at = new Date()): boolean {
    return guard(s, () => {
        const before = s.db.select({ scope: t.scope }).from(t).where(and(eq(t.scope, r.scope), eq(t.key, r.key))).get()
        const expiresAt = r.expiresAt ?? null
        const scopeKey = r.scopeKey ?? null
        s.db.insert(t).values({ ...r, scopeKey, expiresAt, createdAt: at, updatedAt: at })
            .onConflictDoUpdate({ target: [t.scope, t.key], set: { recipient: r.recipient, ciphertext: r.ciphertext, mac: r.mac, scopeKey, expiresAt, updatedAt: at } }).run()
        return before !== undefined
    })
}

/**
 * Replaces the ciphertext and MAC of a row only if it still holds `was` (compare and set): false
 * when it changed or was deleted meanwhile. The update time is kept: the value did not change.
 */
export function reseal(s: Store, was: Pick<Row, "scope" | "key" | "ciphertext">, next: { recipient: string; ciphertext: Buffer; mac: Buffer; scopeKey?: string | null }): boolean {
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
