/**
 * How a value is stored (`put`): the checks on the value, sealing it (under its scope's key when
 * the scope is shared), and the one transaction that writes its row and its audit row. The
 * transaction retries when another process changed the scope's key or rotated the identity since
 * the value was sealed, so concurrent writers never lose an update nor mix keys.
 */
import * as config from "../config/index.ts"
import * as store from "../store/index.ts"
import * as cipher from "./cipher.ts"
import { hinted } from "./errors.ts"
import type { Identity } from "./identity.ts"
import * as keyring from "./keyring.ts"
import * as mark from "./mark.ts"
import * as share from "./share.ts"

/** How a value is stored. */
export interface PutOptions {
    /** when it stops being valid (shown by list, warned about by doctor, serve and the web UI) */
    expires?: Date
    /** stage it beside the current value, for `promote` */
    next?: boolean
}

/** What a write needs of the vault it goes through. */
export interface Target {
    readonly paths: config.Paths
    readonly store: store.Store
    /** our identity, loaded on first need: a value refused before it is sealed needs no key */
    identity(): Promise<Identity>
    /** writes one audit row, inside the write's transaction */
    audit(row: Omit<store.audit.Row, "actor">): void
}

// text that UTF-8 cannot carry byte for byte (checked without copying the value)
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** Stores a value through `t` (see Vault.put); true when it replaced one. A copy made of a string is wiped. */
export async function put(t: Target, scope: string, key: string, value: string | Uint8Array, o: PutOptions = {}): Promise<boolean> {
    config.checkName("scope", scope)
    config.checkName("key", key)
    if (typeof value === "string" && loneSurrogate.test(value)) {
        throw hinted(`value of secret ${cipher.name(scope, key)} is not valid Unicode text`, "give it as bytes (a file or stdin) or as text")
    }
    const data = typeof value === "string" ? Buffer.from(value, "utf8") : value
    try {
        return await write(t, scope, key, data, o)
    } finally {
        if (data !== value) data.fill(0)
    }
}

/** The recipients the config declares for `scope`, besides `owner`; none when the config cannot be read. */
async function declared(paths: config.Paths, scope: string, owner: string): Promise<string[]> {
    const c = await share.settings(paths)
    return c === undefined ? [] : share.declared(c, scope, owner)
}

/** Refuses an empty value or one with a NUL byte, then seals it and stores it in one transaction, sealed again when a key changed meanwhile. */
async function write(t: Target, scope: string, key: string, value: Uint8Array, o: PutOptions): Promise<boolean> {
    if (value.length === 0) throw hinted(`value of secret ${cipher.name(scope, key)} is empty`, `to remove it: mcplexer secret delete ${scope} ${key}`)
    if (value.includes(0)) {
        throw hinted(`value of secret ${cipher.name(scope, key)} contains a NUL byte; nothing was stored`,
            "secrets become environment variables and headers, which cannot hold NUL: store it encoded (e.g. base64)")
    }
    const s = t.store
    const name = o.next ? store.secrets.staged(key) : key
    const action = o.next ? "stage" : "put"
    let id = await t.identity()
    for (let attempt = 0; ; attempt++) {
        // a shared scope's rows are sealed under its key; the first value of a scope whose config names recipients makes one
        const was = store.shares.get(s, scope)
        let k: share.ScopeKey | undefined
        let made: store.shares.Row | undefined
        if (was !== undefined) {
            if (was.owner !== id.recipient) {
                const fresher = await keyring.reload(t.paths, s, id)
                if (fresher !== id && attempt < 3) {
                    id = fresher
                    continue
                }
            }
            k = await share.open(id, was)
        } else {
            const list = await declared(t.paths, scope, id.recipient)
            if (list.length > 0) ({ key: k, row: made } = await share.make(id, scope, list))
        }
        const sealed = await cipher.seal(id, scope, name, value, k)
        const wrote = store.atomic(s, () => {
            const rows = store.secrets.recipients(s)
            if (rows !== undefined && (rows.min !== id.recipient || rows.max !== id.recipient)) return rows
            // the scope's key changed meanwhile (made, replaced or removed by another process): seal again
            if (store.shares.get(s, scope)?.id !== was?.id) return "again"
            // a row with a MAC (or a scope key) in a store 0.1 left would make its own rows look forged
            // to key upgrade (mark.ts): those are vouched for first
            // evidence first: a marked store (the usual one) answers by its key, with no scan of the rows
            const old = mark.evidence(id, s) === undefined ? store.meta.unauthenticated(s, { scope, key: name }) : undefined
            if (old !== undefined) {
                throw hinted(`this database still holds secrets mcplexer 0.1 stored without a MAC (secret ${cipher.name(old.scope, old.key)} among them); nothing was stored`,
                    "authenticate them first with: mcplexer key upgrade (it lists each one), then store this value again", { kind: "conflict" })
            }
            if (made !== undefined) store.shares.set(s, made)
            if (o.next && !store.secrets.has(s, scope, key)) {
                throw hinted(`secret ${cipher.name(scope, key)} is not stored, so there is nothing to stage a next value beside`,
                    `store it as the current value with: mcplexer secret put ${scope} ${key}`, { kind: "missing" })
            }
            const replaced = store.secrets.put(s, { scope, key: name, ...sealed, expiresAt: o.expires ?? null })
            // the last row 0.1 left may just have been replaced: from here on a row without a MAC is tampering
            store.meta.seal(s)
            t.audit({ action, scope, key, status: "ok", detail: { replaced, ...(o.expires === undefined ? {} : { expires: o.expires.toISOString() }), ...(k === undefined ? {} : { shared: k.recipients.length }) } })
            return replaced
        })
        if (typeof wrote === "boolean") return wrote
        if (wrote === "again") {
            if (attempt > 3) throw hinted(`the key of scope ${JSON.stringify(scope)} kept changing`, "try again")
            continue
        }
        // the other rows are encrypted to another key: perhaps another process rotated it
        const other = wrote.min === id.recipient ? wrote.max : wrote.min
        const fresher = await keyring.reload(t.paths, s, id)
        if (fresher === id || attempt > 0) {
            t.audit({ action, scope, key, status: "error", detail: { error: "encrypted to another key", store: other, key: id.recipient } })
            throw hinted(`the secrets in ${JSON.stringify(s.path)} are encrypted to ${other}, but the key file ${JSON.stringify(id.path)} is ${id.recipient}`,
                `set MCPLEXER_AGE_KEY to the key file of ${other}`)
        }
        id = fresher
    }
}
