/**
 * Rows cannot be forged by someone who can write the database but does not hold the identity:
 * encrypting `mcplexer-secret/v1 <scope> <key>\n<value>` to the public recipient stored beside a
 * row gives a valid age file, but not the row's MAC, which is keyed from the identity itself.
 * The forger here uses only the database file and typage, as the outside review did.
 */
import assert from "node:assert/strict"
import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import { test } from "node:test"
import Database from "better-sqlite3"
import { Encrypter, generateHybridIdentity, identityToRecipient } from "age-encryption"
import * as secrets from "../../internal/secrets/index.ts"
import { fresh, paths } from "./kit.ts"

/** What a forger with write access to the database (and nothing else) can make for (scope, key). */
async function forged(recipient: string, scope: string, key: string, value: string): Promise<Uint8Array> {
    const e = new Encrypter()
    e.addRecipient(recipient)
    return e.encrypt(Buffer.from(`mcplexer-secret/v1 ${scope} ${key}\n${value}`))
}

/** Opens the database as another program would: raw SQLite, no mcplexer code. */
function raw(home: string): Database.Database {
    return new Database(join(home, "mcplexer.db"))
}

async function seeded(): Promise<{ home: string; recipient: string }> {
    const home = await fresh()
    const v = secrets.open(paths(home), { actor: "test", create: true })
    await v.put("gh", "TOKEN", "the real token")
    const recipient = await v.recipient()
    v.close()
    return { home, recipient }
}

const canary = `forged-${process.pid}-${Date.now()}`

function refused(scope: string, key: string) {
    return (e: secrets.DecryptError) => {
        assert.ok(e instanceof secrets.DecryptError, `a DecryptError, not ${String(e)}`)
        assert.equal(e.scope, scope)
        assert.equal(e.key, key)
        assert.ok(e.message.includes(`"${scope}/${key}"`), e.message)
        assert.ok(e.hint.length > 0)
        assert.ok(!(e.message + e.hint).includes(canary))
        return true
    }
}

test("a new row encrypted to the stored recipient is refused by get, read and scope, naming it", async () => {
    const { home, recipient } = await seeded()
    const db = raw(home)
    // the recipient is right there beside every row
    assert.equal((db.prepare("SELECT recipient FROM secrets").pluck().get()), recipient)
    db.prepare("INSERT INTO secrets (scope, key, recipient, ciphertext, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)")
        .run("gh", "FORGED", recipient, Buffer.from(await forged(recipient, "gh", "FORGED", canary)), Date.now(), Date.now())
    db.close()

    const v = secrets.open(paths(home), { actor: "test" })
    await assert.rejects(v.get("gh", "FORGED"), refused("gh", "FORGED"))
    await assert.rejects(v.scope("gh", { reason: "test" }), refused("gh", "FORGED"))
    v.close()
    // the path of `mcplexer secret get`, without drizzle
    await assert.rejects(secrets.read(paths(home), "gh", "FORGED", { actor: "test" }), refused("gh", "FORGED"))
})

test("a forged row with a made-up MAC is refused as forged", async () => {
    const { home, recipient } = await seeded()
    const db = raw(home)
    db.prepare("INSERT INTO secrets (scope, key, recipient, ciphertext, mac, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
        .run("gh", "FORGED", recipient, Buffer.from(await forged(recipient, "gh", "FORGED", canary)), Buffer.alloc(32, 7), Date.now(), Date.now())
    db.close()
    const v = secrets.open(paths(home), { actor: "test" })
    await assert.rejects(v.get("gh", "FORGED"), (e: secrets.DecryptError) => {
        refused("gh", "FORGED")(e)
        assert.match(e.message, /fails its authentication check/)
        assert.match(e.hint, /forged/)
        return true
    })
    v.close()
})

test("an existing row's ciphertext replaced by a forged one is refused, and the others still read", async () => {
    const { home, recipient } = await seeded()
    const v0 = secrets.open(paths(home), { actor: "test" })
    await v0.put("gh", "OTHER", "another value")
    v0.close()
    const db = raw(home)
    db.prepare("UPDATE secrets SET ciphertext = ? WHERE scope = 'gh' AND key = 'TOKEN'").run(Buffer.from(await forged(recipient, "gh", "TOKEN", canary)))
    db.close()
    const v = secrets.open(paths(home), { actor: "test" })
    await assert.rejects(v.get("gh", "TOKEN"), refused("gh", "TOKEN"))
    await assert.rejects(secrets.read(paths(home), "gh", "TOKEN", { actor: "test" }), refused("gh", "TOKEN"))
    assert.equal(await v.get("gh", "OTHER"), "another value")
    v.close()
})

test("a forged row stops a key rotation, which changes nothing", async () => {
    const { home, recipient } = await seeded()
    const db = raw(home)
    db.prepare("INSERT INTO secrets (scope, key, recipient, ciphertext, mac, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
        .run("gh", "FORGED", recipient, Buffer.from(await forged(recipient, "gh", "FORGED", canary)), Buffer.alloc(32), Date.now(), Date.now())
    db.close()
    const v = secrets.open(paths(home), { actor: "test" })
    await assert.rejects(v.rotate(), refused("gh", "FORGED"))
    assert.equal(await v.recipient(), recipient)
    assert.equal(await v.get("gh", "TOKEN"), "the real token")
    v.close()
})

test("a rotation rewrites every MAC under the new key", async () => {
    const { home } = await seeded()
    const macs = (): Buffer[] => {
        const db = raw(home)
        const out = db.prepare("SELECT mac FROM secrets ORDER BY scope, key").pluck().all() as Buffer[]
        db.close()
        return out
    }
    const before = macs()
    const v = secrets.open(paths(home), { actor: "test" })
    await v.rotate()
    v.close()
    const after = macs()
    assert.equal(after.length, 1)
    assert.ok(after[0] && before[0] && !after[0].equals(before[0]))
    // read by a fresh process's worth of state: the new key's MAC verifies
    const w = secrets.open(paths(home), { actor: "test" })
    assert.equal(await w.get("gh", "TOKEN"), "the real token")
    w.close()
})

test("a MAC set to NULL on a row of a current database is refused by get and by `key upgrade`, never adopted", async () => {
    // what 0.1 left (rows never MAC'd, store never marked) still upgrades: see mac.test.ts
    const { home, recipient } = await seeded()
    let db = raw(home)
    db.prepare("UPDATE secrets SET mac = NULL, ciphertext = ?").run(Buffer.from(await forged(recipient, "gh", "TOKEN", canary)))
    db.close()
    const v = secrets.open(paths(home), { actor: "test" })
    await assert.rejects(v.get("gh", "TOKEN"), (e: secrets.DecryptError) => {
        refused("gh", "TOKEN")(e)
        assert.match(e.message, /has no MAC, though every row of this database has carried one since/)
        assert.match(e.hint, /tampered with, not stored by an older mcplexer/)
        return true
    })
    await assert.rejects(v.upgrade(), /has no MAC.*nothing was upgraded/)
    await assert.rejects(v.get("gh", "TOKEN"), refused("gh", "TOKEN"))
    // a row without a MAC that appears later is refused too, never trusted silently
    db = raw(home)
    db.prepare("INSERT INTO secrets (scope, key, recipient, ciphertext, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)")
        .run("gh", "LATER", recipient, Buffer.from(await forged(recipient, "gh", "LATER", canary)), Date.now(), Date.now())
    db.close()
    await assert.rejects(v.get("gh", "LATER"), refused("gh", "LATER"))
    v.close()
})

test("a post-quantum identity authenticates its rows too", async () => {
    const home = await fresh()
    const secret = await generateHybridIdentity()
    const recipient = await identityToRecipient(secret)
    const keyFile = join(home, "pq.key")
    await writeFile(keyFile, `${secret}\n`, { mode: 0o600 })
    const v = secrets.open(paths(home, { MCPLEXER_AGE_KEY: keyFile }), { actor: "test" })
    await v.put("gh", "TOKEN", "post-quantum value")
    assert.equal(await v.get("gh", "TOKEN"), "post-quantum value")
    const db = raw(home)
    db.prepare("INSERT INTO secrets (scope, key, recipient, ciphertext, mac, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
        .run("gh", "FORGED", recipient, Buffer.from(await forged(recipient, "gh", "FORGED", canary)), Buffer.alloc(32), Date.now(), Date.now())
    db.close()
    await assert.rejects(v.get("gh", "FORGED"), refused("gh", "FORGED"))
    v.close()
})
