/**
 * Reading one value: the vault's `get`, and `read`, what `mcplexer secret get` runs. Scripts start
 * a whole process per value, so `read` needs neither drizzle nor typage: a raw connection, one
 * prepared row, and Node's own crypto for an X25519 key.
 */
import type { Statement } from "better-sqlite3"
import * as config from "../config/index.ts"
import * as store from "../store/conn.ts"
import { open as unseal } from "./cipher.ts"
import { message, NotFoundError } from "./errors.ts"
import * as keyring from "./keyring.ts"

/** One value, decrypted, from a fresh connection; opens the whole vault only to upgrade an old database. */
export async function read(paths: config.Paths, scope: string, key: string, o: { actor: string }): Promise<string> {
    const c = store.connect(paths.db)
    try {
        if (store.current(c)) return await fetch(c, paths, scope, key, o.actor)
    } finally {
        c.close()
    }
    const vault = (await import("./vault.ts")).open(paths, o)
    try {
        return await vault.get(scope, key)
    } finally {
        vault.close()
    }
}

// serve reads values per call (secret:// arguments): the statement is prepared once per connection
const selects = new WeakMap<store.Conn, Statement<[string, string], { recipient: string; ciphertext: Buffer }>>()

/**
 * One value of an up-to-date database, decrypted with the identity of `paths` (or a fresher one if
 * another process rotated it), with its audit row. NotFoundError when not stored, DecryptError
 * when it cannot be read.
 */
export async function fetch(c: store.Conn, paths: config.Paths, scope: string, key: string, actor: string): Promise<string> {
    config.checkName("scope", scope)
    config.checkName("key", key)
    const row = store.guard(c, () => {
        let select = selects.get(c)
        if (select === undefined) selects.set(c, select = c.sqlite.prepare("SELECT recipient, ciphertext FROM secrets WHERE scope = ? AND key = ?"))
        return select.get(scope, key)
    })
    if (row === undefined) {
        store.audit(c, { action: "get", actor, scope, key, status: "missing" })
        throw notFound(scope, key)
    }
    try {
        let id = await keyring.get(paths, c, {})
        if (id.recipient !== row.recipient) id = await keyring.reload(paths, c, id)
        const value = await unseal(id, scope, key, row.recipient, row.ciphertext)
        store.audit(c, { action: "get", actor, scope, key, status: "ok" })
        return value
    } catch (e) {
        store.audit(c, { action: "get", actor, scope, key, status: "error", detail: { error: message(e) } })
        throw e
    }
}

/** The error for a (scope, key) that is not stored. */
export function notFound(scope: string, key: string): NotFoundError {
    return new NotFoundError(`secret ${JSON.stringify(`${scope}/${key}`)} not found`, `list what is stored with: mcplexer secret list ${scope}`)
}
