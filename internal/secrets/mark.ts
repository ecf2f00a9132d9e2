/**
 * Whether a store authenticates its rows: the one question `key upgrade` asks before it adopts a
 * row without a MAC, and `get` before its hint names `key upgrade`. Everything in the database can
 * be reset by its writer to look as 0.1 left it (the mark deleted, every MAC set to NULL), so the
 * identity carries the answer too (identity.mark, a line of its text): a key made by this mcplexer,
 * or one that vouched for a 0.1 store once, never adopts a row without a MAC again.
 */
import type * as config from "../config/index.ts"
import * as store from "../store/index.ts"
import type { Evidence } from "./cipher.ts"
import { readPrivate, writeOver } from "./file.ts"
import * as identity from "./identity.ts"
import { cache, nextPath } from "./loaded.ts"

/**
 * The first thing that shows that `s`, read with `id`, authenticates its rows, or undefined for a
 * store 0.1 may have left: the database's mark (first, since it says when), the identity's line, a
 * row that carries a MAC, a shared scope's key.
 */
export function evidence(id: Pick<identity.Identity, "marked" | "path">, s: store.Store): Evidence | undefined {
    const since = store.meta.authenticated(s)
    if (since !== undefined) return { kind: "mark", since }
    if (id.marked) return { kind: "key", path: id.path }
    const t = store.meta.traces(s)
    if (t.row !== undefined) return { kind: "row", ...t.row }
    if (t.shared !== undefined) return { kind: "share", scope: t.shared }
    return undefined
}

/** What `stamp` did to the key file. */
export type Stamped = "marked" | "already" | "passphrase" | "keychain" | "changed" | "unwritable"

/**
 * Adds the mark line to the key file of `id` after `key upgrade` vouched for its store. Only a
 * plain key file is changed: a protected one would need its passphrase or the keychain again, and
 * a 0.1 store predates protection. Done holding the database's write lock, and only when the file
 * is still the one `id` was read from (a rotation meanwhile made a new key, which has the line).
 */
export function stamp(paths: config.Paths, s: store.Store, id: identity.Identity): Stamped {
    if (id.marked) return "already"
    if (id.form !== "plain") return id.form
    return store.atomic(s, (): Stamped => {
        const bytes = readPrivate(paths.key)
        if (bytes === undefined || identity.digest(bytes) !== id.digest || readPrivate(nextPath(paths.key)) !== undefined) return "changed"
        const next = identity.marked(bytes)
        bytes.fill(0)
        if (next === undefined) return "already"
        try {
            writeOver(paths.key, next, 0o600)
        } catch {
            // a key file in a read-only place: the rows are upgraded all the same; the caller says so
            return "unwritable"
        } finally {
            next.fill(0)
        }
        // the identity is the same; its digest names the old bytes, so let it load again
        cache.delete(paths.key)
        return "marked"
    })
}
