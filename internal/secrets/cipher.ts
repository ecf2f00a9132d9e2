import { DecryptError, message } from "./errors.ts"
import type { Identity } from "./identity.ts"

/** The plaintext's first line: it binds a ciphertext to its row, so a row moved elsewhere is refused. */
export function header(scope: string, key: string): string {
    return `mcplexer-secret/v1 ${scope} ${key}\n`
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })

/** Encrypts `value` for (scope, key) to the identity's own recipient. */
export async function seal(id: Identity, scope: string, key: string, value: string): Promise<Buffer> {
    const head = Buffer.from(header(scope, key))
    const body = Buffer.from(value, "utf8")
    const plain = new Uint8Array(head.length + body.length)
    plain.set(head)
    plain.set(body, head.length)
    body.fill(0)
    try {
        return Buffer.from(await id.encrypt(plain))
    } finally {
        plain.fill(0)
    }
}

/** Names a row in messages: "scope/key", quoted. */
export function name(scope: string, key: string): string {
    return JSON.stringify(`${scope}/${key}`)
}

/**
 * Decrypts the ciphertext of row (scope, key) and checks that it was made for that row. Every
 * failure is a DecryptError naming the row; its message never holds any of the plaintext.
 */
export async function open(id: Identity, scope: string, key: string, recipient: string, ciphertext: Uint8Array): Promise<string> {
    if (recipient !== id.recipient) throw wrongKey(id, scope, key, recipient)
    let plain: Uint8Array
    try {
        plain = await id.decrypt(ciphertext)
    } catch (e) {
        // the recipient column matched, so a failure here is damage, whatever typage calls it
        const why = message(e)
        throw new DecryptError(scope, key, `cannot decrypt secret ${name(scope, key)}: ${why}`,
            `the stored ciphertext was damaged or tampered with; store the value again with: mcplexer secret put ${scope} ${key}`, { cause: e })
    }
    try {
        const nl = plain.indexOf(0x0a)
        const want = header(scope, key)
        const got = nl < 0 ? undefined : Buffer.from(plain.subarray(0, nl + 1)).toString("latin1")
        if (got !== want) {
            const m = got === undefined ? null : /^mcplexer-secret\/v1 (\S+) (\S+)\n$/.exec(got)
            const where = m?.[1] !== undefined && m[2] !== undefined ? `belongs to ${name(m[1], m[2])}` : "is not a mcplexer secret"
            throw new DecryptError(scope, key, `the ciphertext stored as secret ${name(scope, key)} ${where}`,
                `a row was copied or moved inside the database; store the value again with: mcplexer secret put ${scope} ${key}`)
        }
        try {
            return utf8.decode(plain.subarray(nl + 1))
        } catch (e) {
            throw new DecryptError(scope, key, `secret ${name(scope, key)} is not valid UTF-8`,
                `store the value again with: mcplexer secret put ${scope} ${key}`, { cause: e })
        }
    } finally {
        plain.fill(0)
    }
}

/** Our key is not the one the row was encrypted to. */
export function wrongKey(id: Identity, scope: string, key: string, recipient: string): DecryptError {
    return new DecryptError(scope, key,
        `secret ${name(scope, key)} is encrypted to ${recipient}, but the key file ${JSON.stringify(id.path)} is ${id.recipient}`,
        `set MCPLEXER_AGE_KEY to the key file of ${recipient} (a rotated-out key is kept beside age.key as age.key.old-…)`)
}
