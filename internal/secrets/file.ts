import { closeSync, constants, fstatSync, openSync, readdirSync, readSync } from "node:fs"
import { basename, dirname, join } from "node:path"
import type * as config from "../config/index.ts"
import { hinted } from "./errors.ts"

// every file mcplexer writes goes through config's one atomic writer; secrets names it as its own
export { sweep, syncDir, writeNew, writeOver } from "../config/atomic.ts"

/**
 * Reads a private file (`what` names it in errors: "key file", "api token file"), refusing one
 * that group or others may access, as ssh refuses a loose private key. The mode is checked on the
 * open descriptor, so the file read is the file checked. Returns undefined when it does not exist.
 */
export function readPrivate(path: string, what = "key file"): Buffer | undefined {
    const name = `${what} ${JSON.stringify(path)}`
    let fd: number
    try {
        fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW)
    } catch (e) {
        const code = (e as NodeJS.ErrnoException).code
        if (code === "ENOENT") return undefined
        if (code === "ELOOP") throw hinted(`${name} is a symbolic link`, `replace the link with the file itself (or point MCPLEXER_AGE_KEY at it)`)
        throw hinted(`cannot read ${name}: ${code ?? String(e)}`, `check the permissions of ${JSON.stringify(path)}`, { cause: e })
    }
    try {
        const st = fstatSync(fd)
        if (!st.isFile()) throw hinted(`${name} is not a regular file`, `move it away; mcplexer makes a new one where it needs one`)
        const mode = st.mode & 0o777
        if (mode & 0o077) {
            const how = mode & 0o044 ? "readable" : "writable"
            throw hinted(`${name} is ${how} by others (mode ${mode.toString(8).padStart(4, "0")})`, `chmod 600 ${path}`)
        }
        const out = Buffer.alloc(st.size)
        for (let at = 0; at < out.length;) {
            const n = readSync(fd, out, at, out.length - at, at)
            if (n === 0) return out.subarray(0, at)
            at += n
        }
        return out
    } finally {
        closeSync(fd)
    }
}

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
