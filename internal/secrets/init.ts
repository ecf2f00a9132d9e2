import type * as config from "../config/index.ts"
import { readPrivate } from "./file.ts"

/**
 * Creates the identity at `paths.key` if missing, atomically (never when keyExplicit: then a
 * missing file is an error with a hint), and reports its public key. With `pq` a new identity is
 * post-quantum; an existing one is left as it is (`mcplexer key rotate --pq` changes it).
 */
export async function init(paths: config.Paths, o: { pq?: boolean } = {}): Promise<{ created: boolean; recipient: string; path: string; pq: boolean }> {
    const keyring = await import("./keyring.ts")
    const identity = await import("./identity.ts")
    const created = await keyring.create(paths, o)
    const bytes = readPrivate(paths.key)
    if (bytes === undefined) throw keyring.explicitMissing(paths.key)
    try {
        const id = await identity.load(bytes, paths.key)
        return { created, recipient: id.recipient, path: paths.key, pq: id.recipient.startsWith("age1pq1") }
    } finally {
        bytes.fill(0)
    }
}
