import { createHash, webcrypto } from "node:crypto"
// typage's own dependency (it exports no bech32 helper); used to get the raw X25519 scalar
import { bech32 } from "@scure/base"
import type * as typage from "age-encryption"
import * as age from "./age.ts"
import { hinted } from "./errors.ts"
import * as recipients from "./recipients.ts"
import { account, form as formOf, open as unlock, type Form } from "./unlock.ts"

/** A loaded age identity, ready to encrypt to itself and decrypt. Holds no key string. */
export interface Identity {
    /** the key file it was read from */
    path: string
    /** its public key, age1… */
    recipient: string
    /** sha256 of the key file's bytes, to notice that the file changed */
    digest: string
    /** when the key file says it was created (its `# created:` line), if it does */
    created?: Date
    /** how the key file keeps the identity at rest: in plain text, under a passphrase, in the OS keychain */
    form: Form
    /** whether its text carries the mark line (`mark`): its store authenticates every row */
    marked: boolean
    /** an age file encrypted to this identity, decrypted; throws when it is not */
    decrypt(file: Uint8Array): Promise<Uint8Array>
    /**
     * an age file of `plain`, encrypted to this identity and to `also` (more age1… recipients);
     * post-quantum and classic recipients together are refused (recipients.check)
     */
    encrypt(plain: Uint8Array, also?: readonly string[]): Promise<Uint8Array>
    /** HMAC-SHA256 of `data` under the row key derived from this identity (see `rowKey`) */
    sign(data: Uint8Array): Promise<Buffer>
    /** whether `mac` is `sign(data)`, compared in constant time */
    verify(data: Uint8Array, mac: Uint8Array): Promise<boolean>
}

// the HKDF info of the key that authenticates rows: a new purpose gets a new label, never this one
const rowInfo = Buffer.from("mcplexer-row-mac/v1")

/**
 * The key that authenticates rows: HKDF-SHA256 of the identity's secret bytes (for X25519 the
 * 32-byte scalar), no salt, info "mcplexer-row-mac/v1", imported as a non-extractable HMAC key.
 * Only the holder of the identity can make it, unlike an age file, which anyone with the public
 * key can make. The caller may wipe `secret` afterwards.
 */
async function rowKey(secret: Uint8Array): Promise<webcrypto.CryptoKey> {
    const ikm = await webcrypto.subtle.importKey("raw", secret, "HKDF", false, ["deriveKey"])
    return webcrypto.subtle.deriveKey({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: rowInfo }, ikm,
        { name: "HMAC", hash: "SHA-256", length: 256 }, false, ["sign", "verify"])
}

// typage: loaded when a value is encrypted or a key generated, never by a plain read
let loading: Promise<typeof typage> | undefined
const lib = () => (loading ??= import("age-encryption"))

/** The sha256 of a key file's bytes. */
export function digest(bytes: Uint8Array): string {
    return createHash("sha256").update(bytes).digest("hex")
}

/**
 * The comment line, in the identity's own text, that says its store authenticates every row, so
 * that a row without a MAC is tampering and never one 0.1 wrote. It lives in the identity, not the
 * database, because a database writer can make the database look like one 0.1 left; the text goes
 * wherever the identity is kept (a plain key file, inside a passphrase-protected one, the OS
 * keychain item) and age's tools skip it as a comment.
 */
export const mark = "# mcplexer: rows authenticated (a row without a MAC is never adopted)"

const markLine = /^#\s*mcplexer:\s*rows authenticated\b/

/**
 * The key file text `plain` with the mark line added just before its AGE-SECRET-KEY line (undefined
 * when it has one already, or holds no such line). Built from bytes, so no string of the key is made.
 */
export function marked(plain: Uint8Array): Buffer | undefined {
    const b = Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength)
    let at = -1
    for (let i = 0; i < b.length;) {
        const nl = b.indexOf(0x0a, i)
        const end = nl < 0 ? b.length : nl
        let start = i
        while (start < end && (b[start] === 0x20 || b[start] === 0x09)) start++
        // a comment line is no secret: only such a line is made a string
        if (b[start] === 0x23 && markLine.test(b.subarray(start, end).toString("utf8"))) return undefined
        if (at < 0 && b.subarray(start, start + 15).toString("latin1") === "AGE-SECRET-KEY-") at = i
        i = end + 1
    }
    if (at < 0) return undefined
    const eol = at > 1 && b[at - 2] === 0x0d ? "\r\n" : "\n"
    return Buffer.concat([b.subarray(0, at), Buffer.from(mark + eol), b.subarray(at)])
}

/**
 * Parses a key file in the age-keygen format: `#` comment lines, blank lines and exactly one
 * `AGE-SECRET-KEY-1…` (or post-quantum `AGE-SECRET-KEY-PQ-1…`) line. An error never quotes a line,
 * since a malformed line may be a key.
 */
export function parse(text: string, path: string): { secret: string; created?: Date; marked: boolean } {
    const found: string[] = []
    let created: Date | undefined
    let marked = false
    const lines = text.split("\n")
    for (const [i, raw] of lines.entries()) {
        const line = raw.replace(/\r$/, "").trim()
        if (line === "") continue
        if (line.startsWith("#")) {
            const m = /^#\s*created:\s*(\S+)/.exec(line)
            const t = m?.[1] === undefined ? NaN : Date.parse(m[1])
            if (!Number.isNaN(t)) created = new Date(t)
            if (markLine.test(line)) marked = true
            continue
        }
        if (!line.startsWith("AGE-SECRET-KEY-")) {
            throw hinted(`key file ${JSON.stringify(path)} is not an age identity file (line ${i + 1})`, `it should hold one AGE-SECRET-KEY-1… line, as written by age-keygen`)
        }
        found.push(line)
    }
    const [secret] = found
    if (secret === undefined) {
        throw hinted(`key file ${JSON.stringify(path)} holds no age identity`, `it should hold one AGE-SECRET-KEY-1… line, as written by age-keygen`)
    }
    if (found.length > 1) {
        throw hinted(`key file ${JSON.stringify(path)} holds ${found.length} identities`, `mcplexer uses exactly one; keep one AGE-SECRET-KEY-1… line`)
    }
    return created === undefined ? { secret, marked } : { secret, created, marked }
}

/**
 * Imports a key file's bytes. An X25519 key becomes a non-extractable WebCrypto key, which
 * decrypts with Node's own crypto (age.ts) and leaves no key string in memory; a post-quantum key
 * stays a string, as typage takes it.
 */
export async function load(bytes: Uint8Array, path: string): Promise<Identity> {
    const form = formOf(bytes)
    // a protected key file (passphrase or keychain) is opened first; a plain one loads nothing more
    const plain = form === "plain" ? bytes : await unlock(bytes, path)
    let text: string
    try {
        text = Buffer.from(plain).toString("utf8")
    } finally {
        if (plain !== bytes) plain.fill(0)
    }
    const { secret, created, marked } = parse(text, path)
    const malformed = (e: unknown) => hinted(`key file ${JSON.stringify(path)} holds a malformed age identity`,
        "it should hold one AGE-SECRET-KEY-1… line, as written by age-keygen", { cause: e })
    const { recipient, decrypt, mac } = secret.startsWith("AGE-SECRET-KEY-PQ-1") ? await postQuantum(secret, malformed) : await x25519(secret, malformed)
    if (form === "keychain" && account(bytes) !== recipient) {
        throw hinted(`the OS keychain item of key file ${JSON.stringify(path)} holds the identity of ${recipient}, not of ${JSON.stringify(account(bytes))}`,
            "the keychain item was replaced; restore the key file from a backup", { kind: "conflict" })
    }
    let e: typage.Encrypter | undefined
    const id: Identity = {
        path, recipient, digest: digest(bytes), decrypt, form, marked,
        async sign(data) {
            return Buffer.from(await webcrypto.subtle.sign("HMAC", mac, data))
        },
        verify(data, tag) {
            return webcrypto.subtle.verify("HMAC", mac, tag, data)
        },
        async encrypt(plain, also = []) {
            if (also.length > 0) {
                recipients.check([recipient, ...also])
                const more = new (await lib()).Encrypter()
                for (const r of [recipient, ...also]) more.addRecipient(r)
                return more.encrypt(plain)
            }
            if (e === undefined) {
                e = new (await lib()).Encrypter()
                e.addRecipient(recipient)
            }
            return e.encrypt(plain)
        },
    }
    if (created !== undefined) id.created = created
    return id
}

/** What each kind of key gives an Identity. */
interface Parts { recipient: string; decrypt: Identity["decrypt"]; mac: webcrypto.CryptoKey }

async function x25519(secret: string, malformed: (e: unknown) => Error): Promise<Parts> {
    let raw: Uint8Array | undefined
    try {
        const d = bech32.decodeToBytes(secret)
        raw = d.bytes
        if (d.prefix.toUpperCase() !== "AGE-SECRET-KEY-" || raw.length !== 32) throw new Error("wrong prefix or length")
        const key = await age.x25519(raw)
        return { recipient: bech32.encodeFromBytes("age", key.public), decrypt: file => age.decrypt(key, file), mac: await rowKey(raw) }
    } catch (e) {
        throw malformed(e)
    } finally {
        raw?.fill(0)
    }
}

async function postQuantum(secret: string, malformed: (e: unknown) => Error): Promise<Parts> {
    const t = await lib()
    let recipient: string
    try {
        recipient = await t.identityToRecipient(secret)
    } catch (e) {
        throw malformed(e)
    }
    // typage keeps a post-quantum key as its string: its bytes are the secret here
    const text = Buffer.from(secret)
    const mac = await rowKey(text)
    text.fill(0)
    let d: typage.Decrypter | undefined
    const decrypt: Identity["decrypt"] = async file => {
        age.lone(file)
        if (d === undefined) {
            d = new t.Decrypter()
            d.addIdentity(secret)
        }
        return drain(d, file)
    }
    return { recipient, decrypt, mac }
}

/**
 * typage's byte-array decrypt collects its output through `new Response(stream)`, which loads
 * undici (a tenth of a CLI start); reading the stream ourselves avoids that, and lets each chunk
 * be wiped once copied.
 */
async function drain(d: typage.Decrypter, file: Uint8Array): Promise<Uint8Array> {
    const input = new ReadableStream<Uint8Array>({ start(c) { c.enqueue(file); c.close() } })
    const reader = (await d.decrypt(input)).getReader()
    const chunks: Uint8Array[] = []
    let size = 0
    try {
        for (let r = await reader.read(); !r.done; r = await reader.read()) {
            chunks.push(r.value)
            size += r.value.length
        }
        if (chunks.length === 1 && chunks[0] !== undefined) return chunks[0]
        const plain = new Uint8Array(size)
        let at = 0
        for (const c of chunks) {
            plain.set(c, at)
            at += c.length
        }
        return plain
    } finally {
        if (chunks.length > 1) for (const c of chunks) c.fill(0)
    }
}

/**
 * A new identity as key file bytes in the age-keygen format (RFC 3339 time in UTC): X25519, or
 * with `pq` typage's hybrid ML-KEM-768 + X25519 (AGE-SECRET-KEY-PQ-1…, age1pq1…). It carries the
 * mark line: every store this mcplexer writes authenticates its rows from the first.
 */
export async function generate(now = new Date(), o: { pq?: boolean } = {}): Promise<{ bytes: Buffer; recipient: string }> {
    const t = await lib()
    const secret = o.pq ? await t.generateHybridIdentity() : await t.generateX25519Identity()
    const recipient = await t.identityToRecipient(secret)
    const created = now.toISOString().replace(/\.\d+Z$/, "Z")
    return { bytes: Buffer.from(`# created: ${created}\n# public key: ${recipient}\n${mark}\n${secret}\n`), recipient }
}
