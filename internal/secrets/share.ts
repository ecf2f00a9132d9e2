/**
 * Shared scopes (DESIGN decision 13): a scope whose config names `recipients` (or a
 * `recipients_file`) has its rows encrypted to the local identity and to each of them, and their
 * MACs keyed by a random per-scope key kept in an age file encrypted to the same recipients
 * (store.shares). Whoever can decrypt the scope can so verify its rows; a row forged, moved to
 * another scope or key, or left without a MAC is refused all the same.
 *
 * What each reader can trust. The owner (the identity the rows name) also checks the scope key's
 * tag, an HMAC keyed from its identity, which no one else can make: a key substituted by someone
 * who can merely write the database is refused, so for the owner nothing is weaker than before.
 * A teammate cannot check that tag (age files carry no signature), so for a teammate a verified
 * row proves it was written by a holder of the scope key and belongs to that scope and key; who
 * made the key rests on the channel the copy came by. A teammate reads only scopes whose config
 * lists its own public key, so that rows made to look foreign never turn the owner into a reader.
 */
import { createHash, randomBytes, webcrypto } from "node:crypto"
import { readFileSync } from "node:fs"
import * as config from "../config/index.ts"
import type * as store from "../store/index.ts"
import { DecryptError, hinted, message } from "./errors.ts"
import type { Identity } from "./identity.ts"
import * as recipients from "./recipients.ts"

/** A scope's MAC key, decrypted and imported (non-extractable). */
export interface ScopeKey {
    scope: string
    /** the digest its rows name (`secrets.scope_key`) */
    id: string
    /** who the scope's rows are encrypted to besides the owner, sorted */
    recipients: string[]
    mac: webcrypto.CryptoKey
}

// the plaintext's first line binds a key to its scope, as a row's header binds a value to its row
const header = (scope: string) => `mcplexer-scope-key/v1 ${scope}\n`

/** What the owner's tag covers: a label, then scope, owner, recipients and ciphertext, each length-prefixed. */
function tagged(scope: string, owner: string, list: string, ciphertext: Uint8Array): Buffer {
    return framed([Buffer.from("mcplexer-scope-key-tag/v1"), Buffer.from(scope), Buffer.from(owner), Buffer.from(list), ciphertext])
}

/** Parts joined, each preceded by its length (4 bytes, big-endian), so no two lists frame alike. */
export function framed(parts: Uint8Array[]): Buffer {
    const out = Buffer.alloc(parts.reduce((n, p) => n + 4 + p.length, 0))
    let at = 0
    for (const p of parts) {
        at = out.writeUInt32BE(p.length, at)
        out.set(p, at)
        at += p.length
    }
    return out
}

/** The id rows name: a digest of the key's ciphertext. */
function digest(ciphertext: Uint8Array): string {
    return createHash("sha256").update(ciphertext).digest("hex").slice(0, 32)
}

async function importMac(raw: Uint8Array): Promise<webcrypto.CryptoKey> {
    return webcrypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"])
}

/** A new scope key for `scope`, encrypted to the owner `id` and to `list`, with the owner's tag. */
export async function make(id: Identity, scope: string, list: readonly string[], at = new Date()): Promise<{ row: store.shares.Row; key: ScopeKey }> {
    const sorted = normal(list, id.recipient)
    recipients.check([id.recipient, ...sorted], `scope ${JSON.stringify(scope)}`)
    const raw = randomBytes(32)
    const head = Buffer.from(header(scope))
    const plain = Buffer.concat([head, raw])
    try {
        const ciphertext = Buffer.from(await id.encrypt(plain, sorted))
        const text = sorted.join(" ")
        const row = { scope, id: digest(ciphertext), owner: id.recipient, recipients: text, ciphertext, tag: await id.sign(tagged(scope, id.recipient, text, ciphertext)), createdAt: at }
        return { row, key: { scope, id: row.id, recipients: sorted, mac: await importMac(raw) } }
    } finally {
        raw.fill(0)
        plain.fill(0)
    }
}

/** Sorted, unique, without the owner (who is always a recipient). */
export function normal(list: readonly string[], owner: string): string[] {
    return [...new Set(list.map(r => r.trim()).filter(r => r !== "" && r !== owner))].sort()
}

/** A stored key row's recipients, as a list. */
export function listed(row: Pick<store.shares.Row, "recipients">): string[] {
    return row.recipients === "" ? [] : row.recipients.split(" ")
}

// per identity: the scope keys it opened, by scope key id (a key never changes under its id)
const opened = new WeakMap<Identity, Map<string, Promise<ScopeKey>>>()

/**
 * Opens a scope's key row with `id`. As the owner (`reader` false) it first checks the owner's
 * tag; as a reader (a teammate, see the file's comment) it needs its own key among the
 * recipients. Every failure is a DecryptError naming the scope, never holding key material.
 */
export function open(id: Identity, row: store.shares.Row, o: { reader?: boolean } = {}): Promise<ScopeKey> {
    let m = opened.get(id)
    if (m === undefined) opened.set(id, m = new Map<string, Promise<ScopeKey>>())
    const memo = `${o.reader ? "r" : "o"}:${row.id}:${row.owner}:${row.recipients}:${Buffer.from(row.tag).toString("hex")}`
    let p = m.get(memo)
    if (p === undefined) {
        const q = unseal(id, row, o.reader === true)
        m.set(memo, p = q)
        const mm = m
        q.catch(() => mm.delete(memo))
    }
    return p
}

async function unseal(id: Identity, row: store.shares.Row, reader: boolean): Promise<ScopeKey> {
    const { scope } = row
    const list = listed(row)
    const q = JSON.stringify(scope)
    const redo = `the owner of the database can make a new one with: mcplexer secret reencrypt ${scope}`
    if (reader) {
        if (!list.includes(id.recipient)) {
            throw new DecryptError(scope, "", `scope ${q} is not shared with ${id.recipient}`, `ask its owner to add your public key to the scope's recipients and run: mcplexer secret reencrypt ${scope}`)
        }
    } else {
        if (row.owner !== id.recipient) {
            throw new DecryptError(scope, "", `the key of scope ${q} belongs to ${row.owner}, but the key file ${JSON.stringify(id.path)} is ${id.recipient}`, redo)
        }
        if (row.id !== digest(row.ciphertext) || !await id.verify(tagged(scope, row.owner, row.recipients, row.ciphertext), row.tag)) {
            throw new DecryptError(scope, "", `the key of scope ${q} fails its authentication check: it was not made with the key ${JSON.stringify(id.path)}`,
                `anyone who can write the database can encrypt a key of their own, so it may be forged; check who can write it, then: mcplexer secret reencrypt ${scope}`)
        }
    }
    if (row.id !== digest(row.ciphertext)) throw new DecryptError(scope, "", `the key of scope ${q} does not match its id`, redo)
    let plain: Uint8Array
    try {
        plain = await id.decrypt(row.ciphertext)
    } catch (e) {
        throw new DecryptError(scope, "", `cannot decrypt the key of scope ${q}: ${message(e)}`, redo, { cause: e })
    }
    try {
        const head = Buffer.from(header(scope))
        if (plain.length !== head.length + 32 || Buffer.compare(Buffer.from(plain.subarray(0, head.length)), head) !== 0) {
            throw new DecryptError(scope, "", `the key stored for scope ${q} was made for another scope`, redo)
        }
        return { scope, id: row.id, recipients: list, mac: await importMac(plain.subarray(head.length)) }
    } finally {
        plain.fill(0)
    }
}

/** HMAC-SHA256 of `data` under a scope key. */
export async function sign(k: ScopeKey, data: Uint8Array): Promise<Buffer> {
    return Buffer.from(await webcrypto.subtle.sign("HMAC", k.mac, data))
}

/** Whether `mac` is `sign(k, data)`, compared in constant time. */
export function verify(k: ScopeKey, data: Uint8Array, mac: Uint8Array): Promise<boolean> {
    return webcrypto.subtle.verify("HMAC", k.mac, mac, data)
}

/**
 * The recipients a scope declares (its `recipients` and the lines of its `recipients_file`),
 * sorted and unique, without `owner`; post-quantum mixed with classic is refused. A scope the
 * config does not declare has none.
 */
export function declared(c: config.Config, scope: string, owner?: string): string[] {
    const s = c.scopes.get(scope)
    if (s === undefined) return []
    const list = [...s.recipients ?? []]
    if (s.recipientsFile !== undefined) list.push(...file(s.recipientsFile, scope))
    const out = owner === undefined ? normal(list, "") : normal(list, owner)
    recipients.check(owner === undefined ? out : [owner, ...out], `scope ${JSON.stringify(scope)}`)
    return out
}

/** The recipients in a file of age's -R format: one a line, `#` comments and blank lines skipped. */
export function file(path: string, scope: string): string[] {
    let text: string
    try {
        text = readFileSync(path, "utf8")
    } catch (e) {
        throw hinted(`cannot read the recipients file ${JSON.stringify(path)} of scope ${JSON.stringify(scope)}: ${(e as NodeJS.ErrnoException).code ?? message(e)}`,
            "create it (one age public key a line, # comments allowed), or remove recipients_file from the scope", { cause: e })
    }
    const out: string[] = []
    for (const [i, raw] of text.split("\n").entries()) {
        const line = raw.trim()
        if (line === "" || line.startsWith("#")) continue
        if (!/^age1(?:pq1)?[02-9ac-hj-np-z]{20,}$/.test(line)) {
            throw hinted(`line ${i + 1} of the recipients file ${JSON.stringify(path)} is not an age public key`, "each line holds one age1… key (age-keygen -y prints it); # starts a comment")
        }
        out.push(line)
    }
    return out
}

/** Loads the config at `paths` for its declared recipients; undefined when it cannot be read. */
export async function settings(paths: config.Paths): Promise<config.Config | undefined> {
    try {
        return await config.load(paths.config)
    } catch {
        return undefined
    }
}

/** A scope whose rows are not encrypted to the recipients its config declares. */
export interface Drift {
    scope: string
    /** the recipients the config declares, besides the owner */
    want: string[]
    /** the recipients its key is encrypted to now (empty: the owner alone) */
    have: string[]
    /** how many of its rows are not sealed for `want` */
    rows: number
}

/**
 * The scopes whose stored recipients differ from the declared ones, or whose rows are not all
 * sealed under the scope's key: from the index alone (no decryption), for `doctor` and `put`.
 * A scope whose recipients file cannot be read is left to the caller (declared throws).
 */
export function drift(c: config.Config, v: { list(scope?: string): Array<{ scope: string; scopeKey: string | null }>; shared(): Map<string, { id: string; recipients: string[] }> }, only?: string): Drift[] {
    const shared = v.shared()
    const entries = v.list(only)
    const names = only !== undefined ? [only] : [...new Set([...c.scopes.keys(), ...shared.keys(), ...entries.map(e => e.scope)])].sort()
    const out: Drift[] = []
    for (const scope of names) {
        const want = declared(c, scope)
        const k = shared.get(scope)
        const have = k?.recipients ?? []
        const id = want.length === 0 ? null : k?.id
        const rows = entries.filter(e => e.scope === scope && e.scopeKey !== id).length
        if (want.join(" ") !== have.join(" ") || rows > 0) out.push({ scope, want, have, rows })
    }
    return out
}
