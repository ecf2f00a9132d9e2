import * as config from "../config/error.ts"
import { closeSync, constants, existsSync, fchmodSync, fstatSync, mkdirSync, openSync, readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import type Database from "better-sqlite3"

// required, not imported: Node's ESM loader would first scan the CommonJS package for its export
// names, a few milliseconds of every `secret get`
const Sqlite = createRequire(import.meta.url)("better-sqlite3") as typeof Database

/** A raw connection, without drizzle: what the hot paths (`secret get`, audit rows) need. */
export interface Conn {
    path: string
    sqlite: Database.Database
    close(): void
}

/** How long a statement waits for another process's write lock before it gives up. */
export const busyTimeout = 5000

/**
 * Opens (creating it 0600 if missing, with a 0700 folder) the database at `path`, in WAL mode with
 * a busy timeout. It applies no migration: see `current`, and `open` for the whole store.
 */
export function connect(path: string): Conn {
    create(path)
    let sqlite: Database.Database
    try {
        sqlite = new Sqlite(path, { timeout: busyTimeout })
    } catch (e) {
        throw failure(path, e)
    }
    try {
        guardPath(path, () => {
            sqlite.pragma(`busy_timeout = ${busyTimeout}`)
            sqlite.pragma("journal_mode = WAL")
            // NORMAL is durable against a crashed process in WAL mode; rotate asks for FULL itself
            sqlite.pragma("synchronous = NORMAL")
        })
    } catch (e) {
        sqlite.close()
        throw e
    }
    return {
        path,
        sqlite,
        close() {
            if (sqlite.open) sqlite.close()
        },
    }
}

/**
 * Runs `fn`, turning SQLITE_BUSY (another process held the lock past the busy timeout) into an
 * error that names the database and says what to do.
 */
export function guard<T>(c: { path: string }, fn: () => T): T {
    return guardPath(c.path, fn)
}

export function guardPath<T>(path: string, fn: () => T): T {
    try {
        return fn()
    } catch (e) {
        throw failure(path, e)
    }
}

/** Rewrites a lock error into a friendly one; every other error passes through unchanged. */
function failure(path: string, e: unknown): unknown {
    const code = e instanceof Sqlite.SqliteError ? e.code : undefined
    if (code?.startsWith("SQLITE_BUSY") || code?.startsWith("SQLITE_LOCKED")) {
        return config.hinted(`database ${JSON.stringify(path)} is locked by another process`, `another mcplexer is writing to it and did not finish within ${busyTimeout / 1000}s; try again`, { cause: e, kind: "unavailable" })
    }
    if (code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT") {
        return config.hinted(`${JSON.stringify(path)} is not a usable mcplexer database: ${(e as Error).message}`, "set MCPLEXER_DB to another file, or move this one aside", { cause: e, kind: "unavailable" })
    }
    // the migrations made every table and column: one missing was removed by something else
    if (code === "SQLITE_ERROR" && /^no such (table|column)/.test((e as Error).message)) {
        return config.hinted(`database ${JSON.stringify(path)} is missing part of what mcplexer made in it (${(e as Error).message}): something other than mcplexer changed it`,
            "restore it from a backup, or set MCPLEXER_DB to another file; nothing was read from it", { cause: e, kind: "unavailable" })
    }
    if (code === "SQLITE_CANTOPEN" || code === "SQLITE_READONLY" || code === "SQLITE_PERM") {
        return config.hinted(`cannot open database ${JSON.stringify(path)}: ${(e as Error).message}`, `check that ${JSON.stringify(dirname(path))} is writable, or set MCPLEXER_DB to a file elsewhere`, { cause: e, kind: "unavailable" })
    }
    return e
}

/**
 * Creates the folder 0700 and the database file 0600 before SQLite does: SQLite gives -wal and
 * -shm the mode of the database file, and would create all three 0644 under the usual umask.
 */
function create(path: string): void {
    const dir = dirname(path)
    try {
        if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 })
        // never through a link: one planted in its place would have us create or chmod its target
        const fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600)
        try {
            // a file we just created may have lost bits to the umask (never gained any); an
            // existing file the user loosened is put back to 0600, as nothing but us reads it
            if ((fstatSync(fd).mode & 0o777) !== 0o600) fchmodSync(fd, 0o600)
        } finally {
            closeSync(fd)
        }
    } catch (e) {
        const code = (e as NodeJS.ErrnoException).code
        if (code === "ELOOP") {
            throw config.hinted(`database ${JSON.stringify(path)} is a symbolic link`, "replace the link with the file itself, or point MCPLEXER_DB at it", { cause: e, kind: "unavailable" })
        }
        const why = code === "EROFS" ? "the file system is read-only" : code === "EACCES" || code === "EPERM" ? "permission denied" : code ?? String(e)
        throw config.hinted(`cannot create database ${JSON.stringify(path)}: ${why}`, `check that ${JSON.stringify(dir)} is writable, or set MCPLEXER_DB to a file elsewhere`, { cause: e, kind: "unavailable" })
    }
}

let folder: string | undefined

/**
 * The migrations/ folder of this package. The package root (the folder holding package.json) is
 * two levels above internal/store when run through tsx and two or three above the bundle in dist/:
 * walk up rather than count.
 */
export function migrations(): string {
    if (folder !== undefined) return folder
    for (let dir = import.meta.dirname; ; dir = dirname(dir)) {
        if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "migrations", "meta", "_journal.json"))) {
            return (folder = join(dir, "migrations"))
        }
        if (dirname(dir) === dir) throw new Error(`cannot find migrations/ in any folder above ${JSON.stringify(import.meta.dirname)}`)
    }
}

/** When the newest migration of this package was made (drizzle's `when`, the value it records as applied). */
export function newest(): number {
    const journal = JSON.parse(readFileSync(join(migrations(), "meta", "_journal.json"), "utf8")) as { entries: Array<{ when: number }> }
    return Math.max(0, ...journal.entries.map(e => e.when))
}

/** When the newest migration applied to the database was made, or undefined for a new database. */
export function applied(c: Conn): number | undefined {
    return guard(c, () => {
        const table = c.sqlite.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'").get()
        if (table === undefined) return undefined
        const row = c.sqlite.prepare("SELECT max(created_at) FROM __drizzle_migrations").pluck().get() as number | string | null
        return row === null ? undefined : Number(row)
    })
}

/** Whether the database has every migration of this package (and none of a newer one). */
export function current(c: Conn): boolean {
    return applied(c) === newest()
}
