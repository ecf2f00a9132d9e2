/**
 * Post-quantum homes: typage's hybrid ML-KEM-768 + X25519 identity from `init --pq` and
 * `key rotate --pq`, secrets that round-trip through it, a key file typage reads, and the refusal
 * to mix post-quantum and classic recipients in one ciphertext.
 */
import assert from "node:assert/strict"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { test } from "node:test"
import * as age from "age-encryption"
import Database from "better-sqlite3"
import * as secrets from "../../internal/secrets/index.ts"
import * as identity from "../../internal/secrets/identity.ts"
import { fresh, run } from "../helpers.ts"

const planted = "ghp_pqPLANTED-8e2d61f4-never-shown"

/** The one identity line of a key file. */
function secretOf(file: string): string {
    const line = readFileSync(file, "utf8").split("\n").find(l => l.startsWith("AGE-SECRET-KEY-"))
    assert.ok(line)
    return line
}

/** The stored ciphertext of (scope, key). */
function ciphertext(h: string, scope: string, key: string): Uint8Array {
    const db = new Database(join(h, "mcplexer.db"), { readonly: true })
    try {
        const row = db.prepare("select ciphertext from secrets where scope = ? and key = ?").get(scope, key) as { ciphertext: Uint8Array } | undefined
        assert.ok(row)
        return row.ciphertext
    } finally {
        db.close()
    }
}

test("init --pq makes a post-quantum home whose secrets round-trip and whose age.key typage reads", { timeout: 120_000 }, async () => {
    const h = await fresh()
    const init = await run(h, ["init", "--pq", "--json"])
    assert.equal(init.code, 0, init.stderr)
    const shown = JSON.parse(init.stdout) as { recipient: string; pq: boolean }
    assert.match(shown.recipient, /^age1pq1/)
    assert.equal(shown.pq, true)
    const key = secretOf(join(h, "age.key"))
    assert.match(key, /^AGE-SECRET-KEY-PQ-1/)
    assert.equal(await age.identityToRecipient(key), shown.recipient)
    const put = await run(h, ["secret", "put", "gh", "TOKEN"], { input: planted })
    assert.equal(put.code, 0, put.stderr)
    const get = await run(h, ["secret", "get", "gh", "TOKEN"])
    assert.equal(get.code, 0, get.stderr)
    assert.equal(get.stdout, planted)
    // the stored row is a plain age file typage opens with that key file's identity
    const d = new age.Decrypter()
    d.addIdentity(key)
    const plain = Buffer.from(await d.decrypt(ciphertext(h, "gh", "TOKEN"))).toString("utf8")
    assert.equal(plain, `mcplexer-secret/v1 gh TOKEN\n${planted}`)
})

test("key rotate --pq moves a classic home to a post-quantum key, --no-pq back, and a plain rotate keeps the kind", { timeout: 180_000 }, async () => {
    const h = await fresh()
    assert.equal((await run(h, ["init"])).code, 0)
    assert.equal((await run(h, ["secret", "put", "gh", "TOKEN"], { input: planted })).code, 0)
    const kinds: string[] = []
    for (const args of [["--pq"], [], ["--no-pq"]]) {
        const r = await run(h, ["key", "rotate", ...args])
        assert.equal(r.code, 0, r.stderr)
        kinds.push(r.stdout.trim().startsWith("age1pq1") ? "pq" : "classic")
        const get = await run(h, ["secret", "get", "gh", "TOKEN"])
        assert.equal(get.stdout, planted, get.stderr)
    }
    assert.deepEqual(kinds, ["pq", "pq", "classic"])
})

test("post-quantum and classic recipients are never mixed in one ciphertext", async () => {
    const pq = await age.identityToRecipient(await age.generateHybridIdentity())
    const classic = await age.identityToRecipient(await age.generateX25519Identity())
    secrets.recipients.check([pq])
    secrets.recipients.check([classic, classic])
    secrets.recipients.check([])
    assert.throws(() => secrets.recipients.check([pq, classic], `scope "acme"`), (e: Error & { hint?: string }) => {
        assert.match(e.message, /^scope "acme" mixes post-quantum and classic age recipients \("age1pq1\S+" and "age1\S+"\)$/)
        assert.match(e.hint ?? "", /key rotate --pq/)
        return true
    })
    // the identity refuses it too, before encrypting
    const { bytes } = await identity.generate(new Date(), { pq: true })
    const id = await identity.load(bytes, "pq.key")
    await assert.rejects(id.encrypt(Buffer.from("x"), [classic]), /mixes post-quantum and classic/)
    const both = await id.encrypt(Buffer.from("x"), [pq])
    const d = new age.Decrypter()
    d.addIdentity(identityLine(bytes))
    assert.equal(Buffer.from(await d.decrypt(both)).toString(), "x")
})

function identityLine(bytes: Uint8Array): string {
    return Buffer.from(bytes).toString("utf8").split("\n").find(l => l.startsWith("AGE-SECRET-KEY-")) ?? ""
}

test("a post-quantum key refuses a file whose hybrid stanza sits beside an scrypt stanza (issue 19), in either order", async () => {
    // not exported by the package: the classes that write each stanza, as a forger would combine them
    const { HybridRecipient, ScryptRecipient } = await import(new URL("../../node_modules/age-encryption/dist/recipients.js", import.meta.url).href) as unknown as {
        HybridRecipient: new (r: string) => { wrapFileKey(k: Uint8Array): age.Stanza[] }
        ScryptRecipient: new (p: string, n: number) => { wrapFileKey(k: Uint8Array): age.Stanza[] }
    }
    const made = await identity.generate(new Date(), { pq: true })
    const id = await identity.load(made.bytes, "/nonexistent/age.key")
    const file = async (order: "before" | "after"): Promise<Uint8Array> => {
        const real = new HybridRecipient(made.recipient), scrypt = new ScryptRecipient("pass", 10)
        const e = new age.Encrypter()
        // typage refuses a passphrase beside recipients; a recipient of our own writes both, as a forger would
        e.addRecipient({ wrapFileKey: (k: Uint8Array) => order === "before" ? [...scrypt.wrapFileKey(k), ...real.wrapFileKey(k)] : [...real.wrapFileKey(k), ...scrypt.wrapFileKey(k)] })
        return e.encrypt(planted)
    }
    for (const order of ["before", "after"] as const) {
        const f = await file(order)
        assert.match(Buffer.from(f).toString("latin1"), /-> scrypt /)
        await assert.rejects(id.decrypt(f), /^Error: malformed header: an scrypt stanza must be alone$/, order)
    }
    // the same key still opens a file of its recipient alone
    const e = new age.Encrypter()
    e.addRecipient(made.recipient)
    assert.equal(Buffer.from(await id.decrypt(await e.encrypt(planted))).toString("utf8"), planted)
})
