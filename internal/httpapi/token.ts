import { createHash, randomBytes, timingSafeEqual } from "node:crypto"
import { mkdirSync } from "node:fs"
import { dirname, join } from "node:path"
import * as config from "../config/index.ts"
import * as secrets from "../secrets/index.ts"

/** Where the API token lives: beside the database, in the home folder. */
export function tokenPath(paths: config.Paths): string {
    return join(paths.home, "api.token")
}

const prefix = "mcp_"

function fresh(): string {
    return prefix + randomBytes(32).toString("base64url")
}

function read(path: string): string | undefined {
    const bytes = secrets.readPrivate(path, "api token file")
    if (bytes === undefined) return undefined
    const t = bytes.toString("utf8").trim()
    if (t.length < 32) {
        throw config.hinted(`api token file ${JSON.stringify(path)} holds no token`, "make a new one with: mcplexer token --rotate")
    }
    return t
}

/**
 * The API token of this home folder, created (0600, atomically, never over an existing file) on
 * first need. A file others can read is refused, as the age key is.
 */
export function token(paths: config.Paths): { token: string; path: string; created: boolean } {
    const path = tokenPath(paths)
    const have = read(path)
    if (have !== undefined) return { token: have, path, created: false }
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
    const created = secrets.writeNew(path, Buffer.from(fresh() + "\n"))
    const t = read(path)
    if (t === undefined) throw new Error(`api token file ${JSON.stringify(path)} vanished while it was created`)
    return { token: t, path, created }
}

/** Replaces the token: every client and browser session holding the old one loses access at the server's next start. */
export function rotate(paths: config.Paths): { token: string; path: string } {
    const path = tokenPath(paths)
    const t = fresh()
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
    secrets.writeOver(path, Buffer.from(t + "\n"))
    return { token: t, path }
}

/** Compares two strings in constant time (their SHA-256 digests, so lengths leak nothing either). */
export function same(a: string, b: string): boolean {
    return timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest())
}
