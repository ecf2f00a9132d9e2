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
     * `o.step` is called at each stage (for crash tests).
     */
    rotate(o?: { step?: (at: Step) => void }): Promise<Rotated>
    /**
     * Authenticates the rows written before rows carried a MAC, once, by the key's holder: each is
     * decrypted with our key (which proves the key and the row's binding) and given its MAC.
     * Returns their names, for the person who vouches for them to see.
     */
    upgrade(): Promise<Array<{ scope: string; key: string }>>
    close(): void
}

// text that UTF-8 cannot carry byte for byte (checked without copying the value)
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * Opens the vault of `paths`: the database now, the identity on first need. With `create`, a
 * missing identity at the default path is created then; an explicit MCPLEXER_AGE_KEY never is.
 */
export function open(paths: config.Paths, o: { actor: string; create?: boolean }): Vault {
    const s = store.open(paths.db)
    const { actor } = o
    const opts = o.create === undefined ? {} : { create: o.create }

    const identity = (): Promise<Identity> => keyring.get(paths, s, opts)
    /** The identity that reads rows encrypted to `recipients`: ours, or a fresher one if another process rotated. */
    const reader = async (...recipients: string[]): Promise<Identity> => {
        const id = await identity()
        return recipients.every(r => r === id.recipient) ? id : keyring.reload(paths, s, id)
    }
    const audit = (row: Omit<store.audit.Row, "actor">) => store.audit.add(s, { ...row, actor })
    const failed = (e: unknown) => ({ error: message(e) })

    const bytes = async (scope: string, key: string): Promise<Buffer> => {
        config.checkName("scope", scope)
        config.checkName("key", key)
        const row = store.secrets.get(s, scope, key)
        if (row === undefined) {
            audit({ action: "get", scope, key, status: "missing" })
            throw notFound(scope, key)
        }
        try {
            const value = await cipher.open(await reader(row.recipient), row)
            audit({ action: "get", scope, key, status: "ok" })
            return value
        } catch (e) {
            audit({ action: "get", scope, key, status: "error", detail: failed(e) })
            throw e
        }
    }

    return {
        store: s,

        async recipient() {
            return (await identity()).recipient
        },

        async put(scope, key, value) {
            config.checkName("scope", scope)
            config.checkName("key", key)
            if (typeof value === "string" && loneSurrogate.test(value)) {
                throw hinted(`value of secret ${cipher.name(scope, key)} is not valid Unicode text`, "give it as bytes (a file or stdin) or as text")
            }
            const data = typeof value === "string" ? Buffer.from(value, "utf8") : value
            try {
                return await put(scope, key, data)
            } finally {
                if (data !== value) data.fill(0)
            }
        },

        async get(scope, key) {
            const value = await bytes(scope, key)
            try {
                return cipher.text(scope, key, value)
            } finally {
                value.fill(0)
            }
        },

        bytes,

        list(scope) {
            if (scope !== undefined) config.checkName("scope", scope)
            return store.secrets.list(s, scope)
        },

        delete(scope, key) {
            config.checkName("scope", scope)
            config.checkName("key", key)
            const gone = store.atomic(s, () => {
                const r = store.secrets.remove(s, scope, key)
                audit({ action: "delete", scope, key, status: r ? "ok" : "missing" })
                return r
            })
            if (!gone) throw notFound(scope, key)
        },

        async scope(scope, why) {
            config.checkName("scope", scope)
            const rows = store.secrets.rows(s, scope)
            const row = { action: "resolve", scope, ...(why.server === undefined ? {} : { server: why.server }) }
            const detail = { keys: rows.map(r => r.key), reason: why.reason }
            try {
                const out = new Map<string, string>()
                if (rows.length > 0) {
                    const id = await reader(...rows.map(r => r.recipient))
                    const values = await Promise.all(rows.map(r => cipher.open(id, r)))
                    try {
                        for (const [i, r] of rows.entries()) out.set(r.key, cipher.text(r.scope, r.key, values[i] ?? Buffer.alloc(0), why.server))
                    } finally {
                        for (const v of values) v.fill(0)
                    }
                }
                audit({ ...row, status: "ok", detail })
                return out
            } catch (e) {
                audit({ ...row, status: "error", detail: { ...detail, ...failed(e) } })
                throw e
            }
        },

        async rotate(o) {
            const { rotate } = await import("./rotate.ts")
            return rotate(paths, s, actor, o?.step)
        },

        async upgrade() {
            const { upgrade } = await import("./rotate.ts")
            return upgrade(paths, s, actor)
        },

        close() {
            s.close()
        },
    }

    async function put(scope: string, key: string, value: Uint8Array): Promise<boolean> {
        if (value.length === 0) throw hinted(`value of secret ${cipher.name(scope, key)} is empty`, `to remove it: mcplexer secret delete ${scope} ${key}`)
        if (value.includes(0)) {
            throw hinted(`value of secret ${cipher.name(scope, key)} contains a NUL byte; nothing was stored`,
                "secrets become environment variables and headers, which cannot hold NUL: store it encoded (e.g. base64)")
        }
        let id = await identity()
        for (let attempt = 0; ; attempt++) {
            const sealed = await cipher.seal(id, scope, key, value)
            const wrote = store.atomic(s, () => {
                const rows = store.secrets.recipients(s)
                if (rows !== undefined && (rows.min !== id.recipient || rows.max !== id.recipient)) return rows
                const replaced = store.secrets.put(s, { scope, key, ...sealed })
                audit({ action: "put", scope, key, status: "ok", detail: { replaced } })
                return replaced
            })
            if (typeof wrote === "boolean") return wrote
            // the other rows are encrypted to another key: perhaps another process rotated it
            const other = wrote.min === id.recipient ? wrote.max : wrote.min
            const fresher = await keyring.reload(paths, s, id)
            if (fresher === id || attempt > 0) {
                audit({ action: "put", scope, key, status: "error", detail: { error: "encrypted to another key", store: other, key: id.recipient } })
                throw hinted(`the secrets in ${JSON.stringify(s.path)} are encrypted to ${other}, but the key file ${JSON.stringify(id.path)} is ${id.recipient}`,
                    `set MCPLEXER_AGE_KEY to the key file of ${other}`)
            }
            id = fresher
        }
    }
}
