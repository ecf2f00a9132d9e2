import assert from "node:assert/strict"
import { execFileSync, spawn } from "node:child_process"
import { chmod, mkdir, readFile, readdir, stat, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { test } from "node:test"
import Database from "better-sqlite3"
import { Encrypter } from "age-encryption"
import { fresh, run } from "../helpers.ts"

const mode = async (p: string) => (await stat(p)).mode & 0o777

function which(cmd: string): boolean {
    try {
        execFileSync("which", [cmd], { stdio: "ignore" })
        return true
    } catch {
        return false
    }
}

test("init creates home, key, database and config with safe modes, then changes nothing", async () => {
    const parent = await fresh(null)
    const home = join(parent, "home")
    const r = await run(home, ["init"])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^public\s+age1[0-9a-z]{58}$/m)
    assert.equal(await mode(home), 0o700)
    assert.equal(await mode(join(home, "age.key")), 0o600)
    assert.equal(await mode(join(home, "mcplexer.db")), 0o600)
    assert.ok((await readFile(join(home, "config.yaml"), "utf8")).includes("auth_scopes"))
    const key = await readFile(join(home, "age.key"), "utf8")
    const again = await run(home, ["init"])
    assert.equal(again.code, 0)
    assert.match(again.stderr, /nothing changed/)
    assert.equal(await readFile(join(home, "age.key"), "utf8"), key)
})

test("key show prints the path and the public key age-keygen derives", async t => {
    const home = await fresh()
    await run(home, ["init"])
    const r = await run(home, ["key", "show"])
    assert.equal(r.code, 0, r.stderr)
    const [path, pub] = r.stdout.trim().split("\n")
    assert.equal(path, join(home, "age.key"))
    assert.match(pub ?? "", /^age1/)
    if (!which("age-keygen")) return t.skip("age-keygen not installed (Debian package age)")
    assert.equal(execFileSync("age-keygen", ["-y", join(home, "age.key")], { encoding: "utf8" }).trim(), pub)
})

test("a key file readable by others is refused with the chmod hint", async () => {
    const home = await fresh()
    await run(home, ["secret", "put", "gh", "TOKEN"], { input: "value-1234" })
    await chmod(join(home, "age.key"), 0o644)
    const r = await run(home, ["secret", "get", "gh", "TOKEN"])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^mcplexer: error: .*age\.key.* readable by others/m)
    assert.match(r.stderr, /^mcplexer: hint: chmod 600 .*age\.key$/m)
    assert.equal(r.stdout, "")
})

test("an explicit MCPLEXER_AGE_KEY that does not exist is an error, never a new key", async () => {
    const home = await fresh()
    const key = join(home, "prod.key")
    const r = await run(home, ["secret", "put", "gh", "TOKEN"], { input: "value-1234", env: { MCPLEXER_AGE_KEY: key } })
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^mcplexer: error: .*prod\.key/m)
    assert.match(r.stderr, /^mcplexer: hint: .*MCPLEXER_AGE_KEY/m)
    assert.ok(!(await readdir(home)).includes("prod.key"))
})

test("secrets encrypted to another key name both public keys", async () => {
    const home = await fresh()
    await run(home, ["secret", "put", "gh", "TOKEN"], { input: "value-1234" })
    const other = join(home, "other")
    await mkdir(other, { mode: 0o700 })
    await run(other, ["init"])
    const mine = (await run(home, ["key", "show"])).stdout.split("\n")[1] ?? ""
    const theirs = (await run(other, ["key", "show"])).stdout.split("\n")[1] ?? ""
    const r = await run(home, ["secret", "get", "gh", "TOKEN"], { env: { MCPLEXER_AGE_KEY: join(other, "age.key") } })
    assert.equal(r.code, 1)
    assert.ok(r.stderr.includes(mine), r.stderr)
    assert.ok(r.stderr.includes(theirs), r.stderr)
    assert.match(r.stderr, /MCPLEXER_AGE_KEY/)
})

test("a tampered row is named and the other secrets still read", async () => {
    const home = await fresh()
    await run(home, ["secret", "put", "gh", "GOOD"], { input: "good-value" })
    await run(home, ["secret", "put", "gh", "BAD"], { input: "bad-value" })
    const db = new Database(join(home, "mcplexer.db"))
    const row = db.prepare("select ciphertext from secrets where key = 'BAD'").get() as { ciphertext: Buffer }
    const c = Buffer.from(row.ciphertext)
    c[c.length - 5] = (c[c.length - 5] ?? 0) ^ 0xff
    db.prepare("update secrets set ciphertext = ? where key = 'BAD'").run(c)
    db.close()
    const bad = await run(home, ["secret", "get", "gh", "BAD"])
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /^mcplexer: error: .*"gh\/BAD"/m)
    assert.match(bad.stderr, /^mcplexer: hint: /m)
    const good = await run(home, ["secret", "get", "gh", "GOOD"])
    assert.equal(good.stdout, "good-value")
})

test("a row moved to another scope is refused", async () => {
    const home = await fresh()
    await run(home, ["secret", "put", "gh", "TOKEN"], { input: "value-1234" })
    const db = new Database(join(home, "mcplexer.db"))
    db.prepare("update secrets set scope = 'acme'").run()
    db.close()
    const r = await run(home, ["secret", "get", "acme", "TOKEN"])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^mcplexer: error: .*"acme\/TOKEN"/m)
    assert.ok(!r.stdout.includes("value-1234"))
})

test("a locked database makes a write wait, never fail with SQLITE_BUSY", async () => {
    const home = await fresh()
    await run(home, ["secret", "put", "gh", "FIRST"], { input: "value-1234" })
    const holder = spawn(process.execPath, ["-e", `
        const D = require("better-sqlite3"); const db = new D(process.argv[1]);
        db.exec("begin exclusive"); process.stdout.write("locked\\n");
        setTimeout(() => { db.exec("commit"); db.close() }, 1500)`, join(home, "mcplexer.db")],
        { cwd: process.cwd(), stdio: ["ignore", "pipe", "inherit"] })
    await new Promise<void>(ok => holder.stdout.once("data", () => ok()))
    const r = await run(home, ["secret", "put", "gh", "SECOND"], { input: "value-5678" })
    assert.equal(r.code, 0, r.stderr)
    assert.doesNotMatch(r.stderr, /SQLITE_BUSY/)
    assert.equal((await run(home, ["secret", "get", "gh", "SECOND"])).stdout, "value-5678")
})

test("a read-only home is reported with a hint", async t => {
    const home = await fresh(null)
    if (process.getuid?.() === 0) {
        // root ignores file modes, so make the file system itself read-only
        try {
            execFileSync("mount", ["-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", home], { stdio: "ignore" })
        } catch {
            return t.skip("running as root without mount: cannot make a read-only home here")
        }
    }
    try {
        await writeFile(join(home, "config.yaml"), "auth_scopes:\n  gh: {}\n")
        assert.equal((await run(home, ["init"])).code, 0)
        if (process.getuid?.() === 0) execFileSync("mount", ["-o", "remount,ro", home])
        else await chmod(home, 0o500)
        const r = await run(home, ["secret", "put", "gh", "TOKEN"], { input: "value-1234" })
        assert.equal(r.code, 1)
        assert.match(r.stderr, /^mcplexer: error: .*(read-only|permission|readonly)/im)
        assert.match(r.stderr, /^mcplexer: hint: /m)
        assert.doesNotMatch(r.stderr, /this is a bug/)
    } finally {
        if (process.getuid?.() === 0) execFileSync("umount", [home])
        else await chmod(home, 0o700)
    }
})

test("key rotate re-encrypts every secret and keeps the old key beside it", async () => {
    const home = await fresh()
    for (let i = 0; i < 5; i++) await run(home, ["secret", "put", "gh", `K${i}`], { input: `value-${i}-xyz` })
    const before = await readFile(join(home, "age.key"), "utf8")
    const r = await run(home, ["key", "rotate"])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /re-encrypted 5 secrets/)
    const after = await readFile(join(home, "age.key"), "utf8")
    assert.notEqual(after, before)
    const old = (await readdir(home)).filter(f => f.startsWith("age.key") && f !== "age.key")
    assert.equal(old.length, 1, old.join(","))
    assert.equal(await readFile(join(home, old[0] ?? ""), "utf8"), before)
    assert.equal(await mode(join(home, old[0] ?? "")), 0o600)
    assert.equal(await mode(join(home, "age.key")), 0o600)
    for (let i = 0; i < 5; i++) assert.equal((await run(home, ["secret", "get", "gh", `K${i}`])).stdout, `value-${i}-xyz`)
})

test("a secret put by mcplexer decrypts with Go age, and an age-keygen key works", async t => {
    if (!which("age") || !which("age-keygen")) return t.skip("age not installed (Debian package age); CI installs it")
    const home = await fresh()
    const key = join(home, "go.key")
    execFileSync("age-keygen", ["-o", key], { stdio: "ignore" })
    await chmod(key, 0o600)
    const env = { MCPLEXER_AGE_KEY: key }
    assert.equal((await run(home, ["secret", "put", "gh", "TOKEN"], { input: "interop-value", env })).code, 0)
    assert.equal((await run(home, ["secret", "get", "gh", "TOKEN"], { env })).stdout, "interop-value")
    const db = new Database(join(home, "mcplexer.db"), { readonly: true })
    const row = db.prepare("select ciphertext from secrets").get() as { ciphertext: Buffer }
    db.close()
    const plain = execFileSync("age", ["-d", "-i", key], { input: row.ciphertext, encoding: "utf8" })
    assert.equal(plain, "mcplexer-secret/v1 gh TOKEN\ninterop-value")
})

test("a MAC set to NULL beside a value planted to the public key: secret get says tampering, key upgrade adopts nothing", async () => {
    const home = await fresh()
    assert.equal((await run(home, ["secret", "put", "gh", "TOKEN"], { input: "the real token" })).code, 0)
    const recipient = (await run(home, ["key", "show"])).stdout.trim().split("\n")[1] ?? ""
    const planted = `planted-${process.pid}-${Date.now()}`
    const e = new Encrypter()
    e.addRecipient(recipient)
    const forged = Buffer.from(await e.encrypt(`mcplexer-secret/v1 gh TOKEN\n${planted}`))
    const db = new Database(join(home, "mcplexer.db"))
    db.prepare("UPDATE secrets SET mac = NULL, ciphertext = ? WHERE scope = 'gh' AND key = 'TOKEN'").run(forged)
    db.close()

    const get = await run(home, ["secret", "get", "gh", "TOKEN"])
    assert.equal(get.code, 1)
    assert.equal(get.stdout, "")
    assert.match(get.stderr, /^mcplexer: error: secret "gh\/TOKEN" has no MAC, though every row of this database has carried one since \S+: it was not written by mcplexer$/m)
    assert.match(get.stderr, /^mcplexer: hint: a missing MAC on an upgraded database means the row was tampered with, not stored by an older mcplexer/m)
    const upgrade = await run(home, ["key", "upgrade"])
    assert.equal(upgrade.code, 1)
    assert.match(upgrade.stderr, /^mcplexer: error: secret "gh\/TOKEN" has no MAC, .*; nothing was upgraded$/m)
    assert.doesNotMatch(upgrade.stderr, /^authenticated /m)
    const again = await run(home, ["secret", "get", "gh", "TOKEN"])
    assert.equal(again.code, 1, "still refused after the refused upgrade")
    for (const r of [get, upgrade, again]) assert.ok(!(r.stdout + r.stderr).includes(planted))
})
