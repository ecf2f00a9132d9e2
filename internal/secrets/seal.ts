// Files mcplexer keeps that must not hold a credential in plaintext (install's backups), as age
// files to the identity: apart from file.ts, which the identity's own loading uses.
import { readdirSync } from "node:fs"
import { basename, dirname, join } from "node:path"
import type * as config from "../config/index.ts"
import { hinted } from "./errors.ts"
import { readPrivate } from "./file.ts"

/**
 * `data` as an age file encrypted to the identity of `paths` (created first where the vault would
 * create it), for a file mcplexer keeps that must not hold a credential in plaintext: install's
 * backup of a client's file. `age -d -i <key file>` reads it as well.
 */
export async function seal(paths: config.Paths, data: Uint8Array): Promise<Uint8Array> {
    const keyring = await import("./keyring.ts")
    const { quick } = await import("./loaded.ts")
    await keyring.create(paths)
    let id = await quick(paths)
    if (id === undefined) {
        // a rotation left half done is settled against the rows first, as the vault does
        const store = await import("../store/index.ts")
        const s = store.open(paths.db)
        try {
            id = await keyring.get(paths, s, { create: true })
        } finally {
            s.close()
        }
    }
    return id.encrypt(data)
}

/**
 * Decrypts the age file `seal` made that is at `path`, with the identity of `paths` or,
 * after a rotation, with the next key or an earlier one kept beside it.
 */
export async function unseal(paths: config.Paths, file: Uint8Array, path: string): Promise<Buffer> {
    const identity = await import("./identity.ts")
    const dir = dirname(paths.key)
    const old = readdirSync(dir).filter(n => n.startsWith(`${basename(paths.key)}.old-`)).sort().reverse().map(n => join(dir, n))
    for (const key of [paths.key, `${paths.key}.new`, ...old]) {
        const bytes = readPrivate(key)
        if (bytes === undefined) continue
        let id: Awaited<ReturnType<typeof identity.load>>
        try {
            id = await identity.load(bytes, key)
        } finally {
            bytes.fill(0)
        }
        try {
            return Buffer.from(await id.decrypt(file))
        } catch {
            // not this key's file (or damaged): the next key, and the error below if none reads it
        }
    }
    throw hinted(`cannot decrypt ${JSON.stringify(path)}: it is not encrypted to ${JSON.stringify(paths.key)} nor to an earlier key kept beside it`,
        `decrypt it with the key it was made with: age -d -i <key file> ${JSON.stringify(path)}`)
}
