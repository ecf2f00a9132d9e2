/**
 * The identity of each key file, loaded once per process (DESIGN decision 2). keyring.ts fills and
 * refreshes it; `quick` is what `secret get` uses, without the database.
 */
import { existsSync } from "node:fs"
import type * as config from "../config/index.ts"
import { readPrivate } from "./file.ts"
import * as identity from "./identity.ts"
import { form } from "./unlock.ts"

/** Loaded (or loading) identities by key file path. */
export const cache = new Map<string, Promise<identity.Identity>>()

/** Where the next identity waits during a rotation. */
export function nextPath(key: string): string {
    return `${key}.new`
}

/**
 * The identity of `paths` when nothing needs the database first: the key file exists and no key
 * rotation was left half done. Undefined otherwise; the caller then takes keyring.get's way.
 */
export async function quick(paths: config.Paths): Promise<identity.Identity | undefined> {
    const p = cache.get(paths.key)
    if (p !== undefined) return p
    if (!existsSync(paths.key) || existsSync(nextPath(paths.key))) return undefined
    const bytes = readPrivate(paths.key)
    if (bytes === undefined) return undefined
    try {
        const q = identity.load(bytes, paths.key)
        cache.set(paths.key, q)
        q.catch(() => {
            if (cache.get(paths.key) === q) cache.delete(paths.key)
        })
        return await q
    } finally {
        bytes.fill(0)
    }
}

/**
 * Opens a protected key file now, asking for its passphrase or reading the OS keychain, so that
 * `serve` asks once at its start, before it speaks the protocol, rather than at its first call.
 * A plain or missing key file needs nothing here.
 */
export async function unlock(paths: config.Paths): Promise<void> {
    const bytes = readPrivate(paths.key)
    if (bytes === undefined) return
    try {
        if (form(bytes) === "plain") return
        // a rotation left half done: the vault settles it later; the passphrase is proven now
        if (await quick(paths) === undefined) await identity.load(bytes, paths.key)
    } finally {
        bytes.fill(0)
    }
}
