import { createHash, webcrypto } from "node:crypto"
import { Decrypter, Encrypter, generateX25519Identity, identityToRecipient } from "age-encryption"
// typage's own dependency (it exports no bech32 helper); used to get the raw X25519 scalar
import { bech32 } from "@scure/base"
import { hinted } from "./errors.ts"

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
    decrypter: Decrypter
    encrypter: Encrypter
}

// PKCS#8 wrapping of a raw 32-byte X25519 private key (RFC 8410)
const pkcs8Prefix = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20])

/** The sha256 of a key file's bytes. */
export function digest(bytes: Uint8Array): string {
    return createHash("sha256").update(bytes).digest("hex")
}

/**
 * Parses a key file in the age-keygen format: `#` comment lines, blank lines and exactly one
 * `AGE-SECRET-KEY-1…` (or post-quantum `AGE-SECRET-KEY-PQ-1…`) line. An error never quotes a line,
 * since a malformed line may be a key.
 */
export function parse(text: string, path: string): { secret: string; created?: Date } {
    const found: string[] = []
    let created: Date | undefined
    const lines = text.split("\n")
    for (const [i, raw] of lines.entries()) {
        const line = raw.replace(/\r$/, "").trim()
        if (line === "") continue
        if (line.startsWith("#")) {
            const m = /^#\s*created:\s*(\S+)/.exec(line)
            const t = m?.[1] === undefined ? NaN : Date.parse(m[1])
            if (!Number.isNaN(t)) created = new Date(t)
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
    return created === undefined ? { secret } : { secret, created }
}

/**
 * Imports a key file's bytes. An X25519 key becomes a non-extractable WebCrypto key (about twice
 * as fast to decrypt with, and no key string kept); a post-quantum key stays a string, as typage
 * takes it.
 */
export async function load(bytes: Uint8Array, path: string): Promise<Identity> {
    const { secret, created } = parse(Buffer.from(bytes).toString("utf8"), path)
    let key: webcrypto.CryptoKey | string = secret
    if (!secret.startsWith("AGE-SECRET-KEY-PQ-1")) {
        let raw: Uint8Array
        try {
            const d = bech32.decodeToBytes(secret)
            if (d.prefix.toUpperCase() !== "AGE-SECRET-KEY-" || d.bytes.length !== 32) throw new Error("wrong prefix or length")
            raw = d.bytes
        } catch (e) {
            throw hinted(`key file ${JSON.stringify(path)} holds a malformed age identity`, `it should hold one AGE-SECRET-KEY-1… line, as written by age-keygen`, { cause: e })
        }
        const pkcs8 = new Uint8Array(pkcs8Prefix.length + raw.length)
        pkcs8.set(pkcs8Prefix)
        pkcs8.set(raw, pkcs8Prefix.length)
        try {
            key = await webcrypto.subtle.importKey("pkcs8", pkcs8, { name: "X25519" }, false, ["deriveBits"])
        } finally {
            pkcs8.fill(0)
            raw.fill(0)
        }
    }
    let recipient: string
    try {
        recipient = await identityToRecipient(key)
    } catch (e) {
        throw hinted(`key file ${JSON.stringify(path)} holds a malformed age identity`, `it should hold one AGE-SECRET-KEY-1… line, as written by age-keygen`, { cause: e })
    }
    const decrypter = new Decrypter()
    decrypter.addIdentity(key)
    const encrypter = new Encrypter()
    encrypter.addRecipient(recipient)
    const id: Identity = { path, recipient, digest: digest(bytes), decrypter, encrypter }
    if (created !== undefined) id.created = created
    return id
}

/** A new X25519 identity as key file bytes in the age-keygen format (RFC 3339 time in UTC). */
export async function generate(now = new Date()): Promise<{ bytes: Buffer; recipient: string }> {
    const secret = await generateX25519Identity()
    const recipient = await identityToRecipient(secret)
    const created = now.toISOString().replace(/\.\d+Z$/, "Z")
    return { bytes: Buffer.from(`# created: ${created}\n# public key: ${recipient}\n${secret}\n`), recipient }
}
