/**
 * The age reader of internal/secrets/age.ts (Node's crypto) against files written by typage and by
 * Go's age: every size around the 64 KiB chunk, several recipients, and each way a file can be
 * damaged. Every damaged file must be refused, never read as something else.
 */
import assert from "node:assert/strict"
import { execFile, spawnSync } from "node:child_process"
import { readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { test } from "node:test"
import { promisify } from "node:util"
import { Decrypter, Encrypter, Stanza, generateHybridIdentity, generateX25519Identity, identityToRecipient } from "age-encryption"
import { bech32 } from "@scure/base"
import * as age from "../../internal/secrets/age.ts"
import * as identity from "../../internal/secrets/identity.ts"
import { fresh } from "./kit.ts"

const exec = promisify(execFile)
const haveAge = spawnSync("age", ["--version"], { stdio: "ignore" }).status === 0

async function key(): Promise<{ secret: string; recipient: string; id: age.X25519 }> {
    const secret = await generateX25519Identity()
    return { secret, recipient: await identityToRecipient(secret), id: await age.x25519(bech32.decodeToBytes(secret).bytes) }
}

async function seal(plain: Uint8Array, ...recipients: string[]): Promise<Buffer> {
    const e = new Encrypter()
    for (const r of recipients) e.addRecipient(r)
    return Buffer.from(await e.encrypt(plain))
}

function bytes(n: number): Buffer {
    return Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + (i >> 8)) & 0xff))
}

test("the public key it derives is the one typage derives", async () => {
    for (let i = 0; i < 5; i++) {
        const k = await key()
        assert.equal(bech32.encodeFromBytes("age", k.id.public), k.recipient)
    }
})

test("reads typage's files of every size around the 64 KiB chunk boundary", async () => {
    const k = await key()
    for (const n of [0, 1, 100, 65535, 65536, 65537, 2 * 65536, 2 * 65536 + 5, 300_000]) {
        const plain = bytes(n)
        assert.deepEqual(await age.decrypt(k.id, await seal(plain, k.recipient)), plain, `${n} bytes`)
    }
})

test("finds its stanza among several recipients, in any position", async () => {
    const me = await key(), a = await key(), b = await key()
    for (const order of [[me, a, b], [a, me, b], [a, b, me]]) {
        const file = await seal(Buffer.from("for three"), ...order.map(k => k.recipient))
        assert.equal((await age.decrypt(me.id, file)).toString(), "for three")
    }
    await assert.rejects(age.decrypt(me.id, await seal(Buffer.from("not for me"), a.recipient, b.recipient)), /no identity matched/)
})

test("refuses every damaged file: header, MAC, stanza, payload, truncation, extra bytes", async () => {
    const k = await key()
    const file = await seal(bytes(70_000), k.recipient)
    const text = file.toString("latin1")
    const mac = text.indexOf("\n---") + 1
    const payload = text.indexOf("\n", mac) + 1
    const flip = (at: number) => {
        const b = Buffer.from(file)
        b[at] = (b[at] ?? 0) ^ 1
        return b
    }
    const cases: Array<[string, Buffer, RegExp]> = [
        ["the version line", flip(3), /not an age file/],
        ["a stanza argument", flip(text.indexOf("X25519 ") + 10), /invalid X25519 share|no identity matched|malformed/],
        ["a stanza body", flip(text.indexOf("\n", text.indexOf("X25519 ")) + 3), /no identity matched|malformed/],
        ["the MAC", flip(mac + 6), /bad header MAC|malformed/],
        ["the nonce", flip(payload + 2), /failed authentication/],
        ["the first chunk", flip(payload + 100), /chunk 0 failed authentication/],
        ["the last chunk", flip(file.length - 3), /chunk 1 failed authentication/],
        ["a truncated header", file.subarray(0, mac), /truncated header/],
        ["a lost last chunk", file.subarray(0, payload + 16 + 65536 + 16), /chunk 0 failed authentication/],
        ["a truncated last chunk", file.subarray(0, file.length - 10), /chunk 1 failed authentication/],
        ["bytes appended", Buffer.concat([file, Buffer.from("x")]), /chunk 1 failed authentication/],
        ["no payload at all", file.subarray(0, payload + 10), /file too short/],
    ]
    for (const [what, bad, why] of cases) await assert.rejects(age.decrypt(k.id, bad), why, what)
    assert.equal((await age.decrypt(k.id, file)).length, 70_000)
})

test("refuses a share that is a low-order point", async () => {
    const k = await key()
    const file = (await seal(Buffer.from("x"), k.recipient)).toString("latin1")
    // the all-zero point: X25519 of it is all zeros for every key
    const zero = Buffer.alloc(32).toString("base64").replace(/=+$/, "")
    const bad = Buffer.from(file.replace(/-> X25519 \S+/, `-> X25519 ${zero}`), "latin1")
    await assert.rejects(age.decrypt(k.id, bad), /invalid X25519 share/)
})

test("refuses a file whose matching X25519 stanza sits beside an scrypt stanza", async () => {
    const k = await key()
    const e = new Encrypter()
    e.addRecipient(k.recipient)
    // a passphrase stanza of the real shape (salt, work factor, wrapped key): age requires it alone
    e.addRecipient({ wrapFileKey: () => [new Stanza(["scrypt", "rF0/NwblUHHTpgQgRpe5CQ", "10"], new Uint8Array(32).fill(7))] })
    const file = Buffer.from(await e.encrypt("mixed"))
    assert.match(file.toString("latin1"), /-> scrypt /)
    await assert.rejects(age.decrypt(k.id, file), /^Error: malformed header: an scrypt stanza must be alone$/)
    // the same file without the scrypt stanza is read
    assert.equal((await age.decrypt(k.id, await seal(Buffer.from("alone"), k.recipient))).toString(), "alone")
})

test("identity.load decrypts a post-quantum key's files through typage", async () => {
    const secret = await generateHybridIdentity()
    const recipient = await identityToRecipient(secret)
    const id = await identity.load(Buffer.from(`${secret}\n`), "pq.key")
    assert.equal(id.recipient, recipient)
    const file = await seal(Buffer.from("post-quantum"), recipient)
    assert.equal(Buffer.from(await id.decrypt(file)).toString(), "post-quantum")
    // and what it encrypts, typage reads with the key string
    const d = new Decrypter()
    d.addIdentity(secret)
    assert.equal(await d.decrypt(await id.encrypt(Buffer.from("back")), "text"), "back")
})

test("reads Go age's files, and Go age reads what typage writes for the same key", async t => {
    if (!haveAge) {
        t.skip("age not installed (CI installs the Debian package age)")
        return
    }
    const dir = await fresh()
    const k = await key()
    const other = await key()
    for (const n of [1, 65536, 65537, 200_000]) {
        const plain = bytes(n)
        await writeFile(join(dir, "plain"), plain)
        await exec("age", ["-r", other.recipient, "-r", k.recipient, "-o", join(dir, "c.age"), join(dir, "plain")])
        assert.deepEqual(await age.decrypt(k.id, await readFile(join(dir, "c.age"))), plain, `${n} bytes from Go age`)
    }
    await writeFile(join(dir, "key"), `${k.secret}\n`, { mode: 0o600 })
    await writeFile(join(dir, "t.age"), await seal(Buffer.from("from typage"), k.recipient))
    const { stdout } = await exec("age", ["-d", "-i", join(dir, "key"), join(dir, "t.age")])
    assert.equal(stdout, "from typage")
})
