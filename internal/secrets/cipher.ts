import { DecryptError, hinted, message } from "./errors.ts"
import type { Identity } from "./identity.ts"
import * as share from "./share.ts"

/** The plaintext's first line: it binds a ciphertext to its row, so a row moved elsewhere is refused. */
export function header(scope: string, key: string): string {
    return `mcplexer-secret/v1 ${scope} ${key}\n`
}

/**
 * A row as the vault stores it: the age file and the MAC that says we wrote it; `scopeKey` names
 * the shared scope's key that keys the MAC (null: keyed from the identity, encrypted to it alone).
 */
export interface Sealed { recipient: string; ciphertext: Buffer; mac: Buffer; scopeKey: string | null }

/** A row as read back; `mac` is null on a row written before rows were authenticated. */
export interface Stored { scope: string; key: string; recipient: string; ciphertext: Uint8Array; mac: Uint8Array | null; scopeKey?: string | null }

/**
 * What a row's MAC covers: a label, then scope, key and ciphertext, each preceded by its length
 * (4 bytes, big-endian), so that no two rows have the same message. A MAC under a scope key has
 * its own label, so neither kind of MAC can ever stand for the other.
 */
export function signed(scope: string, key: string, ciphertext: Uint8Array, shared = false): Buffer {
    return share.framed([Buffer.from(shared ? "mcplexer-row/v2" : "mcplexer-row/v1"), Buffer.from(scope), Buffer.from(key), ciphertext])
}

/**
 * Encrypts `value` (any bytes) for (scope, key) to the identity's own recipient, and to the
 * scope's recipients when `k` (its scope key) is given, and authenticates the row: under `k`, or
 * with the identity's own row key.
 */
export async function seal(id: Identity, scope: string, key: string, value: Uint8Array, k?: share.ScopeKey): Promise<Sealed> {
    const head = Buffer.from(header(scope, key))
    const plain = new Uint8Array(head.length + value.length)
    plain.set(head)
    plain.set(value, head.length)
    try {
        if (k === undefined) {
            const ciphertext = Buffer.from(await id.encrypt(plain))
            return { recipient: id.recipient, ciphertext, mac: await id.sign(signed(scope, key, ciphertext)), scopeKey: null }
        }
        if (k.scope !== scope) throw new Error(`internal: the key of scope ${JSON.stringify(k.scope)} sealing a row of ${JSON.stringify(scope)}`)
        const ciphertext = Buffer.from(await id.encrypt(plain, k.recipients))
        return { recipient: id.recipient, ciphertext, mac: await share.sign(k, signed(scope, key, ciphertext, true)), scopeKey: k.id }
    } finally {
        plain.fill(0)
    }
}

/** Names a row in messages: "scope/key", quoted. */
export function name(scope: string, key: string): string {
    return JSON.stringify(`${scope}/${key}`)
}

/**
 * Checks that row (scope, key) was written by the holder of our identity, or of its scope's key
 * (its MAC), decrypts it and checks that it was made for that row; returns the value's bytes.
 * Every failure is a DecryptError naming the row; its message never holds any of the plaintext.
 * `o.legacy` lets a row without a MAC through (for `upgrade` alone); `o.evidence` tells, when a
 * row has none, what shows that the store authenticates its rows (mark.ts), which makes it tampering. `o.share` is the scope's key, needed by a row sealed under one; `o.reader`
 * reads as a teammate (share.ts): the row names another owner, and only a scope-key MAC can be checked.
 */
export async function open(id: Identity, r: Stored, o: { legacy?: boolean; evidence?: () => Evidence | undefined; share?: share.ScopeKey; reader?: boolean } = {}): Promise<Buffer> {
    const { scope, key } = r
    if (r.recipient !== id.recipient && !o.reader) throw wrongKey(id, scope, key, r.recipient)
    const again = `store the value again with: mcplexer secret put ${scope} ${key}`
    if (r.mac === null) {
        if (!o.legacy || o.reader) throw unauthenticated(scope, key, o.reader ? { kind: "mark", since: new Date(0) } : o.evidence?.())
    } else if (r.scopeKey !== null && r.scopeKey !== undefined) {
        if (o.share === undefined || o.share.id !== r.scopeKey || o.share.scope !== scope) {
            throw new DecryptError(scope, key, `secret ${name(scope, key)} names a key of its scope that is not the scope's`,
                `the row was copied or forged, or the scope's key was replaced; check who can write the database, then ${again}`)
        }
        if (!await share.verify(o.share, signed(scope, key, r.ciphertext, true), r.mac)) {
            throw new DecryptError(scope, key, `secret ${name(scope, key)} fails its authentication check under the key of scope ${JSON.stringify(scope)}`,
                `anyone who can write the database can encrypt to the public keys, so this row may be forged; check who can write it, then ${again}`)
        }
    } else if (o.reader) {
        throw new DecryptError(scope, key, `secret ${name(scope, key)} was sealed for its owner alone, so ${id.recipient} cannot check it`,
            `the owner of the database shares it with: mcplexer secret reencrypt ${scope}`)
    } else if (!await id.verify(signed(scope, key, r.ciphertext), r.mac)) {
        throw new DecryptError(scope, key, `secret ${name(scope, key)} fails its authentication check: it was not written with the key ${JSON.stringify(id.path)}`,
            `anyone who can write the database can encrypt to the public key, so this row may be forged; check who can write it, ` +
            `then ${again}`)
    }
    let plain: Uint8Array
    try {
        plain = await id.decrypt(r.ciphertext)
    } catch (e) {
        // the recipient column matched (or its MAC did), so a failure here is damage, whatever the reader calls it
        throw new DecryptError(scope, key, `cannot decrypt secret ${name(scope, key)}: ${message(e)}`,
            `the stored ciphertext was damaged or tampered with; ${again}`, { cause: e })
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
        return Buffer.from(plain.subarray(nl + 1))
    } finally {
        plain.fill(0)
    }
}

/**
 * What shows that a store authenticates its rows, so that a row without a MAC in it was written
 * around mcplexer rather than by 0.1 (see mark.ts, which looks for it): the database's own mark
 * (store.meta), the identity's mark line (identity.mark), a row that carries a MAC, a shared
 * scope's key. The first three a database writer can remove; the identity's line it cannot reach.
 */
export type Evidence =
    | { kind: "mark"; since: Date }
    | { kind: "key"; path: string }
    | { kind: "row"; scope: string; key: string }
    | { kind: "share"; scope: string }

/** The evidence in words, as the clause after "though" ("…has no MAC, though …"); `where` names the database. */
export function though(e: Evidence, where: string): string {
    switch (e.kind) {
        case "mark": return `every row of ${where} has carried one since ${e.since.toISOString()}`
        case "key": return `the key file ${JSON.stringify(e.path)} says its store authenticates every row`
        case "row": return `secret ${name(e.scope, e.key)} of ${where} carries one, which mcplexer 0.1 never wrote`
        case "share": return `scope ${JSON.stringify(e.scope)} of ${where} has a shared key, which mcplexer 0.1 never made`
    }
}

/**
 * A row without a MAC. In a store nothing shows to authenticate its rows (`evidence` undefined) it
 * may be one 0.1 wrote, trusted once the key's holder vouches for it; otherwise it can only have
 * been written around mcplexer (the MAC set to NULL, a value encrypted to the public key), and the
 * hint must not send the person to the command that would adopt it.
 */
export function unauthenticated(scope: string, key: string, evidence?: Evidence): DecryptError {
    if (evidence !== undefined) {
        return new DecryptError(scope, key, `secret ${name(scope, key)} has no MAC, though ${though(evidence, "this database")}: it was not written by mcplexer`,
            "a missing MAC on an upgraded database means the row was tampered with, not stored by an older mcplexer, so `mcplexer key upgrade` will not adopt it; " +
            `check who can write the database, then store the value again with: mcplexer secret put ${scope} ${key} (or remove it: mcplexer secret delete ${scope} ${key})`)
    }
    return new DecryptError(scope, key, `secret ${name(scope, key)} was stored before rows were authenticated, and is not trusted`,
        "if the secrets stored by mcplexer 0.1 are yours, authenticate them once with: mcplexer key upgrade (it lists each one; " +
        "it adopts nothing once every row of the database carries a MAC)")
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })

/**
 * A value as text, for what only carries text: environment variables (Node passes them as UTF-8
 * and cannot hold NUL), HTTP headers and tool-call arguments. A value that is not UTF-8 is refused
 * here, at the moment it would be injected, rather than changed; `secret get` prints its bytes.
 */
export function text(scope: string, key: string, value: Uint8Array, server?: string): string {
    const to = server === undefined ? "" : ` to server ${JSON.stringify(server)}`
    let s: string
    try {
        s = utf8.decode(value)
    } catch (e) {
        throw hinted(`secret ${name(scope, key)} is not UTF-8 text, so it cannot be passed${to} as an environment variable, header or argument`,
            `these carry text only; \`mcplexer secret get ${scope} ${key}\` prints its exact bytes, or store it encoded (e.g. base64)`, { cause: e })
    }
    if (s.includes("\0")) {
        throw hinted(`secret ${name(scope, key)} contains a NUL byte, so it cannot be passed${to} as an environment variable, header or argument`,
            `store it encoded (e.g. base64): mcplexer secret put ${scope} ${key}`)
    }
    return s
}

/** Our key is not the one the row was encrypted to. */
export function wrongKey(id: Identity, scope: string, key: string, recipient: string): DecryptError {
    return new DecryptError(scope, key,
        `secret ${name(scope, key)} is encrypted to ${recipient}, but the key file ${JSON.stringify(id.path)} is ${id.recipient}`,
        `set MCPLEXER_AGE_KEY to the key file of ${recipient} (a rotated-out key is kept beside age.key as age.key.old-…)`)
}
