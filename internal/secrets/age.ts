/**
 * Reads age files encrypted to an X25519 identity with Node's own crypto (OpenSSL): every
 * primitive here is one Node call, and this file only parses the format (age-encryption.org/v1,
 * https://c2sp.org/age). typage stays the encrypter, the key generator and the post-quantum
 * decrypter; what this saves is its module load (noble's curves and post-quantum tables), which
 * was a third of every `secret get`. test/secrets/age.test.ts holds it to typage and to Go's age.
 */
import { createDecipheriv, createHmac, hkdfSync, timingSafeEqual, webcrypto } from "node:crypto"

/** An X25519 identity: a non-extractable WebCrypto key, and its public key as 32 raw bytes. */
export interface X25519 {
    key: webcrypto.CryptoKey
    public: Buffer
}

// PKCS#8 wrapping of a raw 32-byte X25519 private key (RFC 8410)
const pkcs8Prefix = Buffer.from("302e020100300506032b656e04220420", "hex")
// the X25519 base point (u = 9): a key's public key is X25519(key, base)
const base = Buffer.alloc(32)
base[0] = 9

const intro = "age-encryption.org/v1\n"
const chunk = 64 * 1024
const tag = 16

/** Imports a raw X25519 scalar; the caller may wipe `raw` afterwards. */
export async function x25519(raw: Uint8Array): Promise<X25519> {
    const der = Buffer.concat([pkcs8Prefix, raw])
    try {
        const key = await webcrypto.subtle.importKey("pkcs8", der, { name: "X25519" }, false, ["deriveBits"])
        return { key, public: await ecdh(key, base) }
    } finally {
        der.fill(0)
    }
}

/** X25519(key, point), refusing a low-order point (an all-zero result). */
async function ecdh(key: webcrypto.CryptoKey, point: Uint8Array): Promise<Buffer> {
    let shared: Buffer
    try {
        const pub = await webcrypto.subtle.importKey("raw", point, { name: "X25519" }, true, [])
        shared = Buffer.from(await webcrypto.subtle.deriveBits({ name: "X25519", public: pub }, key, 256))
    } catch {
        // OpenSSL itself refuses an all-zero shared secret
        throw new Error("invalid X25519 share")
    }
    if (shared.every(b => b === 0)) throw new Error("invalid X25519 share")
    return shared
}

/**
 * Decrypts an age file with an X25519 identity. Anything that is not an authentic age file for
 * this identity throws; a message never holds plaintext.
 */
export async function decrypt(id: X25519, file: Uint8Array): Promise<Buffer> {
    const data = Buffer.from(file.buffer, file.byteOffset, file.byteLength)
    const { stanzas, signed, mac, end } = header(data)
    alone(stanzas)
    let fileKey: Buffer | undefined
    for (const s of stanzas) {
        if (s.type !== "X25519") continue
        if (s.args.length !== 1 || s.body.length !== 32) throw new Error("malformed X25519 stanza")
        fileKey = await unwrap(id, b64(s.args[0] ?? "", 32), s.body)
        if (fileKey !== undefined) break
    }
    if (fileKey === undefined) throw new Error(unmatched)
    try {
        const want = createHmac("sha256", hkdf(fileKey, Buffer.alloc(0), "header")).update(signed).digest()
        if (!timingSafeEqual(want, mac)) throw new Error("bad header MAC")
        if (data.length < end + 16) throw new Error("file too short")
        const nonce = data.subarray(end, end + 16)
        return payload(hkdf(fileKey, nonce, "payload"), data.subarray(end + 16))
    } finally {
        fileKey.fill(0)
    }
}

// typage's words, so that `foreign` reads both decrypters alike
const unmatched = "no identity matched any of the file's recipients"

/**
 * Whether a decrypt failure (this file's or typage's, for a post-quantum key) says the file is for
 * other recipients, rather than damaged or not an age file. Only "no recipient stanza opened"
 * says that, and a damaged stanza body looks the same; but a header that does not parse (a share
 * of the wrong length, bad base64), a header MAC that fails once a stanza opened, or a payload
 * that fails its tag is damage whoever holds the key, and asking for a file to another key would
 * send the person after the wrong cause.
 */
export function foreign(e: unknown): boolean {
    return e instanceof Error && e.message === unmatched
}

interface Stanza { type: string; args: string[]; body: Buffer }

/**
 * Refuses a file whose header holds an scrypt stanza beside another, before any identity reads it:
 * for the decrypters that are not this file's (typage, post-quantum keys), which check this only
 * when decrypting with a passphrase. Anything else about the header is left to the decrypter.
 */
export function lone(file: Uint8Array): void {
    let stanzas: Stanza[]
    try {
        stanzas = header(Buffer.from(file.buffer, file.byteOffset, file.byteLength)).stanzas
    } catch {
        return
    }
    alone(stanzas)
}

/**
 * age requires a passphrase (scrypt) stanza to be the only one (CCTV's scrypt_and_x25519): a file
 * that also names a recipient was not made by a conforming encrypter. Go's age refuses it whatever
 * the identity; typage only when decrypting with a passphrase.
 */
function alone(stanzas: readonly Stanza[]): void {
    if (stanzas.length > 1 && stanzas.some(s => s.type === "scrypt")) throw new Error("malformed header: an scrypt stanza must be alone")
}

/** The stanzas, the bytes the MAC covers, the MAC and where the payload starts. */
function header(data: Buffer): { stanzas: Stanza[]; signed: Buffer; mac: Buffer; end: number } {
    if (data.toString("latin1", 0, intro.length) !== intro) throw new Error("not an age file (no age-encryption.org/v1 header)")
    let at = intro.length
    const line = (): string => {
        const nl = data.indexOf(0x0a, at)
        if (nl < 0) throw new Error("truncated header")
        const text = data.toString("latin1", at, nl)
        at = nl + 1
        return text
    }
    const stanzas: Stanza[] = []
    for (;;) {
        const start = at
        const l = line()
        if (l.startsWith("---")) {
            const m = /^--- ([A-Za-z0-9+/]{43})$/.exec(l)
            if (m?.[1] === undefined) throw new Error("malformed header MAC line")
            if (stanzas.length === 0) throw new Error("no recipients in header")
            return { stanzas, signed: data.subarray(0, start + 3), mac: b64(m[1], 32), end: at }
        }
        const [arrow, type, ...args] = l.split(" ")
        if (arrow !== "->" || type === undefined || [type, ...args].some(a => !/^[\x21-\x7e]+$/.test(a))) throw new Error("malformed stanza line")
        // the body: base64 lines of 64 characters, ended by a shorter (perhaps empty) one
        let body = ""
        for (;;) {
            const b = line()
            if (b.length > 64) throw new Error("stanza body line too long")
            body += b
            if (b.length < 64) break
        }
        stanzas.push({ type, args, body: b64(body) })
    }
}

/** Strict unpadded base64, as age writes it; `size` when the length is fixed. */
function b64(s: string, size?: number): Buffer {
    const b = Buffer.from(s, "base64")
    if (!/^[A-Za-z0-9+/]*$/.test(s) || b.toString("base64").replace(/=+$/, "") !== s || (size !== undefined && b.length !== size)) {
        throw new Error("malformed base64 in header")
    }
    return b
}

function hkdf(ikm: Uint8Array, salt: Uint8Array, info: string): Buffer {
    return Buffer.from(hkdfSync("sha256", ikm, salt, info, 32))
}

/** ChaCha20-Poly1305 open; undefined when the tag does not match. */
function open(key: Uint8Array, nonce: Uint8Array, sealed: Buffer): Buffer | undefined {
    const d = createDecipheriv("chacha20-poly1305", key, nonce, { authTagLength: tag })
    d.setAuthTag(sealed.subarray(sealed.length - tag))
    const out = d.update(sealed.subarray(0, sealed.length - tag))
    try {
        return Buffer.concat([out, d.final()])
    } catch {
        out.fill(0)
        return undefined
    }
}

/** The file key from an X25519 stanza, or undefined when it is for another identity. */
async function unwrap(id: X25519, share: Buffer, body: Buffer): Promise<Buffer | undefined> {
    const shared = await ecdh(id.key, share)
    const wrap = hkdf(shared, Buffer.concat([share, id.public]), "age-encryption.org/v1/X25519")
    shared.fill(0)
    const key = open(wrap, Buffer.alloc(12), body)
    wrap.fill(0)
    if (key !== undefined && key.length !== 16) throw new Error("malformed file key")
    return key
}

/** The STREAM payload: chunks of 64 KiB, each with a counter nonce whose last byte marks the final one. */
function payload(key: Buffer, sealed: Buffer): Buffer {
    const parts: Buffer[] = []
    const nonce = Buffer.alloc(12)
    try {
        for (let at = 0, n = 0; ; n++) {
            const last = sealed.length - at <= chunk + tag
            const size = last ? sealed.length - at : chunk + tag
            if (size < tag) throw new Error("truncated payload")
            if (last && size === tag && n > 0) throw new Error("empty final chunk")
            nonce.writeUIntBE(n, 5, 6)
            nonce[11] = last ? 1 : 0
            const plain = open(key, nonce, sealed.subarray(at, at + size))
            if (plain === undefined) throw new Error(`payload chunk ${n} failed authentication`)
            parts.push(plain)
            at += size
            if (last) break
        }
        return parts.length === 1 ? parts[0] ?? Buffer.alloc(0) : Buffer.concat(parts)
    } finally {
        key.fill(0)
        if (parts.length > 1) for (const p of parts) p.fill(0)
    }
}
