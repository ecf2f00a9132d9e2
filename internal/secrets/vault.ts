import { and, asc, eq } from "drizzle-orm"
import * as config from "../config/index.ts"
import * as store from "../store/index.ts"
import * as cipher from "./cipher.ts"
import { hinted, message } from "./errors.ts"
import type { Identity } from "./identity.ts"
import * as keyring from "./keyring.ts"
import { fetch, notFound } from "./read.ts"
import type { Rotated, Step } from "./rotate.ts"

/** One stored secret as `list` shows it: never its value. */
export interface Entry {
    scope: string
    key: string
    updatedAt: Date
    /** the public key the value is encrypted to */
    recipient: string
}

/** The secrets of one database, encrypted to one age identity. */
export interface Vault {
    readonly store: store.Store
    /** The public key new values are encrypted to (loads the identity). */
    recipient(): Promise<string>
    /** Stores a value; true when it replaced one. The value is never logged nor audited. */
    put(scope: string, key: string, value: string): Promise<boolean>
    /** One value, decrypted. NotFoundError when not stored, DecryptError when it cannot be read. */
    get(scope: string, key: string): Promise<string>
    /** What is stored, sorted by scope and key; never decrypts and never loads the key. */
    list(scope?: string): Entry[]
    /** Removes one value; NotFoundError when not stored. */
    delete(scope: string, key: string): void
    /** Every key of a scope, decrypted; one audit row (scope, keys, server, reason), never values. */
    scope(scope: string, why: { server?: string; reason: string }): Promise<Map<string, string>>
    /**
     * Re-encrypts every secret to a new identity and keeps the old key file beside the new one.
     * `o.step` is called at each stage (for crash tests).
     */
    rotate(o?: { step?: (at: Step) => void }): Promise<Rotated>
    close(): void
}

// text that UTF-8 cannot carry byte for byte (checked without copying the value)
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

function name(scope: string, key: string): string {
    return JSON.stringify(`${scope}/${key}`)
}

/**
 * Opens the vault of `paths`: the database now, the identity on first need. With `create`, a
 * missing identity at the default path is created then; an explicit MCPLEXER_AGE_KEY never is.
 */
export function open(paths: config.Paths, o: { actor: string; create?: boolean }): Vault {
    const s = store.open(paths.db)
    const t = store.schema.secrets
    const { actor } = o
    const opts = o.create === undefined ? {} : { create: o.create }

    const identity = (): Promise<Identity> => keyring.get(paths, s, opts)
    /** The identity that reads rows encrypted to `recipients`: ours, or a fresher one if another process rotated. */
    const reader = async (...recipients: string[]): Promise<Identity> => {
        const id = await identity()
        return recipients.every(r => r === id.recipient) ? id : keyring.reload(paths, s, id)
    }
    const audit = (row: Omit<store.Row, "actor">) => store.audit(s, { ...row, actor })
    const guard = <T>(fn: () => T): T => store.guard(s, fn)
    const failed = (e: unknown) => ({ error: message(e) })

    return {
        store: s,

        async recipient() {
            return (await identity()).recipient
        },

        async put(scope, key, value) {
            config.checkName("scope", scope)
            config.checkName("key", key)
            if (value === "") throw hinted(`value of secret ${name(scope, key)} is empty`, `to remove it: mcplexer secret delete ${scope} ${key}`)
            if (value.includes("\0")) throw hinted(`value of secret ${name(scope, key)} contains a NUL byte`, "secrets become environment variables, which cannot hold NUL bytes")
            if (loneSurrogate.test(value)) throw hinted(`value of secret ${name(scope, key)} is not valid Unicode text`, "store text (UTF-8); encode binary values as base64 first")
            let id = await identity()
            for (let attempt = 0; ; attempt++) {
                const sealed = await cipher.seal(id, scope, key, value)
                const now = new Date()
                const wrote = guard(() => s.db.transaction(() => {
                    const rows = keyring.recipients(s)
                    if (rows !== undefined && (rows.min !== id.recipient || rows.max !== id.recipient)) return rows
                    const before = s.db.select({ scope: t.scope }).from(t).where(and(eq(t.scope, scope), eq(t.key, key))).get()
                    s.db.insert(t).values({ scope, key, recipient: id.recipient, ciphertext: sealed, createdAt: now, updatedAt: now })
                        .onConflictDoUpdate({ target: [t.scope, t.key], set: { recipient: id.recipient, ciphertext: sealed, updatedAt: now } }).run()
                    audit({ action: "put", scope, key, status: "ok", detail: { replaced: before !== undefined } })
                    return before !== undefined
                }, { behavior: "immediate" }))
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
        },

        get(scope, key) {
            return fetch(s, paths, scope, key, actor)
        },

        list(scope) {
            if (scope !== undefined) config.checkName("scope", scope)
            const q = s.db.select({ scope: t.scope, key: t.key, updatedAt: t.updatedAt, recipient: t.recipient }).from(t)
            return guard(() => (scope === undefined ? q : q.where(eq(t.scope, scope))).orderBy(asc(t.scope), asc(t.key)).all())
        },

        delete(scope, key) {
            config.checkName("scope", scope)
            config.checkName("key", key)
            const gone = guard(() => s.db.transaction(() => {
                const r = s.db.delete(t).where(and(eq(t.scope, scope), eq(t.key, key))).run()
                audit({ action: "delete", scope, key, status: r.changes > 0 ? "ok" : "missing" })
                return r.changes > 0
            }))
            if (!gone) throw notFound(scope, key)
        },

        async scope(scope, why) {
            config.checkName("scope", scope)
            const rows = guard(() => s.db.select().from(t).where(eq(t.scope, scope)).orderBy(asc(t.key)).all())
            const row = { action: "resolve", scope, ...(why.server === undefined ? {} : { server: why.server }) }
            const detail = { keys: rows.map(r => r.key), reason: why.reason }
            try {
                const out = new Map<string, string>()
                if (rows.length > 0) {
                    const id = await reader(...rows.map(r => r.recipient))
                    const values = await Promise.all(rows.map(r => cipher.open(id, r.scope, r.key, r.recipient, r.ciphertext)))
                    for (const [i, r] of rows.entries()) out.set(r.key, values[i] ?? "")
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

        close() {
            s.close()
        },
    }
}
