/**
 * The identity of this process: created on first need, loaded once, and kept consistent with the
 * rows across a key rotation that another process may have left half done.
 *
 * Rotation files, beside the key file K: `K.new` holds the next identity from just before the rows
 * are re-encrypted until it replaces K; `K.old-<time>` keeps the previous identity until the user
 * removes it. Every decision about them is taken while holding the database's write lock, so that
 * a rotation and a recovery in another process cannot both act on the same state.
 */
import { existsSync, linkSync, mkdirSync, renameSync, unlinkSync } from "node:fs"
import { dirname } from "node:path"
import type * as config from "../config/index.ts"
import * as store from "../store/index.ts"
import { hinted } from "./errors.ts"
import { readPrivate, sweep, syncDir, writeNew } from "./file.ts"
import * as identity from "./identity.ts"
import { cache, nextPath } from "./loaded.ts"

export { nextPath }

/** Where the identity replaced by the one created at `created` is kept. */
export function oldPath(key: string, created: Date): string {
    return `${key}.old-${created.toISOString().replace(/\.\d+Z$/, "Z").replace(/[-:]/g, "")}`
}

/** The identity of `paths`, loaded once per process (and created first when `create` allows it). */
export function get(paths: config.Paths, s: store.Store, o: { create?: boolean }): Promise<identity.Identity> {
    let p = cache.get(paths.key)
    if (p === undefined) {
        const q = read(paths, s, o)
        p = q
        cache.set(paths.key, q)
        q.catch(() => {
            if (cache.get(paths.key) === q) cache.delete(paths.key)
        })
    }
    return p
}

/** Replaces the cached identity, after this process rotated it. */
export function set(id: identity.Identity): void {
    cache.set(id.path, Promise.resolve(id))
}

/**
 * Reads the key file again because the rows name another recipient than `stale`: another process
 * may have rotated the key (or left a rotation for us to finish).
 */
export async function reload(paths: config.Paths, s: store.Store, stale: identity.Identity): Promise<identity.Identity> {
    if (existsSync(nextPath(paths.key))) await recover(paths, s)
    const bytes = readPrivate(paths.key)
    if (bytes === undefined || identity.digest(bytes) === stale.digest) return stale
    const id = await identity.load(bytes, paths.key)
    bytes.fill(0)
    set(id)
    return id
}

/**
 * Creates the identity at `paths.key` unless a file is there: atomically, 0600, in a 0700 folder,
 * so racing creators end with one key. Never creates an explicit MCPLEXER_AGE_KEY. `pq` makes
 * it a post-quantum (hybrid ML-KEM-768 + X25519) identity.
 */
export async function create(paths: config.Paths, o: { pq?: boolean } = {}): Promise<boolean> {
    if (existsSync(paths.key)) return false
    if (paths.keyExplicit) throw explicitMissing(paths.key)
    const dir = dirname(paths.key)
    try {
        mkdirSync(dir, { recursive: true, mode: 0o700 })
    } catch (e) {
        throw unwritable(paths.key, dir, e)
    }
    const { bytes } = await identity.generate(new Date(), o)
    try {
        return writeNew(paths.key, bytes)
    } catch (e) {
        throw unwritable(paths.key, dir, e)
    } finally {
        bytes.fill(0)
    }
}

/** MCPLEXER_AGE_KEY names a file that is not there. */
export function explicitMissing(path: string): Error {
    return hinted(`key file ${JSON.stringify(path)} named by MCPLEXER_AGE_KEY does not exist`,
        `create it with: age-keygen -o ${path}\nor unset MCPLEXER_AGE_KEY to use the key in the mcplexer home folder`)
}

function unwritable(path: string, dir: string, e: unknown): Error {
    const code = (e as NodeJS.ErrnoException).code
    const why = code === "EACCES" || code === "EPERM" ? "permission denied" : code === "EROFS" ? "read-only file system" : code ?? String(e)
    return hinted(`cannot create key file ${JSON.stringify(path)}: ${why}`,
        `make ${JSON.stringify(dir)} writable, or set MCPLEXER_AGE_KEY to an existing age key file`, { cause: e })
}

async function read(paths: config.Paths, s: store.Store, o: { create?: boolean }): Promise<identity.Identity> {
    if (!existsSync(paths.key)) {
        if (paths.keyExplicit) throw explicitMissing(paths.key)
        if (!o.create) throw hinted(`no key file at ${JSON.stringify(paths.key)}`, "create one with: mcplexer init")
        await create(paths)
    }
    sweep(paths.key)
    sweep(nextPath(paths.key))
    if (existsSync(nextPath(paths.key))) await recover(paths, s)
    const bytes = readPrivate(paths.key)
    if (bytes === undefined) throw hinted(`no key file at ${JSON.stringify(paths.key)}`, "create one with: mcplexer init")
    try {
        return await identity.load(bytes, paths.key)
    } finally {
        bytes.fill(0)
    }
}

function same(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
    return a === undefined || b === undefined ? a === b : Buffer.compare(a, b) === 0
}

/**
 * Settles a leftover `K.new`: if the rows are already encrypted to it (a rotation committed, then
 * stopped), finish that rotation; otherwise it is stale (a rotation stopped before its commit, or
 * is about to commit and will notice) and is removed.
 */
export async function recover(paths: config.Paths, s: store.Store): Promise<void> {
    const next = nextPath(paths.key)
    for (let attempt = 0; attempt < 5; attempt++) {
        const n = readPrivate(next)
        if (n === undefined) return
        const k = readPrivate(paths.key)
        // a key we cannot parse was never written by a rotation (it links only complete files)
        const nId = await identity.load(n, next).catch(() => undefined)
        const kId = k === undefined ? undefined : await identity.load(k, paths.key)
        const settled = store.atomic(s, () => {
            if (!same(readPrivate(next), n) || !same(readPrivate(paths.key), k)) return false
            const rows = store.secrets.recipients(s)
            if (nId !== undefined && rows?.min === nId.recipient && rows.max === nId.recipient && kId?.recipient !== nId.recipient) {
                install(paths.key, nId.created ?? new Date())
            } else {
                unlinkSync(next)
                syncDir(dirname(next))
            }
            return true
        })
        n.fill(0)
        k?.fill(0)
        if (settled) return
    }
    throw hinted(`key file ${JSON.stringify(paths.key)} keeps changing`, "another mcplexer is rotating the key; try again when it is done")
}

/**
 * Puts `K.new` in place of K, keeping K as `K.old-<created>`; call it holding the write lock. An
 * old-key name already taken by a different file gets a suffix rather than being replaced.
 */
function install(key: string, created: Date): string {
    let old = oldPath(key, created)
    if (existsSync(key)) {
        for (let i = 2; ; i++) {
            try {
                linkSync(key, old)
                break
            } catch (e) {
                if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e
                // an earlier attempt of this same step, killed after the link
                if (same(readPrivate(old), readPrivate(key))) break
                old = `${oldPath(key, created)}-${i}`
            }
        }
    }
    renameSync(nextPath(key), key)
    syncDir(dirname(key))
    return old
}

/**
 * Completes a rotation this process committed: the rows are encrypted to `recipient`, whose key
 * file bytes are `next`. Returns where the old key is kept. Another process may have finished it
 * for us (see `recover`).
 */
export function finish(key: string, s: store.Store, next: Uint8Array, recipient: string, created: Date): string {
    return store.atomic(s, () => {
        const rows = store.secrets.recipients(s)
        if (rows !== undefined && (rows.min !== recipient || rows.max !== recipient)) {
            throw hinted("the key rotation was undone by another process before it finished", "run it again")
        }
        if (same(readPrivate(key), next)) return oldPath(key, created)
        const n = readPrivate(nextPath(key))
        if (n === undefined) {
            // removed as stale while the store was empty: nothing was encrypted to it yet
            writeNew(nextPath(key), next)
        } else if (!same(n, next)) {
            throw hinted(`another key rotation of ${JSON.stringify(key)} is in progress`, "try again when it is done")
        }
        return install(key, created)
    })
}
