/**
 * The MAC downgrade where the database writer also removes every trace in the database that its
 * rows are authenticated (issue 19, probe D case3): the meta mark deleted, MACs set to NULL, a
 * value planted to the public key. The identity's own text says that its store authenticates its
 * rows (identity.mark), and the database writer cannot reach it: `key upgrade` adopts nothing and
 * `secret get` does not send the person there. A key without the line, beside a database with no
 * trace left, is what 0.1 left, and still upgrades. Real CLI (dist/), real SQLite, real age.
 */
import assert from "node:assert/strict"
import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import { test } from "node:test"
import Database from "better-sqlite3"
import { Encrypter } from "age-encryption"
import * as config from "../../internal/config/index.ts"
import * as secrets from "../../internal/secrets/index.ts"
import * as identity from "../../internal/secrets/identity.ts"
import * as scrypt from "../../internal/secrets/scrypt.ts"
import { fresh as home, run } from "../helpers.ts"
import { paths } from "./kit.ts"

const planted = `mark-PLANTED-${process.pid}-${Date.now()}`
const line = "# mcplexer: rows authenticated (a row without a MAC is never adopted)"

/** What a database writer can make for (scope, key) with the public key alone. */
async function forged(recipient: string, scope: string, key: string): Promise<Buffer> {
    const e = new Encrypter()
    e.addRecipient(recipient)
    return Buffer.from(await e.encrypt(`mcplexer-secret/v1 ${scope} ${key}\n${planted}`))
}

/**
 * The whole downgrade with raw SQLite: `rows` (every row when undefined) get a NULL MAC and the
 * planted value, and the meta mark is deleted.
 */
async function downgrade(h: string, recipient: string, rows?: Array<[string, string]>): Promise<void> {
    const db = new Database(join(h, "mcplexer.db"))
    try {
        const all = rows ?? db.prepare("SELECT scope, key FROM secrets").raw().all() as Array<[string, string]>
        for (const [scope, key] of all) {
            const n = db.prepare("UPDATE secrets SET mac = NULL, ciphertext = ? WHERE scope = ? AND key = ?").run(await forged(recipient, scope, key), scope, key).changes
            assert.equal(n, 1)
        }
        db.prepare("DELETE FROM meta").run()
    } finally {
        db.close()
    }
}

/** The rows as stored, to show that a refused upgrade changed none. */
function rows(h: string): unknown[] {
    const db = new Database(join(h, "mcplexer.db"), { readonly: true })
    try {
        return db.prepare("SELECT scope, key, hex(ciphertext) AS c, hex(mac) AS m FROM secrets ORDER BY scope, key").all()
    } finally {
        db.close()
    }
}

/** A key file as age-keygen (or mcplexer 0.1) makes it: no mark line. */
function oldKey(h: string): void {
    execFileSync("age-keygen", ["-o", join(h, "age.key")], { stdio: "pipe" })
}

const recipientOf = (h: string) => /^# public key: (age1\S+)$/m.exec(readFileSync(join(h, "age.key"), "utf8"))?.[1] ?? ""

/**
 * A store as 0.1 left it, after the database writer's downgrade: a key file without the mark,
 * gh/TOKEN stored, then every row's MAC set to NULL over the planted value and the meta mark deleted.
 */
async function left(): Promise<{ h: string; recipient: string }> {
    const h = await home()
    oldKey(h)
    const recipient = recipientOf(h)
    const v = secrets.open(paths(h), { actor: "test" })
    await v.put("gh", "TOKEN", "the real token")
    v.close()
    await downgrade(h, recipient)
    return { h, recipient }
}

test("probe D case3 through the CLI: NULL MAC, planted value, meta deleted; get refuses without naming key upgrade, key upgrade refuses, nothing changes", { timeout: 120_000 }, async () => {
    const h = await home()
    assert.equal((await run(h, ["init"])).code, 0)
    const put = await run(h, ["secret", "put", "gh", "TOKEN"], { input: "the real token" })
    assert.equal(put.code, 0, put.stderr)
    await downgrade(h, recipientOf(h), [["gh", "TOKEN"]])
    const before = rows(h)

    const get = await run(h, ["secret", "get", "gh", "TOKEN"])
    assert.equal(get.code, 1)
    assert.equal(get.stdout, "")
    assert.match(get.stderr, /^mcplexer: error: secret "gh\/TOKEN" has no MAC, though the key file ".*age\.key" says its store authenticates every row: it was not written by mcplexer$/m)
    assert.match(get.stderr, /will not adopt it/)
    assert.doesNotMatch(get.stderr, /authenticate them once/)

    const upgrade = await run(h, ["key", "upgrade"])
    assert.equal(upgrade.code, 1)
    assert.match(upgrade.stderr, /^mcplexer: error: secret "gh\/TOKEN" has no MAC, though the key file ".*age\.key" says its store authenticates every row; nothing was upgraded$/m)
    assert.match(upgrade.stderr, /mcplexer secret delete gh TOKEN, then mcplexer secret put gh TOKEN/)
    assert.doesNotMatch(upgrade.stderr, /^authenticated /m)

    const again = await run(h, ["secret", "get", "gh", "TOKEN"])
    assert.equal(again.code, 1, "still refused after the refused upgrade")
    assert.deepEqual(rows(h), before, "the refused upgrade changed no row")
    for (const r of [get, upgrade, again]) assert.ok(!(r.stdout + r.stderr).includes(planted), "the planted value was shown")
})

test("every key mcplexer makes carries the mark line: init, init --pq, key rotate (both kinds)", { timeout: 120_000 }, async () => {
    const h = await home()
    assert.equal((await run(h, ["init"])).code, 0)
    assert.ok(readFileSync(join(h, "age.key"), "utf8").split("\n").includes(line), "init")
    const rot = await run(h, ["key", "rotate", "--pq"])
    assert.equal(rot.code, 0, rot.stderr)
    assert.match(readFileSync(join(h, "age.key"), "utf8"), new RegExp(`^${line.replace(/[()]/g, "\\$&")}\nAGE-SECRET-KEY-PQ-1`, "m"), "rotate --pq")

    const pq = await home()
    assert.equal((await run(pq, ["init", "--pq"])).code, 0)
    assert.ok(readFileSync(join(pq, "age.key"), "utf8").split("\n").includes(line), "init --pq")
    const back = await run(pq, ["key", "rotate", "--no-pq"])
    assert.equal(back.code, 0, back.stderr)
    assert.match(readFileSync(join(pq, "age.key"), "utf8"), new RegExp(`^${line.replace(/[()]/g, "\\$&")}\nAGE-SECRET-KEY-1`, "m"), "rotate --no-pq")
    // and the mark is what the identity reads back
    const v = secrets.open(paths(pq), { actor: "test" })
    assert.ok((await identity.load(readFileSync(join(pq, "age.key")), join(pq, "age.key"))).marked)
    v.close()
})

test("the mark line is inside a passphrase-protected key file, and protect then unprotect keeps the text byte for byte", { timeout: 120_000 }, async () => {
    const h = await home()
    assert.equal((await run(h, ["init"])).code, 0)
    const plain = readFileSync(join(h, "age.key"))
    const pass = "correct horse battery staple"
    await writeFile(join(h, "passphrase"), `${pass}\n`, { mode: 0o600 })
    const env = { MCPLEXER_PASSPHRASE_FILE: join(h, "passphrase") }
    assert.equal((await run(h, ["key", "protect"], { env })).code, 0)
    const inside = Buffer.from(await scrypt.decrypt(readFileSync(join(h, "age.key")), pass))
    assert.deepEqual(inside, plain)
    assert.ok(inside.toString("utf8").split("\n").includes(line))
    // and rotated under the passphrase: the new key's text has it too
    assert.equal((await run(h, ["key", "rotate"], { env })).code, 0)
    assert.ok(Buffer.from(await scrypt.decrypt(readFileSync(join(h, "age.key")), pass)).toString("utf8").split("\n").includes(line))
    assert.equal((await run(h, ["key", "unprotect"], { env })).code, 0)
    assert.ok(readFileSync(join(h, "age.key"), "utf8").split("\n").includes(line))
})

test("a key without the mark, beside a database with every trace removed, is what 0.1 left: it upgrades, and the key is marked so that it never adopts again", async () => {
    const { h, recipient } = await left()
    let v = secrets.open(paths(h), { actor: "test" })
    await assert.rejects(v.get("gh", "TOKEN"), /stored before rows were authenticated/)
    assert.deepEqual(await v.upgrade(), { rows: [{ scope: "gh", key: "TOKEN" }], key: "marked" })
    // the limit of what this can tell: the planted value looked like 0.1's, and was adopted
    assert.equal(await v.get("gh", "TOKEN"), planted)
    v.close()
    const text = readFileSync(join(h, "age.key"), "utf8")
    assert.match(text, new RegExp(`\n${line.replace(/[()]/g, "\\$&")}\nAGE-SECRET-KEY-1\\S+\n$`))
    assert.equal(execFileSync("age-keygen", ["-y", join(h, "age.key")], { encoding: "utf8" }).trim(), recipient, "age still reads the key file")

    // the same writer, again: now the key says no
    await downgrade(h, recipient)
    v = secrets.open(paths(h), { actor: "test" })
    await assert.rejects(v.get("gh", "TOKEN"), (e: secrets.DecryptError) => {
        assert.match(e.message, /though the key file .* says its store authenticates every row/)
        assert.doesNotMatch(e.hint, /authenticate them once/)
        return true
    })
    await assert.rejects(v.upgrade(), /has no MAC, though the key file .*; nothing was upgraded/)
    v.close()
})

test("in a store 0.1 left, a new value waits for key upgrade, so that its MAC never makes the old rows look forged", async () => {
    const { h } = await left()
    const before = rows(h)
    const v = secrets.open(paths(h), { actor: "test" })
    await assert.rejects(v.put("gh", "OTHER", "a new value"), (e: Error & { hint?: string }) => {
        assert.match(e.message, /still holds secrets mcplexer 0\.1 stored without a MAC \(secret "gh\/TOKEN" among them\); nothing was stored/)
        assert.match(e.hint ?? "", /mcplexer key upgrade/)
        return true
    })
    assert.deepEqual(rows(h), before)
    // once key upgrade vouched for them, a new value is stored as usual
    assert.deepEqual(await v.upgrade(), { rows: [{ scope: "gh", key: "TOKEN" }], key: "marked" })
    assert.equal(await v.put("gh", "OTHER", "a new value"), false)
    assert.equal(await v.get("gh", "OTHER"), "a new value")
    v.close()
})

test("with an old key, a row that carries a MAC is evidence enough: key upgrade refuses the other, and get's hint does not name it", async () => {
    const h = await home()
    oldKey(h)
    const v = secrets.open(paths(h), { actor: "test" })
    await v.put("gh", "TOKEN", "the real token")
    await v.put("gh", "OTHER", "kept")
    await downgrade(h, recipientOf(h), [["gh", "TOKEN"]])
    const before = rows(h)
    await assert.rejects(v.get("gh", "TOKEN"), (e: secrets.DecryptError) => {
        assert.match(e.message, /^secret "gh\/TOKEN" has no MAC, though secret "gh\/OTHER" of this database carries one, which mcplexer 0\.1 never wrote: it was not written by mcplexer$/)
        assert.doesNotMatch(e.hint, /authenticate them once/)
        return true
    })
    await assert.rejects(v.upgrade(), (e: Error & { hint?: string }) => {
        assert.match(e.message, /^secret "gh\/TOKEN" has no MAC, though secret "gh\/OTHER" of ".*mcplexer\.db" carries one, which mcplexer 0\.1 never wrote; nothing was upgraded$/)
        assert.ok(!(e.message + (e.hint ?? "")).includes(planted))
        return true
    })
    assert.deepEqual(rows(h), before)
    assert.equal(await v.get("gh", "OTHER"), "kept")
    v.close()
})

test("with an old key, a shared scope's key is evidence enough, even with every MAC set to NULL", async () => {
    const h = await home(null)
    oldKey(h)
    const mate = join(h, "mate.key")
    execFileSync("age-keygen", ["-o", mate], { stdio: "pipe" })
    const recipient = execFileSync("age-keygen", ["-y", mate], { encoding: "utf8" }).trim()
    await writeFile(join(h, "config.yaml"), `auth_scopes:\n  team: { recipients: [${recipient}] }\nservers: {}\n`, { mode: 0o600 })
    const v = secrets.open(paths(h), { actor: "test" })
    await v.put("team", "TOKEN", "the real token")
    await v.reencrypt(await config.load(join(h, "config.yaml")))
    await downgrade(h, recipientOf(h))
    const before = rows(h)
    await assert.rejects(v.upgrade(), /secret "team\/TOKEN" has no MAC, though scope "team" of ".*" has a shared key, which mcplexer 0\.1 never made; nothing was upgraded$/)
    assert.deepEqual(rows(h), before)
    v.close()
})

test("key upgrade leaves a protected key file as it is", { timeout: 60_000 }, async () => {
    const h = await home()
    oldKey(h)
    const pass = "another passphrase"
    await writeFile(join(h, "passphrase"), `${pass}\n`, { mode: 0o600 })
    const env = { MCPLEXER_PASSPHRASE_FILE: join(h, "passphrase") }
    assert.equal((await run(h, ["key", "protect"], { env })).code, 0)
    const protectedKey = readFileSync(join(h, "age.key"))
    const up = await run(h, ["key", "upgrade"], { env })
    assert.equal(up.code, 0, up.stderr)
    assert.deepEqual(readFileSync(join(h, "age.key")), protectedKey)
    assert.doesNotMatch(up.stderr, /marked the key file/)
})

test("the mark line is added once, before the identity, keeping the file's line ends", () => {
    const lf = Buffer.from("# created: 2025-01-01T00:00:00Z\n# public key: age1x\nAGE-SECRET-KEY-1ABC\n")
    assert.equal(identity.marked(lf)?.toString(), `# created: 2025-01-01T00:00:00Z\n# public key: age1x\n${line}\nAGE-SECRET-KEY-1ABC\n`)
    const crlf = Buffer.from("# created: x\r\nAGE-SECRET-KEY-1ABC\r\n")
    assert.equal(identity.marked(crlf)?.toString(), `# created: x\r\n${line}\r\nAGE-SECRET-KEY-1ABC\r\n`)
    assert.equal(identity.marked(Buffer.from(`AGE-SECRET-KEY-1ABC\n${line}\n`)), undefined, "already marked")
    assert.equal(identity.marked(Buffer.from("# nothing here\n")), undefined)
    assert.equal(identity.parse(`${line}\nAGE-SECRET-KEY-1ABC\n`, "k").marked, true)
    assert.equal(identity.parse("# mcplexer: identity in the OS keychain\nAGE-SECRET-KEY-1ABC\n", "k").marked, false)
})
