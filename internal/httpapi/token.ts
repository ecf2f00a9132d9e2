import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto"
import { closeSync, constants, fchmodSync, fstatSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs"
import { basename, dirname, join } from "node:path"
import type * as config from "../config/index.ts"

/** Where the API token lives: beside the database, in the home folder. */
export function tokenPath(paths: config.Paths): string {
    return join(paths.home, "api.token")
}

/** An error the CLI prints with its hint. */
class Hinted extends Error {
    readonly hint: string
    constructor(message: string, hint: string) {
        super(message)
        this.hint = hint
    }
}

const prefix = "mcp_"

function fresh(): string {
    return prefix + randomBytes(32).toString("base64url")
}

/** Writes a new 0600 file at `path` through a temp file; `replace` renames over an existing one. */
function write(path: string, data: string, replace: boolean): boolean {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
    const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString("hex")}`)
    const fd = openSync(tmp, "wx", 0o600)
    try {
        try {
            fchmodSync(fd, 0o600)
            writeSync(fd, data)
            fsyncSync(fd)
        } finally {
            closeSync(fd)
        }
        if (replace) {
            renameSync(tmp, path)
            return true
        }
        try {
            linkSync(tmp, path)
        } catch (e) {
            if ((e as NodeJS.ErrnoException).code === "EEXIST") return false
            throw e
        }
    } finally {
        try {
            unlinkSync(tmp)
        } catch {
            // renamed into place
        }
    }
    return true
}

function read(path: string): string | undefined {
    let fd: number
    try {
        fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW)
    } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined
        throw e
    }
    try {
        if ((fstatSync(fd).mode & 0o077) !== 0) {
            throw new Hinted(`api token file ${JSON.stringify(path)} is readable by others`, `chmod 600 ${path}`)
        }
        const t = readFileSync(fd, "utf8").trim()
        if (t.length < 32) throw new Hinted(`api token file ${JSON.stringify(path)} holds no token`, `make a new one with: mcplexer token --rotate`)
        return t
    } finally {
        closeSync(fd)
    }
}

/**
 * The API token of this home folder, created (0600, atomically, never over an existing file) on
 * first need. A file others can read is refused, as the age key is.
 */
export function token(paths: config.Paths): { token: string; path: string; created: boolean } {
    const path = tokenPath(paths)
    const have = read(path)
    if (have !== undefined) return { token: have, path, created: false }
    const created = write(path, fresh() + "\n", false)
    const t = read(path)
    if (t === undefined) throw new Error(`api token file ${JSON.stringify(path)} vanished while it was created`)
    return { token: t, path, created }
}

/** Replaces the token: every client and browser session holding the old one loses access at the server's next start. */
export function rotate(paths: config.Paths): { token: string; path: string } {
    const path = tokenPath(paths)
    const t = fresh()
    write(path, t + "\n", true)
    return { token: t, path }
}

/** Compares two strings in constant time (their SHA-256 digests, so lengths leak nothing either). */
export function same(a: string, b: string): boolean {
    return timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest())
}

/** A value derived from the token for one purpose (the UI cookie, the CSRF token): neither reveals the token. */
export function derive(token: string, purpose: string): string {
    return createHmac("sha256", token).update(`mcplexer/${purpose}`).digest("base64url")
}
