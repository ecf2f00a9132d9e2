import type * as config from "../config/index.ts"
import * as store from "../store/index.ts"
import * as cipher from "./cipher.ts"
import { hinted } from "./errors.ts"
import { readPrivate, writeNew } from "./file.ts"
import * as identity from "./identity.ts"
import * as keyring from "./keyring.ts"
import * as mark from "./mark.ts"
import { atRest } from "./protect.ts"
import * as share from "./share.ts"

/** What a rotation did. */
export interface Rotated {
    /** how many secrets were re-encrypted */
    count: number
    /** the new public key */
    recipient: string
    /** where the previous key is kept until the user removes it */
    old: string
}

/** The moments a rotation passes through, in order; a crash test may stop the process at any of them. */
export type Step = "decrypted" | "encrypted" | "staged" | "committed" | "finished"

class Retry extends Error {}

/**
 * Re-encrypts every secret to a new identity. The crypto runs first; the rows then change in one
 * synchronous transaction; the key files change after it (see keyring). Killed at any point, the
 * store is left wholly old or wholly new, and the next load finishes or discards what was left.
 */
export async function rotate(paths: config.Paths, s: store.Store, actor: string, step?: (at: Step) => void, o: { pq?: boolean } = {}): Promise<Rotated> {
    const next = keyring.nextPath(paths.key)
    for (let attempt = 0; attempt < 3; attempt++) {
        let current = await keyring.get(paths, s, {})
        const rows = store.secrets.rows(s)
        if (rows.some(r => r.recipient !== current.recipient)) current = await keyring.reload(paths, s, current)
        // every row's MAC is checked here: a forged row (or one never upgraded) stops the rotation
        const evidence = () => mark.evidence(current, s)
        // each shared scope's key is checked (its owner's tag) and opened, then made anew for the new identity
        const keys = store.shares.all(s)
        const olds = new Map(await Promise.all(keys.map(async k => [k.scope, await share.open(current, k)] as const)))
        const values = await Promise.all(rows.map(r => cipher.open(current, r, { evidence, ...shareOf(olds, r.scope) })))
        step?.("decrypted")

        const created = new Date()
        // the new key is post-quantum when asked (--pq), classic when refused (--no-pq), else of the current kind
        const fresh = await identity.generate(created, { pq: o.pq ?? current.recipient.startsWith("age1pq1") })
        // and kept at rest as the current one is: under the same passphrase, or in the OS keychain
        const loaded = await identity.load(fresh.bytes, paths.key)
        const stored = await atRest(current.form, fresh.bytes, loaded.recipient, paths.key)
        const id = { ...loaded, form: current.form, digest: identity.digest(stored) }
        // new scope keys (the old identity could open the old ones), new ciphertexts, new MACs
        const made = new Map(await Promise.all(keys.map(async k => [k.scope, await share.make(id, k.scope, share.listed(k), created)] as const)))
        const sealed = await Promise.all(rows.map((r, i) => cipher.seal(id, r.scope, r.key, values[i] ?? Buffer.alloc(0), r.scopeKey === null ? undefined : made.get(r.scope)?.key)))
        for (const v of values) v.fill(0)
        step?.("encrypted")

        // staged before the commit, so that a commit is never left without its key on disk
        for (let tries = 0; !writeNew(next, stored); tries++) {
            if (Buffer.compare(readPrivate(next) ?? Buffer.alloc(0), stored) === 0) break
            if (tries === 3) throw hinted(`another key rotation of ${JSON.stringify(paths.key)} is in progress`, "try again when it is done")
            await keyring.recover(paths, s)
        }
        step?.("staged")

        try {
            commit(s, next, stored, rows, sealed, id, current, actor, keys, [...made.values()].map(m => m.row))
        } catch (e) {
            if (!(e instanceof Retry)) throw e
            // our staged key is now stale: drop it before trying again
            await keyring.recover(paths, s)
            continue
        }
        step?.("committed")

        const old = keyring.finish(paths.key, s, stored, id.recipient, created)
        fresh.bytes.fill(0)
        stored.fill(0)
        keyring.set(id)
        step?.("finished")
        return { count: rows.length, recipient: id.recipient, old }
    }
    throw hinted("secrets kept changing during the key rotation", "try again")
}

/**
 * The one transaction that moves every row to the new recipient. It aborts (Retry) when the
 * staged key is gone (another process judged it stale) or when a row changed since it was read.
 */
function commit(s: store.Store, next: string, bytes: Uint8Array, rows: store.secrets.Row[],
    sealed: cipher.Sealed[], id: identity.Identity, from: identity.Identity, actor: string, keys: store.shares.Row[], made: store.shares.Row[]): void {
    // this commit is the moment of truth: make it durable against power loss, not only a crash
    store.durable(s, () => store.atomic(s, () => {
        const staged = readPrivate(next)
        if (staged === undefined || Buffer.compare(staged, bytes) !== 0) throw new Retry()
        // a scope shared, re-shared or unshared meanwhile: its rows were sealed under another key
        if (!sameKeys(store.shares.all(s), keys)) throw new Retry()
        for (const k of made) store.shares.set(s, k)
        for (const [i, r] of rows.entries()) {
            const c = sealed[i]
            if (c === undefined) throw new Error("internal: a sealed value is missing")
            // deleted meanwhile: fine; replaced meanwhile: re-read everything
            if (!store.secrets.reseal(s, r, c) && store.secrets.has(s, r.scope, r.key)) throw new Retry()
        }
        const all = store.secrets.recipients(s)
        // a row put meanwhile, still encrypted to the old key
        if (all !== undefined && (all.min !== id.recipient || all.max !== id.recipient)) throw new Retry()
        // every row was just given a MAC under the new key
        store.meta.seal(s)
        store.audit.add(s, { action: "rotate", actor, status: "ok", detail: { count: rows.length, from: from.recipient, to: id.recipient } })
    }))
}

/** The options that open a row of `scope`: its scope's key, if it is shared. */
function shareOf(keys: Map<string, share.ScopeKey>, scope: string): { share?: share.ScopeKey } {
    const k = keys.get(scope)
    return k === undefined ? {} : { share: k }
}

/** Whether two lists of scope key rows are the same keys. */
function sameKeys(a: store.shares.Row[], b: store.shares.Row[]): boolean {
    return a.length === b.length && a.every((k, i) => k.scope === b[i]?.scope && k.id === b[i]?.id)
}

/** What `reencrypt` did to one scope. */
export interface Reencrypted {
    scope: string
    /** how many rows were sealed again (staged values included) */
    count: number
    /** who the scope is now encrypted to besides the owner; empty: the owner alone */
    recipients: string[]
}

/**
 * Brings the scopes' rows in line with the recipients `c` declares: a scope that declares some
 * gets a new scope key encrypted to them and the owner, and each of its rows is encrypted to them
 * too and given a MAC under that key; one that declares none goes back to the owner alone and the
 * identity's own MAC. A scope already in line is left alone. As in `rotate`, the crypto runs
 * first and every row and key changes in one durable transaction, which gives way (and is tried
 * again) when a row or key changed meanwhile: killed at any point, each scope is wholly old or
 * wholly new. A new key even for an unchanged list would also do, but costs every row again.
 */
export async function reencrypt(paths: config.Paths, s: store.Store, actor: string, c: config.Config, scopes?: string[], step?: (at: Step) => void): Promise<Reencrypted[]> {
    for (let attempt = 0; attempt < 3; attempt++) {
        let id = await keyring.get(paths, s, {})
        const all = store.secrets.rows(s)
        if (all.some(r => r.recipient !== id.recipient)) id = await keyring.reload(paths, s, id)
        const keys = store.shares.all(s)
        const names = scopes ?? [...new Set([...all.map(r => r.scope), ...keys.map(k => k.scope), ...[...c.scopes.keys()].filter(n => share.declared(c, n).length > 0)])].sort()
        const evidence = () => mark.evidence(id, s)
        const plans: Array<{ scope: string; rows: store.secrets.Row[]; sealed: cipher.Sealed[]; was: store.shares.Row | undefined; made: store.shares.Row | undefined; want: string[] }> = []
        for (const scope of names) {
            const want = share.declared(c, scope, id.recipient)
            const was = keys.find(k => k.scope === scope)
            const rows = all.filter(r => r.scope === scope)
            const fine = want.length === 0
                ? was === undefined && rows.every(r => r.scopeKey === null)
                : was !== undefined && was.owner === id.recipient && was.recipients === want.join(" ") && rows.every(r => r.scopeKey === was.id)
            if (fine) continue
            const old = was === undefined ? undefined : await share.open(id, was)
            const values = await Promise.all(rows.map(r => cipher.open(id, r, { evidence, ...(old === undefined ? {} : { share: old }) })))
            step?.("decrypted")
            const made = want.length === 0 ? undefined : await share.make(id, scope, want)
            try {
                const sealed = await Promise.all(rows.map((r, i) => cipher.seal(id, scope, r.key, values[i] ?? Buffer.alloc(0), made?.key)))
                plans.push({ scope, rows, sealed, was, made: made?.row, want })
            } finally {
                for (const v of values) v.fill(0)
            }
        }
        step?.("encrypted")
        if (plans.length === 0) return []
        // a change meanwhile throws (Retry) rather than returning: returning would commit the rows
        // and keys already written, leaving a scope's rows under a key that was never stored
        try {
            store.durable(s, () => store.atomic(s, () => {
                for (const p of plans) {
                    if (store.shares.get(s, p.scope)?.id !== p.was?.id) throw new Retry()
                    for (const [i, r] of p.rows.entries()) {
                        const next = p.sealed[i]
                        if (next === undefined) throw new Error("internal: a sealed value is missing")
                        if (!store.secrets.reseal(s, r, next) && store.secrets.has(s, r.scope, r.key)) throw new Retry()
                    }
                    // a row put meanwhile was sealed under the key this replaces
                    const id = p.made?.id ?? null
                    if (store.secrets.rows(s, p.scope).some(r => r.scopeKey !== id)) throw new Retry()
                    if (p.made !== undefined) store.shares.set(s, p.made)
                    else store.shares.remove(s, p.scope)
                    store.audit.add(s, { action: "reencrypt", actor, scope: p.scope, status: "ok", detail: { count: p.rows.length, recipients: p.want } })
                }
                store.meta.seal(s)
            }))
        } catch (e) {
            if (e instanceof Retry) continue
            throw e
        }
        step?.("committed")
        return plans.map(p => ({ scope: p.scope, count: p.rows.length, recipients: p.want }))
    }
    throw hinted("secrets kept changing during the re-encryption", "try again")
}

/** What `upgrade` did: the rows it adopted, and what became of the key file's mark line (mark.stamp). */
export interface Upgraded {
    rows: Array<{ scope: string; key: string }>
    key: mark.Stamped
}

/**
 * Gives a MAC to every row 0.1 wrote, before rows carried one (see Vault.upgrade). Each is
 * decrypted with our key first, which proves both the key and the row's binding to its scope and
 * key; a row that fails stays as it was and stops the upgrade. Anyone who can write the database
 * can set a MAC to NULL and encrypt a value of their own to the public key, so nothing is adopted
 * once anything shows that the store authenticates its rows (mark.evidence: the identity's line,
 * which no database writer can remove, the database's mark, a row with a MAC, a shared scope):
 * every row without a MAC is then refused at once, and nothing changes. Once done, the store is
 * marked and so is a plain key file, so that neither adopts anything again.
 */
export async function upgrade(paths: config.Paths, s: store.Store, actor: string): Promise<Upgraded> {
    let id = await keyring.get(paths, s, {})
    const rows = store.secrets.rows(s).filter(r => r.mac === null)
    if (rows.some(r => r.recipient !== id.recipient)) id = await keyring.reload(paths, s, id)
    const evidence = () => rows.length === 0 ? undefined : mark.evidence(id, s)
    const seen = evidence()
    if (seen !== undefined) {
        store.audit.add(s, { action: "upgrade", actor, status: "error", detail: { error: "rows without a MAC in an authenticated store", evidence: seen.kind, rows: rows.map(r => `${r.scope}/${r.key}`) } })
        throw tampered(s, rows, seen)
    }
    const macs = await Promise.all(rows.map(async r => {
        const value = await cipher.open(id, r, { legacy: true })
        value.fill(0)
        return id.sign(cipher.signed(r.scope, r.key, r.ciphertext))
    }))
    const done = store.atomic(s, () => {
        // marked, or written, meanwhile by another process: these rows are no longer 0.1's to adopt
        const since = evidence()
        if (since !== undefined) throw tampered(s, rows, since)
        const out: Array<{ scope: string; key: string }> = []
        for (const [i, r] of rows.entries()) {
            const mac = macs[i]
            // changed meanwhile: whoever changed it wrote a MAC (or it is gone)
            if (mac !== undefined && store.secrets.reseal(s, r, { recipient: r.recipient, ciphertext: r.ciphertext, mac })) out.push({ scope: r.scope, key: r.key })
        }
        if (out.length > 0) store.audit.add(s, { action: "upgrade", actor, status: "ok", detail: { rows: out.map(r => `${r.scope}/${r.key}`) } })
        store.meta.seal(s)
        return out
    })
    // after the rows' commit: a key marked first, then a failed commit, would strand 0.1's rows
    return { rows: done, key: mark.stamp(paths, s, id) }
}

/** The refusal of `upgrade` in a store that authenticates its rows, naming every row without a MAC (never a value). */
function tampered(s: store.Store, rows: Array<{ scope: string; key: string }>, e: cipher.Evidence): Error {
    const names = rows.map(r => cipher.name(r.scope, r.key))
    const first = rows[0] ?? { scope: "<scope>", key: "<key>" }
    return hinted(`${rows.length === 1 ? "secret" : "secrets"} ${names.join(", ")} ${rows.length === 1 ? "has" : "have"} no MAC, though ${cipher.though(e, JSON.stringify(s.path))}; nothing was upgraded`,
        "a missing MAC on an upgraded database means the row was tampered with, not stored by an older mcplexer, so key upgrade adopts none; " +
        `check who can write the database, then delete each such row and put its value again (mcplexer secret delete ${first.scope} ${first.key}, then mcplexer secret put ${first.scope} ${first.key})`,
        { kind: "conflict" })
}
