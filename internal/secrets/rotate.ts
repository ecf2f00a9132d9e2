import { and, eq } from "drizzle-orm"
import type * as config from "../config/index.ts"
import * as store from "../store/index.ts"
import * as cipher from "./cipher.ts"
import { hinted } from "./errors.ts"
import { readPrivate, writeNew } from "./file.ts"
import * as identity from "./identity.ts"
import * as keyring from "./keyring.ts"

/** What a rotation did. */
export interface Rotated {
    /** how many secrets were re-encrypted */
    count: number
    /** the new public key */
    recipient: string
    /** where the previous key is kept until the user removes it */
    old: string
}

/** The moments a rotation passes through, in order; a crash test may stop the process at any of them. */
export type Step = "decrypted" | "encrypted" | "staged" | "committed" | "finished"

class Retry extends Error {}

/**
 * Re-encrypts every secret to a new identity. The crypto runs first; the rows then change in one
 * synchronous transaction; the key files change after it (see keyring). Killed at any point, the
 * store is left wholly old or wholly new, and the next load finishes or discards what was left.
 */
export async function rotate(paths: config.Paths, s: store.Store, actor: string, step?: (at: Step) => void): Promise<Rotated> {
    const t = store.schema.secrets
    const next = keyring.nextPath(paths.key)
    for (let attempt = 0; attempt < 3; attempt++) {
        let current = await keyring.get(paths, s, {})
        const rows = store.guard(s, () => s.db.select().from(t).all())
        if (rows.some(r => r.recipient !== current.recipient)) current = await keyring.reload(paths, s, current)
        const values = await Promise.all(rows.map(r => cipher.open(current, r.scope, r.key, r.recipient, r.ciphertext)))
        step?.("decrypted")

        const created = new Date()
        const fresh = await identity.generate(created)
        const id = await identity.load(fresh.bytes, paths.key)
        const sealed = await Promise.all(rows.map((r, i) => cipher.seal(id, r.scope, r.key, values[i] ?? "")))
        values.fill("")
        step?.("encrypted")

        // staged before the commit, so that a commit is never left without its key on disk
        for (let tries = 0; !writeNew(next, fresh.bytes); tries++) {
            if (Buffer.compare(readPrivate(next) ?? Buffer.alloc(0), fresh.bytes) === 0) break
            if (tries === 3) throw hinted(`another key rotation of ${JSON.stringify(paths.key)} is in progress`, "try again when it is done")
            await keyring.recover(paths, s)
        }
        step?.("staged")

        try {
            commit(s, next, fresh.bytes, rows, sealed, id, current, actor)
        } catch (e) {
            if (!(e instanceof Retry)) throw e
            // our staged key is now stale: drop it before trying again
            await keyring.recover(paths, s)
            continue
        }
        step?.("committed")

        const old = keyring.finish(paths.key, s, fresh.bytes, id.recipient, created)
        fresh.bytes.fill(0)
        keyring.set(id)
        step?.("finished")
        return { count: rows.length, recipient: id.recipient, old }
    }
    throw hinted("secrets kept changing during the key rotation", "try again")
}

/**
 * The one transaction that moves every row to the new recipient. It aborts (Retry) when the
 * staged key is gone (another process judged it stale) or when a row changed since it was read.
 */
function commit(s: store.Store, next: string, bytes: Uint8Array, rows: Array<typeof store.schema.secrets.$inferSelect>,
    sealed: Buffer[], id: identity.Identity, from: identity.Identity, actor: string): void {
    const t = store.schema.secrets
    // this commit is the moment of truth: make it durable against power loss, not only a crash
    s.sqlite.pragma("synchronous = FULL")
    try {
        store.guard(s, () => s.db.transaction(() => {
            const staged = readPrivate(next)
            if (staged === undefined || Buffer.compare(staged, bytes) !== 0) throw new Retry()
            for (const [i, r] of rows.entries()) {
                const c = sealed[i]
                if (c === undefined) throw new Error("internal: a sealed value is missing")
                const res = s.db.update(t).set({ recipient: id.recipient, ciphertext: c })
                    .where(and(eq(t.scope, r.scope), eq(t.key, r.key), eq(t.ciphertext, r.ciphertext))).run()
                if (res.changes === 0) {
                    const still = s.db.select({ scope: t.scope }).from(t).where(and(eq(t.scope, r.scope), eq(t.key, r.key))).get()
                    // deleted meanwhile: fine; replaced meanwhile: re-read everything
                    if (still !== undefined) throw new Retry()
                }
            }
            const all = keyring.recipients(s)
            // a row put meanwhile, still encrypted to the old key
            if (all !== undefined && (all.min !== id.recipient || all.max !== id.recipient)) throw new Retry()
            store.audit(s, { action: "rotate", actor, status: "ok", detail: { count: rows.length, from: from.recipient, to: id.recipient } })
        }, { behavior: "immediate" }))
    } finally {
        s.sqlite.pragma("synchronous = NORMAL")
    }
}
