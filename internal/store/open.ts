import { closeSync, existsSync, fchmodSync, fstatSync, mkdirSync, openSync } from "node:fs"
import { dirname, join } from "node:path"
import Database from "better-sqlite3"
import { drizzle, type BetterSQLite3Database } from "drizzle-orm/better-sqlite3"
import { migrate } from "drizzle-orm/better-sqlite3/migrator"
import { readMigrationFiles } from "drizzle-orm/migrator"
import * as schema from "./schema.ts"

/** An open database: drizzle for queries, the raw handle for pragmas and hand-made transactions. */
export interface Store {
    path: string
    db: BetterSQLite3Database<typeof schema>
    sqlite: Database.Database
    /** true when another connection committed since the last call (PRAGMA data_version) */
    changed(): boolean
    close(): void
}

/** How long a statement waits for another process's write lock before it gives up. */
export const busyTimeout = 5000

/**
 * Opens (creating it 0600 if missing, with a 0700 folder) the database at `path`, in WAL mode with
 * a busy timeout, and applies every pending migration from migrations/, so an older database
 * upgrades itself.
 */
export function open(path: string): Store {
    create(path)
    let sqlite: Database.Database
    try {
        sqlite = new Database(path, { timeout: busyTimeout })
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
        const db = drizzle(sqlite, { schema })
        upgrade(path, sqlite, db)
        let version = dataVersion(sqlite)
        return {
            path,
            db,
            sqlite,
            changed() {
                const v = guardPath(path, () => dataVersion(sqlite))
                const moved = v !== version
                version = v
                return moved
            },
            close() {
                if (sqlite.open) sqlite.close()
            },
        }
    } catch (e) {
        sqlite.close()
        throw e
    }
}

/**
 * Runs `fn`, turning SQLITE_BUSY (another process held the lock past the busy timeout) into an
 * error that names the database and says what to do.
 */
export function guard<T>(s: Store, fn: () => T): T {
    return guardPath(s.path, fn)
}

function guardPath<T>(path: string, fn: () => T): T {
    try {
        return fn()
    } catch (e) {
        throw failure(path, e)
    }
}

/** Rewrites a lock error into a friendly one; every other error passes through unchanged. */
function failure(path: string, e: unknown): unknown {
    const code = e instanceof Database.SqliteError ? e.code : undefined
    if (code?.startsWith("SQLITE_BUSY") || code?.startsWith("SQLITE_LOCKED")) {
        return Object.assign(new Error(`database ${JSON.stringify(path)} is locked by another process`, { cause: e }), {
            hint: `another mcplexer is writing to it and did not finish within ${busyTimeout / 1000}s; try again`,
        })
    }
    if (code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT") {
        return Object.assign(new Error(`${JSON.stringify(path)} is not a usable mcplexer database: ${(e as Error).message}`, { cause: e }), {
            hint: "set MCPLEXER_DB to another file, or move this one aside",
        })
    }
    if (code === "SQLITE_CANTOPEN" || code === "SQLITE_READONLY" || code === "SQLITE_PERM") {
        return Object.assign(new Error(`cannot open database ${JSON.stringify(path)}: ${(e as Error).message}`, { cause: e }), {
            hint: `check that ${JSON.stringify(dirname(path))} is writable, or set MCPLEXER_DB to a file elsewhere`,
        })
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
        const fd = openSync(path, "a", 0o600)
        try {
            // a file we just created may have lost bits to the umask (never gained any); an
            // existing file the user loosened is put back to 0600, as nothing but us reads it
            if ((fstatSync(fd).mode & 0o777) !== 0o600) fchmodSync(fd, 0o600)
        } finally {
            closeSync(fd)
        }
    } catch (e) {
        const code = (e as NodeJS.ErrnoException).code
        const why = code === "EROFS" ? "the file system is read-only" : code === "EACCES" || code === "EPERM" ? "permission denied" : code ?? String(e)
        throw Object.assign(new Error(`cannot create database ${JSON.stringify(path)}: ${why}`, { cause: e }), {
            hint: `check that ${JSON.stringify(dir)} is writable, or set MCPLEXER_DB to a file elsewhere`,
        })
    }
}

function dataVersion(sqlite: Database.Database): number {
    return sqlite.pragma("data_version", { simple: true }) as number
}

let folder: string | undefined

/**
 * The migrations/ folder of this package. The package root (the folder holding package.json) is
 * two levels above internal/store when run through tsx and three above dist/internal/store when
 * compiled: walk up rather than count.
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

/** Applies pending migrations; a database already up to date costs one read and takes no write lock. */
function upgrade(path: string, sqlite: Database.Database, db: BetterSQLite3Database<typeof schema>): void {
    const migrationsFolder = migrations()
    const files = readMigrationFiles({ migrationsFolder })
    const newest = Math.max(0, ...files.map(m => m.folderMillis))
    const applied = (): number | undefined => {
        const table = sqlite.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'").get()
        if (table === undefined) return undefined
        const row = sqlite.prepare("SELECT max(created_at) FROM __drizzle_migrations").pluck().get() as number | string | null
        return row === null ? undefined : Number(row)
    }
    const current = guardPath(path, applied)
    if (current !== undefined && current > newest) {
        throw Object.assign(new Error(`database ${JSON.stringify(path)} was written by a newer mcplexer`), {
            hint: "upgrade mcplexer, or set MCPLEXER_DB to another file",
        })
    }
    if (current === newest) return
    try {
        guardPath(path, () => migrate(db, { migrationsFolder }))
    } catch (e) {
        // two processes opening a new database at once: the loser's CREATE TABLE fails after the
        // winner committed; the database is then up to date and the error is moot
        if (guardPath(path, applied) === newest) return
        if ((e as { hint?: unknown }).hint !== undefined) throw e
        throw new Error(`cannot upgrade database ${JSON.stringify(path)}: ${(e as Error).message}`, { cause: e })
    }
}
