import assert from "node:assert/strict"
import { spawn } from "node:child_process"
import { chmod, cp, readFile, stat, writeFile } from "node:fs/promises"
import { createRequire } from "node:module"
import { join } from "node:path"
import { test } from "node:test"
import Database from "better-sqlite3"
import { drizzle } from "drizzle-orm/better-sqlite3"
import { migrate } from "drizzle-orm/better-sqlite3/migrator"
import * as store from "../../internal/store/index.ts"
import { fresh } from "../helpers.ts"

const require = createRequire(import.meta.url)

interface Journal { entries: Array<{ idx: number; when: number; tag: string }> }

async function journal(): Promise<Journal> {
    return JSON.parse(await readFile(join(store.migrations(), "meta", "_journal.json"), "utf8")) as Journal
}

function applied(s: store.Store): number[] {
    return (s.sqlite.prepare("SELECT created_at FROM __drizzle_migrations ORDER BY created_at").pluck().all() as Array<number | string>).map(Number)
}

function tables(s: store.Store): string[] {
    return s.sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[]
}

/** Holds the write lock of `db` from another process for `ms`, resolving once it holds it. */
function holdLock(db: string, ms: number): Promise<{ done: Promise<void>; release(): void }> {
    const code = `
        const Database = require(${JSON.stringify(require.resolve("better-sqlite3"))})
        const d = new Database(process.argv[1])
        d.exec("BEGIN IMMEDIATE")
        process.stdout.write("locked\\n")
        setTimeout(() => { d.exec("COMMIT"); d.close() }, Number(process.argv[2]))
    `
    const child = spawn(process.execPath, ["-e", code, db, String(ms)], { stdio: ["ignore", "pipe", "inherit"] })
    const done = new Promise<void>(resolve => child.on("close", () => resolve()))
    return new Promise(resolve => child.stdout.once("data", () => resolve({ done, release: () => child.kill() })))
}

test("a new database and its -wal and -shm files are created 0600 in a 0700 folder", async () => {
    const dir = join(await fresh(null), "home")
    const path = join(dir, "mcplexer.db")
    const s = store.open(path)
    store.audit.add(s, { action: "test", actor: "test" })
    for (const f of [path, `${path}-wal`, `${path}-shm`]) {
        assert.equal((await stat(f)).mode & 0o777, 0o600, f)
    }
    assert.equal((await stat(dir)).mode & 0o777, 0o700)
    assert.equal(s.sqlite.pragma("journal_mode", { simple: true }), "wal")
    assert.equal(s.sqlite.pragma("busy_timeout", { simple: true }), store.busyTimeout)
    s.close()
})

test("an existing database file readable by others is put back to 0600", async () => {
    const path = join(await fresh(null), "mcplexer.db")
    store.open(path).close()
    await chmod(path, 0o644)
    store.open(path).close()
    assert.equal((await stat(path)).mode & 0o777, 0o600)
})

test("opening applies every migration and records each in __drizzle_migrations", async () => {
    const s = store.open(join(await fresh(null), "mcplexer.db"))
    const j = await journal()
    assert.deepEqual(applied(s), j.entries.map(e => e.when))
    assert.deepEqual(tables(s), ["__drizzle_migrations", "approvals", "audit", "catalog", "instances", "leases", "meta", "pins", "scope_keys", "secrets"])
    s.close()
})

test("opening a database twice is idempotent and keeps its rows", async () => {
    const path = join(await fresh(null), "mcplexer.db")
    const a = store.open(path)
    store.audit.add(a, { action: "put", actor: "cli", scope: "gh", key: "TOKEN" })
    const before = applied(a)
    a.close()
    const b = store.open(path)
    assert.deepEqual(applied(b), before)
    assert.equal(b.db.select().from(store.schema.audit).all().length, 1)
    b.close()
})

test("a database made before the newest migration upgrades itself on open", async () => {
    const home = await fresh(null)
    const j = await journal()
    // an older release's migrations/: every entry but the newest (with a single migration, that
    // older release is one that never created a table, and upgrading means creating them all)
    const old = join(home, "old-migrations")
    await cp(store.migrations(), old, { recursive: true })
    await writeFile(join(old, "meta", "_journal.json"), JSON.stringify({ ...j, entries: j.entries.slice(0, -1) }))
    const path = join(home, "mcplexer.db")
    const raw = new Database(path)
    migrate(drizzle(raw), { migrationsFolder: old })
    const hadSecrets = raw.prepare("SELECT 1 FROM sqlite_master WHERE name = 'secrets'").get() !== undefined
    if (hadSecrets) {
        raw.prepare("INSERT INTO secrets (scope, key, recipient, ciphertext, created_at, updated_at) VALUES ('gh', 'TOKEN', 'age1x', x'00', 1, 1)").run()
    }
    raw.close()

    const s = store.open(path)
    assert.deepEqual(applied(s), j.entries.map(e => e.when))
    assert.deepEqual(tables(s), ["__drizzle_migrations", "approvals", "audit", "catalog", "instances", "leases", "meta", "pins", "scope_keys", "secrets"])
    if (hadSecrets) assert.equal(s.db.select().from(store.schema.secrets).all().length, 1)
    s.close()
})

test("a database written by a newer mcplexer is refused with a hint", async () => {
    const path = join(await fresh(null), "mcplexer.db")
    const s = store.open(path)
    s.sqlite.prepare("INSERT INTO __drizzle_migrations (hash, created_at) VALUES ('future', ?)").run(Date.now() + 1e9)
    s.close()
    assert.throws(() => store.open(path), (e: Error & { hint?: string }) => {
        assert.equal(e.message, `database ${JSON.stringify(path)} was written by a newer mcplexer`)
        assert.match(e.hint ?? "", /upgrade mcplexer/)
        return true
    })
})

test("a table something else dropped is named as damage with a way out, not as a bug", async () => {
    const path = join(await fresh(null), "mcplexer.db")
    const s = store.open(path)
    s.sqlite.exec("DROP TABLE meta")
    assert.throws(() => store.meta.authenticated(s), (e: Error & { hint?: string }) => {
        assert.equal(e.message, `database ${JSON.stringify(path)} is missing part of what mcplexer made in it (no such table: meta): something other than mcplexer changed it`)
        assert.match(e.hint ?? "", /restore it from a backup, or set MCPLEXER_DB/)
        return true
    })
    s.close()
})

test("a file that is not a database is refused with its path", async () => {
    const path = join(await fresh(null), "mcplexer.db")
    await writeFile(path, "this is not sqlite, just some text that is long enough to fill a header page".repeat(20))
    assert.throws(() => store.open(path), (e: Error & { hint?: string }) => {
        assert.match(e.message, /is not a usable mcplexer database/)
        assert.ok(e.message.includes(JSON.stringify(path)))
        assert.match(e.hint ?? "", /MCPLEXER_DB/)
        return true
    })
})

test("changed reports commits made by another connection, not our own", async () => {
    const path = join(await fresh(null), "mcplexer.db")
    const a = store.open(path)
    const b = store.open(path)
    assert.equal(a.changed(), false)
    store.audit.add(a, { action: "own", actor: "a" })
    assert.equal(a.changed(), false)
    store.audit.add(b, { action: "other", actor: "b" })
    assert.equal(a.changed(), true)
    assert.equal(a.changed(), false)
    a.close()
    b.close()
})

test("an audit row keeps its fields and detail and gets the current time", async () => {
    const s = store.open(join(await fresh(null), "mcplexer.db"))
    const t0 = Date.now()
    store.audit.add(s, { action: "resolve", actor: "serve", scope: "gh", server: "github", detail: { keys: ["TOKEN"], reason: "start" } })
    const [row] = s.db.select().from(store.schema.audit).all()
    assert.ok(row)
    assert.equal(row.action, "resolve")
    assert.equal(row.actor, "serve")
    assert.equal(row.scope, "gh")
    assert.equal(row.server, "github")
    assert.deepEqual(row.detail, { keys: ["TOKEN"], reason: "start" })
    assert.ok(row.time.getTime() >= t0 && row.time.getTime() <= Date.now())
    s.close()
})

test("a write waits for another process's short lock instead of failing", async () => {
    const path = join(await fresh(null), "mcplexer.db")
    const s = store.open(path)
    const lock = await holdLock(path, 300)
    const t0 = Date.now()
    store.audit.add(s, { action: "waited", actor: "test" })
    assert.ok(Date.now() - t0 >= 200, "the write should have waited for the lock")
    await lock.done
    s.close()
})

test("a lock held past the busy timeout becomes a friendly error naming the database", async () => {
    const path = join(await fresh(null), "mcplexer.db")
    const s = store.open(path)
    const lock = await holdLock(path, store.busyTimeout + 2000)
    assert.throws(() => store.audit.add(s, { action: "late", actor: "test" }), (e: Error & { hint?: string }) => {
        assert.equal(e.message, `database ${JSON.stringify(path)} is locked by another process`)
        assert.match(e.hint ?? "", /try again/)
        assert.doesNotMatch(e.message, /SQLITE_BUSY/)
        return true
    })
    lock.release()
    await lock.done
    s.close()
})

test("eight processes opening a new database at once all succeed and migrate it once", async () => {
    const path = join(await fresh(null), "mcplexer.db")
    const code = `
        import * as store from ${JSON.stringify(join(import.meta.dirname, "../../internal/store/index.ts"))}
        const s = store.open(process.argv[1])
        store.audit.add(s, { action: "opened", actor: String(process.pid) })
        s.close()
    `
    const runs = Array.from({ length: 8 }, () => new Promise<{ code: number | null; stderr: string }>((done, fail) => {
        const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code, path], { stdio: ["ignore", "ignore", "pipe"] })
        let stderr = ""
        child.stderr.setEncoding("utf8").on("data", (d: string) => { stderr += d })
        child.on("error", fail)
        child.on("close", c => done({ code: c, stderr }))
    }))
    for (const r of await Promise.all(runs)) assert.equal(r.code, 0, r.stderr)
    const s = store.open(path)
    assert.deepEqual(applied(s), (await journal()).entries.map(e => e.when))
    assert.equal(s.db.select().from(store.schema.audit).all().length, 8)
    s.close()
})
