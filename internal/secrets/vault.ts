import * as config from "../config/index.ts"
import * as store from "../store/index.ts"
import * as cipher from "./cipher.ts"
import { hinted, message, notFound, NotFoundError } from "./errors.ts"
import type { Identity } from "./identity.ts"
import * as keyring from "./keyring.ts"
import * as mark from "./mark.ts"
import type { Reencrypted, Rotated, Step, Upgraded } from "./rotate.ts"
import * as share from "./share.ts"
import * as write from "./write.ts"
import type { PutOptions } from "./write.ts"

export type { PutOptions } from "./write.ts"

/** One stored secret as `list` shows it: never its value. */
export type Entry = store.secrets.Entry

/** The secrets of one database, encrypted to one age identity. */
export interface Vault {
    readonly store: store.Store
    /** The public key new values are encrypted to (loads the identity). */
    recipient(): Promise<string>
    /**
     * Stores a value: any bytes but NUL (a string is stored as UTF-8); true when it replaced one.
     * The value is never logged nor audited. In a shared scope it is encrypted to the scope's
     * recipients too (the first value of a scope whose config names recipients shares it).
     * `o.expires`: when the value stops being valid; `o.next`: staged beside the current value
     * (which must exist), unused until `promote`.
     */
    put(scope: string, key: string, value: string | Uint8Array, o?: PutOptions): Promise<boolean>
    /**
     * Makes the value staged beside (scope, key) its current value, in one transaction (its update
     * time changes, so `serve` restarts the scope's instances); NotFoundError when none is staged.
     */
    promote(scope: string, key: string): Promise<void>
    /** The values staged beside the keys of a scope (`put --next`), by key: for the redaction registry only, never injected. */
    staged(scope: string, why: { server?: string; reason: string }): Promise<Map<string, string>>
    /** Every current value of a scope, as exact bytes, for `secret export`; one audit row, never values. The caller wipes them. */
    export(scope: string): Promise<Map<string, Buffer>>
    /**
     * Re-encrypts the rows of `scopes` (every scope with rows or a key, when undefined) to the
     * recipients `c` declares for each, under a new scope key (or the identity's own MAC when it
     * declares none), each scope in one transaction as `rotate` does. Returns what changed.
     */
    reencrypt(c: config.Config, scopes?: string[], o?: { step?: (at: Step) => void }): Promise<Reencrypted[]>
    /** One value as text, to inject. NotFoundError when not stored, DecryptError when it cannot be read, an error when it is not UTF-8. */
    get(scope: string, key: string): Promise<string>
    /** One value's exact bytes. NotFoundError when not stored, DecryptError when it cannot be read. */
    bytes(scope: string, key: string): Promise<Buffer>
    /** What is stored, sorted by scope and key; never decrypts and never loads the key. */
    list(scope?: string): Entry[]
    /** An age file encrypted to our identity (binary or armored), decrypted: what `secret import` reads. The caller wipes it. */
    decrypt(file: Uint8Array): Promise<Uint8Array>
    /** Each shared scope's key id and recipients (besides the owner) as stored, by scope; never decrypts. */
    shared(): Map<string, { id: string; recipients: string[] }>
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
     * Returns their names, for the person who vouches for them to see, and what became of the key
     * file's mark line. Once anything shows that the store authenticates its rows (the key's mark
     * line, the database's mark, a row with a MAC: mark.ts), a row without one is refused here as
     * tampered with, never adopted.
     */
    upgrade(): Promise<Upgraded>
    /**
     * From now on sends the audit rows of reads (get, bytes, scope) to `sink` rather than writing
     * each at once: the gateway's trail (gateway/audit.ts), which never makes a call wait for the
     * database's lock. Writes keep their rows inside their own transaction. undefined: back to
     * writing at once.
     */
    divert(sink: ((row: store.audit.Row) => void) | undefined): void
    close(): void
}

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

    put(scope: string, key: string, value: string | Uint8Array, o: PutOptions = {}): Promise<boolean> {
        return write.put({ paths: this.paths, store: this.store, identity: () => this.identity(), audit: row => this.audit(row) }, scope, key, value, o)
    }

    /**
     * The identity and options that open `rows` of `scope`. As the owner: our identity (reloaded if
     * another process rotated it) and, when a row is sealed under the scope's key, that key with its
     * owner's tag checked. When the rows name another owner and the config lists our own public key
     * among the scope's recipients, as a reader (share.ts); otherwise cipher.open refuses them.
     */
    private async opener(scope: string, rows: cipher.Stored[]): Promise<{ id: Identity; o: { share?: share.ScopeKey; reader?: boolean } }> {
        const id = await this.reader(...rows.map(r => r.recipient))
        const keyed = rows.some(r => r.scopeKey !== null && r.scopeKey !== undefined)
        if (rows.every(r => r.recipient === id.recipient)) {
            const row = keyed ? store.shares.get(this.store, scope) : undefined
            return { id, o: row === undefined ? {} : { share: await share.open(id, row) } }
        }
        const c = await share.settings(this.paths)
        const row = store.shares.get(this.store, scope)
        if (c === undefined || row === undefined || !share.declared(c, scope).includes(id.recipient)) return { id, o: {} }
        return { id, o: { share: await share.open(id, row, { reader: true }), reader: true } }
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
        for (let attempt = 0; ; attempt++) {
            const row = store.secrets.get(this.store, scope, key)
            if (row === undefined) {
                this.noted({ action: "get", scope, key, status: "missing" })
                throw notFound(scope, key)
            }
            try {
                const { id, o } = await this.opener(scope, [row])
                const value = await cipher.open(id, row, { evidence: () => mark.evidence(id, this.store), ...o })
                this.noted({ action: "get", scope, key, status: "ok" })
                return value
            } catch (e) {
                if (attempt < 2 && changed(this.store, [row])) continue
                this.noted({ action: "get", scope, key, status: "error", detail: { error: message(e) } })
                throw e
            }
        }
    }

    list(scope?: string): Entry[] {
        if (scope !== undefined) config.checkName("scope", scope)
        return store.secrets.list(this.store, scope)
    }

    async decrypt(file: Uint8Array): Promise<Uint8Array> {
        const { dearmor } = await import("./export.ts")
        const id = await this.identity()
        try {
            return await id.decrypt(await dearmor(file))
        } catch (e) {
            if (e instanceof config.Hinted) throw e
            throw hinted(`cannot decrypt the file with the key ${JSON.stringify(id.path)} (${id.recipient}): ${message(e)}`,
                (await import("./age.ts")).foreign(e)
                    ? "it was not encrypted to this key: ask for it to be exported to your public key (mcplexer key show prints it)"
                    : "the file is damaged or is not an age file: ask for it to be exported again, and copy it as a binary file (or as text made with --armor)", { cause: e })
        }
    }

    shared(): Map<string, { id: string; recipients: string[] }> {
        return new Map(store.shares.all(this.store).map(r => [r.scope, { id: r.id, recipients: share.listed(r) }]))
    }

    delete(scope: string, key: string): void {
        config.checkName("scope", scope)
        config.checkName("key", key)
        const gone = store.atomic(this.store, () => {
            // a value staged beside it goes with it: it was only ever its successor
            store.secrets.remove(this.store, scope, store.secrets.staged(key))
            const r = store.secrets.remove(this.store, scope, key)
            store.meta.seal(this.store)
            this.audit({ action: "delete", scope, key, status: r ? "ok" : "missing" })
            return r
        })
        if (!gone) throw notFound(scope, key)
    }

    async scope(scope: string, why: { server?: string; reason: string }): Promise<Map<string, string>> {
        return this.texts(scope, why, false)
    }

    async staged(scope: string, why: { server?: string; reason: string }): Promise<Map<string, string>> {
        return this.texts(scope, why, true)
    }

    /** The current (or staged) values of a scope as text, with one audit row. */
    private async texts(scope: string, why: { server?: string; reason: string }, next: boolean): Promise<Map<string, string>> {
        config.checkName("scope", scope)
        const values = await this.decrypted(scope, { action: next ? "resolve-next" : "resolve", ...why }, next)
        const out = new Map<string, string>()
        try {
            for (const [key, v] of values) out.set(key, cipher.text(scope, key, v, why.server))
        } finally {
            for (const v of values.values()) v.fill(0)
        }
        return out
    }

    async export(scope: string): Promise<Map<string, Buffer>> {
        config.checkName("scope", scope)
        return this.decrypted(scope, { action: "export", reason: "secret export" }, false)
    }

    /** The current (or staged: by their key's name) values of a scope as bytes, with one audit row (keys, never values). */
    private async decrypted(scope: string, why: { action: string; server?: string; reason: string }, next: boolean, attempt = 0): Promise<Map<string, Buffer>> {
        const rows = store.secrets.rows(this.store, scope).filter(r => store.secrets.isStaged(r.key) === next)
        // no staged value: nothing was decrypted, and no audit row says otherwise
        if (next && rows.length === 0) return new Map()
        const row = { action: why.action, scope, ...(why.server === undefined ? {} : { server: why.server }) }
        const detail = { keys: rows.map(r => r.key), reason: why.reason }
        try {
            const out = new Map<string, Buffer>()
            if (rows.length > 0) {
                const { id, o } = await this.opener(scope, rows)
                const evidence = () => mark.evidence(id, this.store)
                const values = await Promise.all(rows.map(r => cipher.open(id, r, { evidence, ...o })))
                for (const [i, r] of rows.entries()) out.set(next ? r.key.slice(0, -":next".length) : r.key, values[i] ?? Buffer.alloc(0))
            }
            this.noted({ ...row, status: "ok", detail })
            return out
        } catch (e) {
            if (attempt < 2 && changed(this.store, rows)) return this.decrypted(scope, why, next, attempt + 1)
            this.noted({ ...row, status: "error", detail: { ...detail, error: message(e) } })
            throw e
        }
    }

    async promote(scope: string, key: string): Promise<void> {
        config.checkName("scope", scope)
        config.checkName("key", key)
        const s = this.store
        const name = store.secrets.staged(key)
        for (let attempt = 0; attempt < 3; attempt++) {
            const row = store.secrets.get(s, scope, name)
            if (row === undefined) {
                throw new NotFoundError(`no value is staged beside secret ${cipher.name(scope, key)}`, `stage one with: mcplexer secret put ${scope} ${key} --next`)
            }
            const { id, o } = await this.opener(scope, [row])
            const value = await cipher.open(id, row, { evidence: () => mark.evidence(id, s), ...o })
            let sealed: cipher.Sealed
            const was = store.shares.get(s, scope)
            try {
                // sealed again under its own name (the staged ciphertext names KEY:next, and is refused
                // as KEY), and under the scope's key as it is now
                sealed = await cipher.seal(id, scope, key, value, was === undefined ? undefined : await share.open(id, was))
            } finally {
                value.fill(0)
            }
            const done = store.atomic(s, () => {
                const now = store.secrets.get(s, scope, name)
                if (now === undefined || Buffer.compare(now.ciphertext, row.ciphertext) !== 0) return false
                if (store.shares.get(s, scope)?.id !== was?.id) return false
                store.secrets.put(s, { scope, key, ...sealed, expiresAt: row.expiresAt })
                store.secrets.remove(s, scope, name)
                this.audit({ action: "promote", scope, key, status: "ok" })
                return true
            })
            if (done) return
        }
        throw hinted(`the value staged beside ${cipher.name(scope, key)} kept changing`, "try again")
    }

    async reencrypt(c: config.Config, scopes?: string[], o?: { step?: (at: Step) => void }): Promise<Reencrypted[]> {
        const { reencrypt } = await import("./rotate.ts")
        return reencrypt(this.paths, this.store, this.actor, c, scopes, o?.step)
    }

    async rotate(o?: { step?: (at: Step) => void; pq?: boolean }): Promise<Rotated> {
        const { rotate } = await import("./rotate.ts")
        return rotate(this.paths, this.store, this.actor, o?.step, o?.pq === undefined ? {} : { pq: o.pq })
    }

    async upgrade(): Promise<Upgraded> {
        const { upgrade } = await import("./rotate.ts")
        return upgrade(this.paths, this.store, this.actor)
    }

    close(): void {
        this.store.close()
    }
}

/**
 * Whether any of `rows` was rewritten or removed since it was read. A re-encryption or key
 * rotation that commits between a reader's reading a row and its scope's key leaves the two
 * from different sides of the commit (each read is its own snapshot): the reader reads again.
 */
function changed(s: store.Store, rows: cipher.Stored[]): boolean {
    return rows.some(r => {
        const now = store.secrets.get(s, r.scope, r.key)
        return now === undefined || Buffer.compare(now.ciphertext, r.ciphertext) !== 0
    })
}
