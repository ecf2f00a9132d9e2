/**
 * The MAC downgrade: someone who can write the database (and nothing else) sets a row's MAC to
 * NULL and plants a value encrypted to the public recipient. `key upgrade` must not adopt it once
 * the store holds a MAC on every row, and get's hint must not send the person there; a database 0.1
 * really wrote (rows never MAC'd, store never marked) still upgrades. The attacker uses only the
 * SQLite file and typage; the 0.1 database is made with the migrations 0.1 had and rows in its format.
 */
import assert from "node:assert/strict"
import { cp, readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { test } from "node:test"
import Database from "better-sqlite3"
import { Encrypter, generateX25519Identity, identityToRecipient } from "age-encryption"
import { drizzle } from "drizzle-orm/better-sqlite3"
import { migrate } from "drizzle-orm/better-sqlite3/migrator"
import * as secrets from "../../internal/secrets/index.ts"
import * as store from "../../internal/store/index.ts"
import { fresh, paths } from "./kit.ts"

const canary = `planted-${process.pid}-${Date.now()}`

/** An age file of `mcplexer-secret/v1 <scope> <key>\n<value>` to `recipient`: what 0.1 stored, and what a forger can make. */
async function sealed(recipient: string, scope: string, key: string, value: string): Promise<Buffer> {
    const e = new Encrypter()
    e.addRecipient(recipient)
    return Buffer.from(await e.encrypt(Buffer.from(`mcplexer-secret/v1 ${scope} ${key}\n${value}`)))
}

/** Opens the database as another program would: raw SQLite, no mcplexer code. */
function raw(home: string): Database.Database {
    return new Database(join(home, "mcplexer.db"))
}

/**
 * A home as mcplexer 0.1 left it: a key file, and a database made with the four migrations 0.1
 * had (no `mac` column, no `meta` table) holding `rows` in 0.1's format.
 */
async function legacy(rows: Record<string, string>): Promise<{ home: string; recipient: string }> {
    const home = await fresh()
    const identity = await generateX25519Identity()
    const recipient = await identityToRecipient(identity)
    await writeFile(join(home, "age.key"), `# created: 2025-01-01T00:00:00Z\n# public key: ${recipient}\n${identity}\n`, { mode: 0o600 })
    const old = join(home, "migrations-0.1")
    await cp(store.migrations(), old, { recursive: true })
    const journal = JSON.parse(await readFile(join(old, "meta", "_journal.json"), "utf8")) as { entries: Array<{ tag: string }> }
    const of01 = journal.entries.filter(e => /^000[0-3]_/.test(e.tag))
    assert.equal(of01.length, 4)
    await writeFile(join(old, "meta", "_journal.json"), JSON.stringify({ ...journal, entries: of01 }))
    const db = raw(home)
    migrate(drizzle(db), { migrationsFolder: old })
    const columns = (db.prepare("PRAGMA table_info(secrets)").all() as Array<{ name: string }>).map(c => c.name)
    assert.ok(!columns.includes("mac"), "0.1's schema has no mac column")
    for (const [name, value] of Object.entries(rows)) {
        const [scope = "", key = ""] = name.split("/")
        db.prepare("INSERT INTO secrets (scope, key, recipient, ciphertext, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)")
            .run(scope, key, recipient, await sealed(recipient, scope, key, value), Date.now(), Date.now())
    }
    db.close()
    return { home, recipient }
}

/** The attack: the row's MAC set to NULL, its ciphertext replaced by one the attacker made. */
async function downgrade(home: string, recipient: string, scope: string, key: string): Promise<void> {
    const db = raw(home)
    const changed = db.prepare("UPDATE secrets SET mac = NULL, ciphertext = ? WHERE scope = ? AND key = ?")
        .run(await sealed(recipient, scope, key, canary), scope, key).changes
    db.close()
    assert.equal(changed, 1)
}

function mark(home: string): unknown {
    const db = raw(home)
    try {
        return db.prepare("SELECT value FROM meta WHERE name = 'authenticated'").pluck().get()
    } finally {
        db.close()
    }
}

/** A refusal that says tampering, names the row, and never points at `key upgrade` as the fix. */
function tampered(scope: string, key: string) {
    return (e: secrets.DecryptError) => {
        assert.ok(e instanceof secrets.DecryptError, `a DecryptError, not ${String(e)}`)
        assert.equal(e.scope, scope)
        assert.equal(e.key, key)
        assert.match(e.message, new RegExp(`secret "${scope}/${key}" has no MAC, though every row of this database has carried one since \\d{4}-`))
        assert.match(e.hint, /tampered with, not stored by an older mcplexer/)
        assert.match(e.hint, /will not adopt it/)
        assert.doesNotMatch(e.hint, /authenticate them once/)
        assert.ok(!(e.message + e.hint).includes(canary))
        return true
    }
}

test("a database 0.1 wrote is refused until `key upgrade`, which adopts its rows once and marks the store", async () => {
    const { home } = await legacy({ "gh/TOKEN": "the 0.1 token", "gh/OTHER": "another 0.1 value" })
    const v = secrets.open(paths(home), { actor: "test" })
    assert.equal(mark(home), undefined, "a store with rows 0.1 wrote is not marked by the migration")
    await assert.rejects(v.get("gh", "TOKEN"), (e: secrets.DecryptError) => {
        assert.match(e.message, /^secret "gh\/TOKEN" was stored before rows were authenticated, and is not trusted$/)
        assert.match(e.hint, /mcplexer key upgrade/)
        return true
    })
    assert.deepEqual((await v.upgrade()).rows, [{ scope: "gh", key: "OTHER" }, { scope: "gh", key: "TOKEN" }])
    assert.equal(await v.get("gh", "TOKEN"), "the 0.1 token")
    assert.equal(await v.get("gh", "OTHER"), "another 0.1 value")
    assert.ok(Number(mark(home)) > 0, "marked once every row carries a MAC")
    assert.deepEqual((await v.upgrade()).rows, [], "nothing left to upgrade")
    v.close()
    // and `secret get`'s own path reads it too
    assert.equal((await secrets.read(paths(home), "gh", "TOKEN", { actor: "test" })).toString(), "the 0.1 token")
})

test("after `key upgrade`, a MAC set to NULL beside a planted value is refused by get and by key upgrade, as tampering", async () => {
    const { home, recipient } = await legacy({ "gh/TOKEN": "the 0.1 token", "gh/OTHER": "another 0.1 value" })
    const v = secrets.open(paths(home), { actor: "test" })
    await v.upgrade()
    await downgrade(home, recipient, "gh", "TOKEN")
    await assert.rejects(v.get("gh", "TOKEN"), tampered("gh", "TOKEN"))
    await assert.rejects(v.scope("gh", { reason: "test" }), tampered("gh", "TOKEN"))
    await assert.rejects(secrets.read(paths(home), "gh", "TOKEN", { actor: "test" }), tampered("gh", "TOKEN"))
    await assert.rejects(v.upgrade(), (e: Error & { hint?: string }) => {
        assert.match(e.message, /^secret "gh\/TOKEN" has no MAC, though every row of ".*mcplexer\.db" has carried one since .*; nothing was upgraded$/)
        assert.match(e.hint ?? "", /tampered with/)
        assert.ok(!(e.message + (e.hint ?? "")).includes(canary))
        return true
    })
    // still refused: the failed upgrade gave it no MAC
    await assert.rejects(v.get("gh", "TOKEN"), tampered("gh", "TOKEN"))
    assert.equal(await v.get("gh", "OTHER"), "another 0.1 value")
    v.close()
})

test("a new database is marked from its first migration: the downgrade is refused by get and by key upgrade", async () => {
    const home = await fresh()
    const v = secrets.open(paths(home), { actor: "test", create: true })
    await v.put("gh", "TOKEN", "the real token")
    const recipient = await v.recipient()
    assert.ok(Number(mark(home)) > 0)
    await downgrade(home, recipient, "gh", "TOKEN")
    // a row that never existed, planted without a MAC, too
    const db = raw(home)
    db.prepare("INSERT INTO secrets (scope, key, recipient, ciphertext, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)")
        .run("gh", "NEW", recipient, await sealed(recipient, "gh", "NEW", canary), Date.now(), Date.now())
    db.close()
    await assert.rejects(v.get("gh", "TOKEN"), tampered("gh", "TOKEN"))
    await assert.rejects(v.get("gh", "NEW"), tampered("gh", "NEW"))
    await assert.rejects(secrets.read(paths(home), "gh", "NEW", { actor: "test" }), tampered("gh", "NEW"))
    await assert.rejects(v.upgrade(), /secrets "gh\/NEW", "gh\/TOKEN" have no MAC, though every row/)
    const after = raw(home)
    assert.equal(after.prepare("SELECT count(*) FROM secrets WHERE mac IS NULL").pluck().get(), 2, "nothing adopted")
    after.close()
    v.close()
})

test("a 0.1 database whose old rows were all replaced or deleted is marked by that write, without `key upgrade`", async () => {
    const { home, recipient } = await legacy({ "gh/TOKEN": "the 0.1 token", "gh/OLD": "gone soon" })
    const v = secrets.open(paths(home), { actor: "test" })
    // while another 0.1 row is left, a new MAC would make it look forged: key upgrade comes first
    await assert.rejects(v.put("gh", "TOKEN", "a new token"), /still holds secrets mcplexer 0\.1 stored without a MAC \(secret "gh\/OLD" among them\)/)
    assert.equal(mark(home), undefined, "gh/OLD still lacks a MAC")
    v.delete("gh", "OLD")
    await v.put("gh", "TOKEN", "a new token")
    assert.ok(Number(mark(home)) > 0)
    await downgrade(home, recipient, "gh", "TOKEN")
    await assert.rejects(v.get("gh", "TOKEN"), tampered("gh", "TOKEN"))
    await assert.rejects(v.upgrade(), /has no MAC/)
    v.close()
})
