import assert from "node:assert/strict"
import { spawn } from "node:child_process"
import { readdir, readFile, rm } from "node:fs/promises"
import { join } from "node:path"
import { test } from "node:test"
import { eq } from "drizzle-orm"
import * as secrets from "../../internal/secrets/index.ts"
import * as store from "../../internal/store/index.ts"
import { fresh, paths, run } from "./kit.ts"

type Hinted = Error & { hint?: string }

async function vault(home?: string): Promise<secrets.Vault> {
    return secrets.open(paths(home ?? await fresh()), { actor: "test", create: true })
}

function audits(v: secrets.Vault) {
    return v.store.db.select().from(store.schema.audit).orderBy(store.schema.audit.id).all()
}

test("a value put is got back byte for byte", async () => {
    const v = await vault()
    const value = "  ünïcödé ✓ $HOME ${secret:X} `x` 'q' \"dq\"\nline two\r\n\ttab  "
    assert.equal(await v.put("gh", "TOKEN", value), false)
    assert.equal(await v.get("gh", "TOKEN"), value)
    v.close()
})

test("putting a key again replaces its value and says so", async () => {
    const v = await vault()
    await v.put("gh", "TOKEN", "first value")
    assert.equal(await v.put("gh", "TOKEN", "second value"), true)
    assert.equal(await v.get("gh", "TOKEN"), "second value")
    assert.equal(v.list().length, 1)
    v.close()
})

test("list shows scope, key, time and recipient, sorted, and filters by scope", async () => {
    const v = await vault()
    const t0 = Date.now()
    await v.put("zeta", "B", "value b")
    await v.put("acme", "Z", "value z")
    await v.put("acme", "A", "value a")
    const all = v.list()
    assert.deepEqual(all.map(e => `${e.scope}/${e.key}`), ["acme/A", "acme/Z", "zeta/B"])
    for (const e of all) {
        assert.equal(e.recipient, await v.recipient())
        assert.ok(e.updatedAt instanceof Date && e.updatedAt.getTime() >= t0)
        assert.deepEqual(Object.keys(e).sort(), ["expiresAt", "key", "recipient", "scope", "scopeKey", "updatedAt"])
    }
    assert.deepEqual(v.list("acme").map(e => e.key), ["A", "Z"])
    assert.deepEqual(v.list("nothing"), [])
    v.close()
})

test("list and delete work without the key file, so they never load it", async () => {
    const home = await fresh()
    const v = await vault(home)
    await v.put("gh", "TOKEN", "a value")
    await v.put("gh", "OTHER", "b value")
    v.close()
    await rm(join(home, "age.key"))
    const w = secrets.open(paths(home), { actor: "test" })
    assert.deepEqual(w.list().map(e => e.key), ["OTHER", "TOKEN"])
    w.delete("gh", "OTHER")
    assert.deepEqual(w.list().map(e => e.key), ["TOKEN"])
    w.close()
})

test("list, delete and get do not load the age library; put does", async () => {
    const home = await fresh()
    const v = await vault(home)
    await v.put("gh", "TOKEN", "a value")
    await v.put("gh", "OTHER", "b value")
    v.close()
    // a resolve hook that refuses age-encryption: list, delete and get (Node's crypto reads an
    // X25519 key) must still work, put must not
    const hook = `data:text/javascript,export async function resolve(s, c, n) { if (s === "age-encryption") throw new Error("age-encryption was loaded"); return n(s, c) }`
    const register = `data:text/javascript,import { register } from "node:module"; register(${JSON.stringify(hook)})`
    const code = `
        import * as secrets from ${JSON.stringify(join(import.meta.dirname, "../../internal/secrets/index.ts"))}
        import * as config from ${JSON.stringify(join(import.meta.dirname, "../../internal/config/index.ts"))}
        const v = secrets.open(config.paths(process.env), { actor: "test" })
        console.log(v.list().length)
        v.delete("gh", "OTHER")
        console.log(v.list().length)
        console.log(await v.get("gh", "TOKEN"))
        try { await v.put("gh", "NEW", "c value"); console.log("put") } catch (e) { console.log(e.message) }
    `
    const out = await new Promise<string>((done, fail) => {
        const child = spawn(process.execPath, ["--import", "tsx", "--import", register, "--input-type=module", "-e", code], {
            env: { ...process.env, MCPLEXER_HOME: home },
            stdio: ["ignore", "pipe", "inherit"],
        })
        let s = ""
        child.stdout.setEncoding("utf8").on("data", (d: string) => { s += d })
        child.on("error", fail)
        child.on("close", () => done(s))
    })
    assert.deepEqual(out.trim().split("\n"), ["2", "1", "a value", "age-encryption was loaded"])
})

test("delete removes one key, and a missing key is NotFoundError with a hint", async () => {
    const v = await vault()
    await v.put("gh", "TOKEN", "a value")
    await v.put("gh", "OTHER", "b value")
    v.delete("gh", "TOKEN")
    assert.deepEqual(v.list().map(e => e.key), ["OTHER"])
    assert.throws(() => v.delete("gh", "TOKEN"), (e: secrets.NotFoundError) => {
        assert.ok(e instanceof secrets.NotFoundError)
        assert.equal(e.message, `secret "gh/TOKEN" not found`)
        assert.equal(e.hint, "list what is stored with: mcplexer secret list gh")
        return true
    })
    await assert.rejects(v.get("gh", "TOKEN"), secrets.NotFoundError)
    v.close()
})

test("an empty value is refused", async () => {
    const v = await vault()
    await assert.rejects(v.put("gh", "TOKEN", ""), (e: Hinted) => {
        assert.equal(e.message, `value of secret "gh/TOKEN" is empty`)
        assert.equal(e.hint, "to remove it: mcplexer secret delete gh TOKEN")
        return true
    })
    assert.deepEqual(v.list(), [])
    v.close()
})

test("a value with a NUL byte is refused, as it cannot become an environment variable", async () => {
    const v = await vault()
    await assert.rejects(v.put("gh", "TOKEN", "abc\0def"), (e: Hinted) => {
        assert.equal(e.message, `value of secret "gh/TOKEN" contains a NUL byte; nothing was stored`)
        assert.match(e.hint ?? "", /environment variables/)
        assert.doesNotMatch(e.message + (e.hint ?? ""), /abc|def/)
        return true
    })
    v.close()
})

test("a value UTF-8 cannot carry byte for byte is refused", async () => {
    const v = await vault()
    await assert.rejects(v.put("gh", "TOKEN", "half \uD83D pair"), { message: `value of secret "gh/TOKEN" is not valid Unicode text` })
    await v.put("gh", "TOKEN", "whole \uD83D\uDE00 pair")
    assert.equal(await v.get("gh", "TOKEN"), "whole \uD83D\uDE00 pair")
    v.close()
})

test("invalid scope and key names are refused with the allowed characters", async () => {
    const v = await vault()
    await assert.rejects(v.put("a b", "TOKEN", "value"), (e: Hinted) => {
        assert.equal(e.message, `invalid scope name "a b"`)
        assert.ok(e.hint)
        return true
    })
    await assert.rejects(v.put("gh", "1TOKEN", "value"), { message: `invalid key name "1TOKEN"` })
    await assert.rejects(v.get("gh", "TO-KEN"), { message: `invalid key name "TO-KEN"` })
    assert.throws(() => v.delete("../x", "K"), { message: `invalid scope name "../x"` })
    assert.throws(() => v.list("a/b"), { message: `invalid scope name "a/b"` })
    v.close()
})

test("a ciphertext moved to another row is refused as a DecryptError naming the row", async () => {
    const v = await vault()
    await v.put("gh", "TOKEN", "the gh token")
    await v.put("acme", "TOKEN", "the acme token")
    const t = store.schema.secrets
    const gh = v.store.db.select().from(t).where(eq(t.scope, "gh")).get()
    assert.ok(gh)
    // with its MAC: the MAC covers the scope and key, so it does not fit its new row
    v.store.db.update(t).set({ ciphertext: gh.ciphertext, mac: gh.mac }).where(eq(t.scope, "acme")).run()
    await assert.rejects(v.get("acme", "TOKEN"), (e: secrets.DecryptError) => {
        assert.ok(e instanceof secrets.DecryptError)
        assert.equal(e.scope, "acme")
        assert.equal(e.key, "TOKEN")
        assert.match(e.message, /^secret "acme\/TOKEN" fails its authentication check/)
        assert.match(e.hint, /mcplexer secret put acme TOKEN/)
        assert.doesNotMatch(e.message + e.hint, /the gh token/)
        return true
    })
    assert.equal(await v.get("gh", "TOKEN"), "the gh token")
    v.close()
})

test("a tampered ciphertext is a DecryptError naming the row, and other secrets still read", async () => {
    const v = await vault()
    await v.put("gh", "TOKEN", "value one")
    await v.put("gh", "OTHER", "value two")
    const t = store.schema.secrets
    const row = v.store.db.select().from(t).where(eq(t.key, "TOKEN")).get()
    assert.ok(row)
    const bad = Buffer.from(row.ciphertext)
    bad[bad.length - 5] = (bad[bad.length - 5] ?? 0) ^ 1
    v.store.db.update(t).set({ ciphertext: bad }).where(eq(t.key, "TOKEN")).run()
    await assert.rejects(v.get("gh", "TOKEN"), (e: secrets.DecryptError) => {
        assert.ok(e instanceof secrets.DecryptError)
        assert.match(e.message, /^secret "gh\/TOKEN" fails its authentication check/)
        assert.match(e.hint, /forged/)
        return true
    })
    assert.equal(await v.get("gh", "OTHER"), "value two")
    await assert.rejects(v.scope("gh", { reason: "test" }), secrets.DecryptError)
    v.close()
})

test("a secret encrypted to another key names both public keys and MCPLEXER_AGE_KEY", async () => {
    const home = await fresh()
    const v = await vault(home)
    await v.put("gh", "TOKEN", "a value")
    const theirs = await v.recipient()
    v.close()
    const other = await fresh()
    const mine = await secrets.init(paths(other))
    const w = secrets.open(paths(home, { MCPLEXER_AGE_KEY: mine.path }), { actor: "test" })
    await assert.rejects(w.get("gh", "TOKEN"), (e: secrets.DecryptError) => {
        assert.ok(e instanceof secrets.DecryptError)
        assert.equal(e.message, `secret "gh/TOKEN" is encrypted to ${theirs}, but the key file ${JSON.stringify(mine.path)} is ${mine.recipient}`)
        assert.match(e.hint, /MCPLEXER_AGE_KEY/)
        assert.ok(e.hint.includes(theirs))
        return true
    })
    // and it will not mix a second key into the store either
    await assert.rejects(w.put("gh", "NEW", "another value"), (e: Hinted) => {
        assert.ok(e.message.includes(theirs) && e.message.includes(mine.recipient))
        assert.match(e.hint ?? "", /MCPLEXER_AGE_KEY/)
        return true
    })
    w.close()
})

test("every put, get, delete and scope read is audited with its actor, never a value", async () => {
    const v = await vault()
    await v.put("gh", "TOKEN", "audited-value-1234")
    await v.get("gh", "TOKEN")
    await v.scope("gh", { server: "github", reason: "start github" })
    v.delete("gh", "TOKEN")
    await assert.rejects(v.get("gh", "TOKEN"))
    const rows = audits(v)
    assert.deepEqual(rows.map(r => [r.action, r.scope, r.key, r.status, r.actor]), [
        ["put", "gh", "TOKEN", "ok", "test"],
        ["get", "gh", "TOKEN", "ok", "test"],
        ["resolve", "gh", null, "ok", "test"],
        ["delete", "gh", "TOKEN", "ok", "test"],
        ["get", "gh", "TOKEN", "missing", "test"],
    ])
    const resolve = rows[2]
    assert.equal(resolve?.server, "github")
    assert.deepEqual(resolve?.detail, { keys: ["TOKEN"], reason: "start github" })
    assert.doesNotMatch(JSON.stringify(rows), /audited-value/)
    v.close()
})

test("scope decrypts every key of a scope and writes one audit row", async () => {
    const v = await vault()
    await v.put("gh", "A", "value a")
    await v.put("gh", "B", "value b")
    await v.put("acme", "C", "value c")
    const before = audits(v).length
    const m = await v.scope("gh", { reason: "test" })
    assert.deepEqual([...m], [["A", "value a"], ["B", "value b"]])
    assert.equal(audits(v).length, before + 1)
    assert.deepEqual(await v.scope("empty", { reason: "test" }), new Map())
    v.close()
})

test("a planted value is nowhere in the database files but inside its ciphertext", async () => {
    const home = await fresh()
    const v = await vault(home)
    const planted = "PLANTED-6f1d0c-secret-value"
    await v.put("gh", "TOKEN", planted)
    await v.get("gh", "TOKEN")
    await v.scope("gh", { server: "github", reason: "test" })
    await assert.rejects(v.put("gh", "BAD", `${planted}\0`))
    const files = (await readdir(home)).filter(f => f.startsWith("mcplexer.db"))
    assert.ok(files.includes("mcplexer.db-wal"))
    for (const f of files) {
        const bytes = await readFile(join(home, f))
        assert.equal(bytes.indexOf(planted), -1, f)
        assert.equal(bytes.indexOf(Buffer.from(planted, "utf16le")), -1, f)
    }
    // the same after a checkpoint moved the WAL into the database
    v.store.sqlite.pragma("wal_checkpoint(TRUNCATE)")
    assert.equal((await readFile(join(home, "mcplexer.db"))).indexOf(planted), -1)
    v.close()
})

test("a process holding the old key keeps reading and writing after another process rotated it", async () => {
    const home = await fresh()
    const v = await vault(home)
    await v.put("gh", "TOKEN", "before rotation")
    const old = await v.recipient()
    const out = await run(home, ["rotate"])
    const rotated = JSON.parse(out.trim().split("\n").at(-1) ?? "") as { recipient: string }
    assert.notEqual(rotated.recipient, old)
    assert.equal(await v.get("gh", "TOKEN"), "before rotation")
    assert.equal(await v.recipient(), rotated.recipient)
    await v.put("gh", "NEW", "after rotation")
    assert.deepEqual(new Set(v.list().map(e => e.recipient)), new Set([rotated.recipient]))
    v.close()
})

test("a value that is not UTF-8 round-trips as bytes, and is refused, named, where only text can go", async () => {
    const v = await vault()
    const binary = Buffer.from([0xff, 0xfe, 0x41, 0xc3, 0x28, 0x80])
    await v.put("gh", "BIN", binary)
    assert.ok((await v.bytes("gh", "BIN")).equals(binary))
    // an environment variable, a header and a tool-call argument are text: refused, never U+FFFD
    await assert.rejects(v.get("gh", "BIN"), (e: Hinted) => {
        assert.equal(e.message, `secret "gh/BIN" is not UTF-8 text, so it cannot be passed as an environment variable, header or argument`)
        assert.match(e.hint ?? "", /secret get gh BIN/)
        return true
    })
    await assert.rejects(v.scope("gh", { server: "github", reason: "test" }), /secret "gh\/BIN" is not UTF-8 text, so it cannot be passed to server "github"/)
    v.close()
})
