import type * as config from "../config/index.ts"
import { readPrivate } from "./file.ts"

/**
 * Creates the identity at `paths.key` if missing, atomically (never when keyExplicit: then a
 * missing file is an error with a hint), and reports its public key.
 */
export async function init(paths: config.Paths): Promise<{ created: boolean; recipient: string; path: string }> {
    const keyring = await import("./keyring.ts")
    const identity = await import("./identity.ts")
    const created = await keyring.create(paths)
    const bytes = readPrivate(paths.key)
    if (bytes === undefined) throw keyring.explicitMissing(paths.key)
    try {
        const id = await identity.load(bytes, paths.key)
        return { created, recipient: id.recipient, path: paths.key }
    } finally {
        bytes.fill(0)
    }
}
