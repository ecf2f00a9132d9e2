/**
 * Shared scopes with real keys and the real Go `age`: a teammate's identity (made by age-keygen)
 * opens a copy of the database for the scope shared with it, and only that scope, both with
 * `age -d` on a row's ciphertext and through mcplexer's own code, which verifies each row's MAC
 * under the scope's key. A forged, moved or MAC-less row is still refused, and a scope key
 * substituted by someone who can only write the database is refused by the owner.
 */
import assert from "node:assert/strict"
import { execFileSync, spawnSync } from "node:child_process"
import { copyFileSync, readFileSync } from "node:fs"
import { mkdir, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { test } from "node:test"
import Database from "better-sqlite3"
import { Encrypter } from "age-encryption"
import * as config from "../../internal/config/index.ts"
import * as secrets from "../../internal/secrets/index.ts"
import { fresh, paths } from "./kit.ts"

const planted = `shared-PLANTED-${process.pid}-value`
const personal = `personal-PLANTED-${process.pid}-value`

/** A teammate's identity made by age-keygen: its key file and public key. */
function teammate(dir: string, name = "teammate.key"): { key: string; recipient: string } {
    const key = join(dir, name)
    execFileSync("age-keygen", ["-o", key], { stdio: "pipe" })
    return { key, recipient: execFileSync("age-keygen", ["-y", key], { encoding: "utf8" }).trim() }
}

async function configure(home: string, scopes: string): Promise<void> {
    await writeFile(join(home, "config.yaml"), `auth_scopes:\n${scopes}servers: {}\n`, { mode: 0o600 })
}

/** A copy of the owner's database and config in a new folder, as a teammate would get it. */
async function copy(home: string, name = "copy"): Promise<string> {
    const to = join(home, name)
    await mkdir(to, { mode: 0o700 })
    // a WAL database: a backup gives one consistent file
    const db = new Database(join(home, "mcplexer.db"))
    await db.backup(join(to, "mcplexer.db"))
    db.close()
    copyFileSync(join(home, "config.yaml"), join(to, "config.yaml"))
    return to
}

function raw(home: string): Database.Database {
    return new Database(join(home, "mcplexer.db"))
}

/** `age -d -i key` on bytes: its stdout, or undefined when it refuses. */
function ageDecrypt(key: string, file: Uint8Array): string | undefined {
    const r = spawnSync("age", ["-d", "-i", key], { input: file })
    return r.status === 0 ? r.stdout.toString("utf8") : undefined
}

async function owner(): Promise<{ home: string; mate: { key: string; recipient: string } }> {
    const home = await fresh()
    const mate = teammate(home)
    await configure(home, `  shared: { recipients: [${mate.recipient}] }\n  personal: {}\n`)
    const v = secrets.open(paths(home), { actor: "test", create: true })
    await v.put("shared", "TOKEN", planted)
    await v.put("personal", "TOKEN", personal)
    v.close()
    return { home, mate }
}

/** The vault of a copy, opened with the teammate's key. */
function asTeammate(copyHome: string, key: string): secrets.Vault {
    return secrets.open(paths(copyHome, { MCPLEXER_AGE_KEY: key }), { actor: "teammate" })
}

test("Go age opens the shared scope's row with the teammate's key, and not the personal one", async () => {
    const { home, mate } = await owner()
    const to = await copy(home)
    const db = raw(to)
    const row = (scope: string) => db.prepare("SELECT ciphertext FROM secrets WHERE scope = ? AND key = 'TOKEN'").get(scope) as { ciphertext: Buffer }
    assert.equal(ageDecrypt(mate.key, row("shared").ciphertext), `mcplexer-secret/v1 shared TOKEN\n${planted}`)
    assert.equal(ageDecrypt(mate.key, row("personal").ciphertext), undefined)
    db.close()
})

test("the teammate's identity reads and verifies the shared scope of a copy through mcplexer, and only that scope", async () => {
    const { home, mate } = await owner()
    const to = await copy(home)
    const v = asTeammate(to, mate.key)
    try {
        assert.equal(await v.get("shared", "TOKEN"), planted)
        assert.deepEqual([...await v.scope("shared", { reason: "test" })], [["TOKEN", planted]])
        await assert.rejects(v.get("personal", "TOKEN"), (e: Error) => {
            assert.ok(e instanceof secrets.DecryptError, String(e))
            assert.ok(!e.message.includes(personal))
            return true
        })
    } finally {
        v.close()
    }
})

test("for the teammate, a row whose MAC is changed, a row moved to another key, and a row without a MAC are refused", async () => {
    const { home, mate } = await owner()
    const v0 = secrets.open(paths(home), { actor: "test" })
    await v0.put("shared", "OTHER", "another shared value")
    v0.close()
    const to = await copy(home)
    const db = raw(to)
    const mac = db.prepare("SELECT mac FROM secrets WHERE scope = 'shared' AND key = 'TOKEN'").get() as { mac: Buffer }
    const flipped = Buffer.from(mac.mac)
    flipped[0] = (flipped[0] ?? 0) ^ 1
    db.prepare("UPDATE secrets SET mac = ? WHERE scope = 'shared' AND key = 'TOKEN'").run(flipped)
    // OTHER's place now holds TOKEN's ciphertext with TOKEN's MAC: moved
    db.prepare("UPDATE secrets SET ciphertext = (SELECT ciphertext FROM secrets WHERE scope = 'shared' AND key = 'TOKEN'), mac = ? WHERE scope = 'shared' AND key = 'OTHER'").run(mac.mac)
    db.close()
    const v = asTeammate(to, mate.key)
    try {
        await assert.rejects(v.get("shared", "TOKEN"), /fails its authentication check/)
        await assert.rejects(v.get("shared", "OTHER"), secrets.DecryptError)
    } finally {
        v.close()
    }
    const db2 = raw(to)
    db2.prepare("UPDATE secrets SET mac = NULL WHERE scope = 'shared' AND key = 'OTHER'").run()
    db2.close()
    const v2 = asTeammate(to, mate.key)
    try {
        await assert.rejects(v2.get("shared", "OTHER"), /has no MAC/)
    } finally {
        v2.close()
    }
})

test("a row forged by someone who can write the copy, encrypted to every recipient, is refused by the teammate", async () => {
    const { home, mate } = await owner()
    const to = await copy(home)
    const db = raw(to)
    const { recipient } = db.prepare("SELECT recipient FROM secrets WHERE scope = 'shared' AND key = 'TOKEN'").get() as { recipient: string }
    const e = new Encrypter()
    e.addRecipient(recipient)
    e.addRecipient(mate.recipient)
    const forged = await e.encrypt(Buffer.from("mcplexer-secret/v1 shared TOKEN\nforged-value"))
    db.prepare("UPDATE secrets SET ciphertext = ? WHERE scope = 'shared' AND key = 'TOKEN'").run(Buffer.from(forged))
    db.close()
    const v = asTeammate(to, mate.key)
    try {
        await assert.rejects(v.get("shared", "TOKEN"), /fails its authentication check/)
    } finally {
        v.close()
    }
})

test("the owner refuses a scope key substituted by someone who can only write the database, and rows re-MACed under it", async () => {
    const { home, mate } = await owner()
    const db = raw(home)
    const k = db.prepare("SELECT * FROM scope_keys WHERE scope = 'shared'").get() as { owner: string; id: string }
    // the attacker's own key, encrypted to the owner and the teammate: a valid age file
    const mine = Buffer.alloc(32, 7)
    const e = new Encrypter()
    e.addRecipient(k.owner)
    e.addRecipient(mate.recipient)
    const ct = Buffer.from(await e.encrypt(Buffer.concat([Buffer.from("mcplexer-scope-key/v1 shared\n"), mine])))
    const { createHash, createHmac } = await import("node:crypto")
    const id = createHash("sha256").update(ct).digest("hex").slice(0, 32)
    db.prepare("UPDATE scope_keys SET ciphertext = ?, id = ? WHERE scope = 'shared'").run(ct, id)
    const row = db.prepare("SELECT ciphertext FROM secrets WHERE scope = 'shared' AND key = 'TOKEN'").get() as { ciphertext: Buffer }
    const framed = secrets.share.framed([Buffer.from("mcplexer-row/v2"), Buffer.from("shared"), Buffer.from("TOKEN"), row.ciphertext])
    db.prepare("UPDATE secrets SET mac = ?, scope_key = ? WHERE scope = 'shared' AND key = 'TOKEN'").run(createHmac("sha256", mine).update(framed).digest(), id)
    db.close()
    const v = secrets.open(paths(home), { actor: "test" })
    try {
        await assert.rejects(v.get("shared", "TOKEN"), /the key of scope "shared" fails its authentication check/)
    } finally {
        v.close()
    }
})

test("rows made to name the teammate's key never turn the owner into a reader", async () => {
    const { home, mate } = await owner()
    const db = raw(home)
    db.prepare("UPDATE secrets SET recipient = ? WHERE scope = 'shared'").run(mate.recipient)
    db.close()
    const v = secrets.open(paths(home), { actor: "test" })
    try {
        await assert.rejects(v.get("shared", "TOKEN"), /is encrypted to age1/)
    } finally {
        v.close()
    }
})

test("a recipient added later reads the scope after secret reencrypt, and not before", async () => {
    const home = await fresh()
    await configure(home, "  team: {}\n")
    const v = secrets.open(paths(home), { actor: "test", create: true })
    await v.put("team", "TOKEN", planted)
    await v.put("team", "MORE", "more team value")
    await v.put("team", "MORE", "the next one", { next: true })
    const mate = teammate(home)
    await configure(home, `  team: { recipients_file: team.txt }\n`)
    await writeFile(join(home, "team.txt"), `# the team\n\n${mate.recipient}\n`)
    const c = await config.load(join(home, "config.yaml"))
    // the index alone tells that the scope is not shared as declared
    assert.deepEqual(secrets.share.drift(c, v), [{ scope: "team", want: [mate.recipient], have: [], rows: 2 }])
    const before = await copy(home)
    const t0 = asTeammate(before, mate.key)
    await assert.rejects(t0.get("team", "TOKEN"), secrets.DecryptError)
    t0.close()

    const done = await v.reencrypt(c)
    assert.deepEqual(done, [{ scope: "team", count: 3, recipients: [mate.recipient] }])
    assert.deepEqual(secrets.share.drift(c, v), [])
    assert.deepEqual(await v.reencrypt(c), [], "a scope in line is left alone")
    assert.equal(await v.get("team", "TOKEN"), planted)
    v.close()
    const after = await copy(home, "after")
    copyFileSync(join(home, "team.txt"), join(after, "team.txt"))
    const t = asTeammate(after, mate.key)
    try {
        assert.equal(await t.get("team", "TOKEN"), planted)
        assert.equal(await t.get("team", "MORE"), "more team value")
    } finally {
        t.close()
    }
})

test("removing the recipients puts the scope back to the owner alone, and a new key file keeps shared scopes shared", async () => {
    const { home, mate } = await owner()
    const v = secrets.open(paths(home), { actor: "test" })
    const r = await v.rotate()
    assert.equal(r.count, 2)
    assert.equal(await v.get("shared", "TOKEN"), planted)
    v.close()
    const to = await copy(home)
    const t = asTeammate(to, mate.key)
    assert.equal(await t.get("shared", "TOKEN"), planted)
    t.close()

    await configure(home, "  shared: {}\n  personal: {}\n")
    const v2 = secrets.open(paths(home), { actor: "test" })
    const c = await config.load(join(home, "config.yaml"))
    assert.deepEqual(await v2.reencrypt(c, ["shared"]), [{ scope: "shared", count: 1, recipients: [] }])
    assert.equal(await v2.get("shared", "TOKEN"), planted)
    assert.equal(v2.shared().size, 0)
    v2.close()
    const to2 = await copy(home, "unshared")
    const row = raw(to2).prepare("SELECT ciphertext FROM secrets WHERE scope = 'shared'").get() as { ciphertext: Buffer }
    assert.equal(ageDecrypt(mate.key, row.ciphertext), undefined)
})

test("post-quantum and classic recipients in one scope are refused before anything is stored", async () => {
    const home = await fresh()
    const mate = teammate(home)
    const { generateHybridIdentity, identityToRecipient } = await import("age-encryption")
    const pq = await identityToRecipient(await generateHybridIdentity())
    await configure(home, `  mixed: { recipients: [${mate.recipient}, ${pq}] }\n`)
    const v = secrets.open(paths(home), { actor: "test", create: true })
    try {
        await assert.rejects(v.put("mixed", "TOKEN", planted), /mixes post-quantum and classic/)
        assert.deepEqual(v.list(), [])
    } finally {
        v.close()
    }
})

test("the keys of a shared scope are stored with their recipients in the index, so list needs no key", async () => {
    const { home, mate } = await owner()
    const v = secrets.open(paths(home), { actor: "test" })
    assert.deepEqual([...v.shared()].map(([s, k]) => [s, k.recipients]), [["shared", [mate.recipient]]])
    const [e] = v.list("shared")
    assert.equal(e?.scopeKey, v.shared().get("shared")?.id)
    v.close()
    assert.ok(!readFileSync(join(home, "mcplexer.db")).includes(planted))
})
