import * as config from "../config/error.ts"
import { drizzle, type BetterSQLite3Database } from "drizzle-orm/better-sqlite3"
import { migrate } from "drizzle-orm/better-sqlite3/migrator"
import * as hot from "./hot.ts"
import * as schema from "./schema.ts"
import { applied, busyTimeout, connect, guard, migrations, newest, type Conn } from "./sqlite.ts"

/** An open database: drizzle for queries, the raw handle for pragmas and hand-made transactions. */
export interface Store extends Conn {
    db: BetterSQLite3Database<typeof schema>
    /** true when another connection committed since the last call (PRAGMA data_version) */
    changed(): boolean
}

/**
 * Opens (creating it 0600 if missing, with a 0700 folder) the database at `path`, in WAL mode with
 * a busy timeout, and applies every pending migration from migrations/, so an older database
 * upgrades itself.
 */
export function open(path: string): Store {
    const c = connect(path)
    try {
        upgrade(c)
        const db = drizzle(c.sqlite, { schema })
        const dataVersion = () => guard(c, () => c.sqlite.pragma("data_version", { simple: true }) as number)
        let version = dataVersion()
        return {
            ...c,
            db,
            changed() {
                const v = dataVersion()
                const moved = v !== version
                version = v
                return moved
            },
        }
    } catch (e) {
        c.close()
        throw e
    }
}

/**
 * Runs `fn` as one write transaction, taking the write lock at its start (so that what it reads
 * cannot change before it writes). `fn` is synchronous: do the crypto before. `o.wait` (ms)
 * replaces the busy timeout for this transaction, for housekeeping that had rather skip a turn
 * than block the process while another one writes.
 */
export function atomic<T>(s: Store, fn: () => T, o: { wait?: number } = {}): T {
    const run = () => guard(s, () => s.db.transaction(() => fn(), { behavior: "immediate" }))
    if (o.wait === undefined) return run()
    hot.timeout(s, o.wait)
    try {
        return run()
    } finally {
        hot.timeout(s, busyTimeout)
    }
}

/** SQLite's quick integrity check: "ok", or what is damaged. */
export function check(s: Store): string {
    return String(guard(s, () => s.sqlite.pragma("quick_check", { simple: true })))
}

/** Runs `fn` with each commit synced to disk (synchronous = FULL), for the commit a key rotation stands on. */
export function durable<T>(s: Store, fn: () => T): T {
    s.sqlite.pragma("synchronous = FULL")
    try {
        return fn()
    } finally {
        s.sqlite.pragma("synchronous = NORMAL")
    }
}

/** Applies pending migrations; a database already up to date costs one read and takes no write lock. */
function upgrade(c: Conn): void {
    const want = newest()
    const have = applied(c)
    if (have !== undefined && have > want) {
        throw config.hinted(`database ${JSON.stringify(c.path)} was written by a newer mcplexer`, "upgrade mcplexer, or set MCPLEXER_DB to another file")
    }
    if (have === want) return
    try {
        guard(c, () => migrate(drizzle(c.sqlite), { migrationsFolder: migrations() }))
    } catch (e) {
        // two processes opening a new database at once: the loser's CREATE TABLE fails after the
        // winner committed; the database is then up to date and the error is moot
        if (applied(c) === want) return
        if ((e as { hint?: unknown }).hint !== undefined) throw e
        throw new Error(`cannot upgrade database ${JSON.stringify(c.path)}: ${(e as Error).message}`, { cause: e })
    }
}
