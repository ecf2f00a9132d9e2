import * as config from "../config/index.ts"
import * as store from "../store/index.ts"
import * as cipher from "./cipher.ts"
import { hinted, message, notFound } from "./errors.ts"
import type { Identity } from "./identity.ts"
import * as keyring from "./keyring.ts"
import type { Rotated, Step } from "./rotate.ts"

/** One stored secret as `list` shows it: never its value. */
export type Entry = store.secrets.Entry

/** The secrets of one database, encrypted to one age identity. */
export interface Vault {
    readonly store: store.Store
    /** The public key new values are encrypted to (loads the identity). */
    recipient(): Promise<string>
    /**
     * Stores a value: any bytes but NUL (a string is stored as UTF-8); true when it replaced one.
     * The value is never logged nor audited.
     */
    put(scope: string, key: string, value: string | Uint8Array): Promise<boolean>
    /** One value as text, to inject. NotFoundError when not stored, DecryptError when it cannot be read, an error when it is not UTF-8. */
    get(scope: string, key: string): Promise<string>
    /** One value's exact bytes. NotFoundError when not stored, DecryptError when it cannot be read. */
    bytes(scope: string, key: string): Promise<Buffer>
    /** What is stored, sorted by scope and key; never decrypts and never loads the key. */
    list(scope?: string): Entry[]
    /** Removes one value; NotFoundError when not stored. */
    delete(scope: string, key: string): void
    /** Every key of a scope, decrypted, as text to inject; one audit row (scope, keys, server, reason), never values. */
    scope(scope: string, why: { server?: string; reason: string }): Promise<Map<string, string>>
    /**
     * Re-encrypts every secret to a new identity and keeps the old key file beside the new one.
     * `o.step` is called at each stage (for crash tests). `o.pq` true makes the new identity
     * post-quantum, false classic; by default it is of the current kind.
     */
    rotate(o?: { step?: (at: Step) => void; pq?: boolean }): Promise<Rotated>
    /**
     * Authenticates the rows 0.1 wrote, before rows carried a MAC, once, by the key's holder: each
     * is decrypted with our key (which proves the key and the row's binding) and given its MAC.
     * Returns their names, for the person who vouches for them to see. Once every row carries a
     * MAC the store is marked, and a row without one is refused here as tampered with, never adopted.
     */
    upgrade(): Promise<Array<{ scope: string; key: string }>>
    /**
     * From now on sends the audit rows of reads (get, bytes, scope) to `sink` rather than writing
     * each at once: the gateway's trail (gateway/audit.ts), which never makes a call wait for the
     * database's lock. Writes keep their rows inside their own transaction. undefined: back to
     * writing at once.
     */
    divert(sink: ((row: store.audit.Row) => void) | undefined): void
    close(): void
}

// text that UTF-8 cannot carry byte for byte (checked without copying the value)
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * Opens the vault of `paths`: the database now, the identity on first need. With `create`, a
 * missing identity at the default path is created then; an explicit MCPLEXER_AGE_KEY never is.
 */
export function open(paths: config.Paths, o: { actor: string; create?: boolean }): Vault {
    return new Local(paths, store.open(paths.db), o.actor, o.create === undefined ? {} : { create: o.create })
}

/** The vault of one local database. */
class Local implements Vault {
    readonly store: store.Store
    private readonly paths: config.Paths
    private readonly actor: string
    private readonly opts: { create?: boolean }
    private sink: ((row: store.audit.Row) => void) | undefined

    constructor(paths: config.Paths, s: store.Store, actor: string, opts: { create?: boolean }) {
        this.paths = paths
        this.store = s
        this.actor = actor
        this.opts = opts
    }

    private identity(): Promise<Identity> {
        return keyring.get(this.paths, this.store, this.opts)
    }

    /** The identity that reads rows encrypted to `recipients`: ours, or a fresher one if another process rotated. */
    private async reader(...recipients: string[]): Promise<Identity> {
        const id = await this.identity()
        return recipients.every(r => r === id.recipient) ? id : keyring.reload(this.paths, this.store, id)
    }

    private audit(row: Omit<store.audit.Row, "actor">): void {
        store.audit.add(this.store, { ...row, actor: this.actor })
    }

    /** The audit row of a read: to the sink when there is one (a call must not wait on it), else written now. */
    private noted(row: Omit<store.audit.Row, "actor">): void {
        if (this.sink === undefined) this.audit(row)
        else this.sink({ ...row, actor: this.actor })
    }

    divert(sink: ((row: store.audit.Row) => void) | undefined): void {
        this.sink = sink
    }

    async recipient(): Promise<string> {
        return (await this.identity()).recipient
    }

    async put(scope: string, key: string, value: string | Uint8Array): Promise<boolean> {
        config.checkName("scope", scope)
        config.checkName("key", key)
        if (typeof value === "string" && loneSurrogate.test(value)) {
            throw hinted(`value of secret ${cipher.name(scope, key)} is not valid Unicode text`, "give it as bytes (a file or stdin) or as text")
        }
        const data = typeof value === "string" ? Buffer.from(value, "utf8") : value
        try {
            return await this.write(scope, key, data)
        } finally {
            if (data !== value) data.fill(0)
        }
    }

    private async write(scope: string, key: string, value: Uint8Array): Promise<boolean> {
        if (value.length === 0) throw hinted(`value of secret ${cipher.name(scope, key)} is empty`, `to remove it: mcplexer secret delete ${scope} ${key}`)
        if (value.includes(0)) {
            throw hinted(`value of secret ${cipher.name(scope, key)} contains a NUL byte; nothing was stored`,
                "secrets become environment variables and headers, which cannot hold NUL: store it encoded (e.g. base64)")
        }
        const s = this.store
        let id = await this.identity()
        for (let attempt = 0; ; attempt++) {
            const sealed = await cipher.seal(id, scope, key, value)
            const wrote = store.atomic(s, () => {
                const rows = store.secrets.recipients(s)
                if (rows !== undefined && (rows.min !== id.recipient || rows.max !== id.recipient)) return rows
                const replaced = store.secrets.put(s, { scope, key, ...sealed })
                // the last row 0.1 left may just have been replaced: from here on a row without a MAC is tampering
                store.meta.seal(s)
                this.audit({ action: "put", scope, key, status: "ok", detail: { replaced } })
                return replaced
            })
            if (typeof wrote === "boolean") return wrote
            // the other rows are encrypted to another key: perhaps another process rotated it
            const other = wrote.min === id.recipient ? wrote.max : wrote.min
            const fresher = await keyring.reload(this.paths, s, id)
            if (fresher === id || attempt > 0) {
                this.audit({ action: "put", scope, key, status: "error", detail: { error: "encrypted to another key", store: other, key: id.recipient } })
                throw hinted(`the secrets in ${JSON.stringify(s.path)} are encrypted to ${other}, but the key file ${JSON.stringify(id.path)} is ${id.recipient}`,
                    `set MCPLEXER_AGE_KEY to the key file of ${other}`)
            }
            id = fresher
        }
    }

    async get(scope: string, key: string): Promise<string> {
        const value = await this.bytes(scope, key)
        try {
            return cipher.text(scope, key, value)
        } finally {
            value.fill(0)
        }
    }

    async bytes(scope: string, key: string): Promise<Buffer> {
        config.checkName("scope", scope)
        config.checkName("key", key)
        const row = store.secrets.get(this.store, scope, key)
        if (row === undefined) {
            this.noted({ action: "get", scope, key, status: "missing" })
            throw notFound(scope, key)
        }
        try {
            const value = await cipher.open(await this.reader(row.recipient), row, { since: () => store.meta.authenticated(this.store) })
            this.noted({ action: "get", scope, key, status: "ok" })
            return value
        } catch (e) {
            this.noted({ action: "get", scope, key, status: "error", detail: { error: message(e) } })
            throw e
        }
    }

    list(scope?: string): Entry[] {
        if (scope !== undefined) config.checkName("scope", scope)
        return store.secrets.list(this.store, scope)
    }

    delete(scope: string, key: string): void {
        config.checkName("scope", scope)
        config.checkName("key", key)
        const gone = store.atomic(this.store, () => {
            const r = store.secrets.remove(this.store, scope, key)
            store.meta.seal(this.store)
            this.audit({ action: "delete", scope, key, status: r ? "ok" : "missing" })
            return r
        })
        if (!gone) throw notFound(scope, key)
    }

    async scope(scope: string, why: { server?: string; reason: string }): Promise<Map<string, string>> {
        config.checkName("scope", scope)
        const rows = store.secrets.rows(this.store, scope)
        const row = { action: "resolve", scope, ...(why.server === undefined ? {} : { server: why.server }) }
        const detail = { keys: rows.map(r => r.key), reason: why.reason }
        try {
            const out = new Map<string, string>()
            if (rows.length > 0) {
                const id = await this.reader(...rows.map(r => r.recipient))
                const since = () => store.meta.authenticated(this.store)
                const values = await Promise.all(rows.map(r => cipher.open(id, r, { since })))
                try {
                    for (const [i, r] of rows.entries()) out.set(r.key, cipher.text(r.scope, r.key, values[i] ?? Buffer.alloc(0), why.server))
                } finally {
                    for (const v of values) v.fill(0)
                }
            }
            this.noted({ ...row, status: "ok", detail })
            return out
        } catch (e) {
            this.noted({ ...row, status: "error", detail: { ...detail, error: message(e) } })
            throw e
        }
    }

    async rotate(o?: { step?: (at: Step) => void; pq?: boolean }): Promise<Rotated> {
        const { rotate } = await import("./rotate.ts")
        return rotate(this.paths, this.store, this.actor, o?.step, o?.pq === undefined ? {} : { pq: o.pq })
    }

    async upgrade(): Promise<Array<{ scope: string; key: string }>> {
        const { upgrade } = await import("./rotate.ts")
        return upgrade(this.paths, this.store, this.actor)
    }

    close(): void {
        this.store.close()
    }
}
