/**
 * `read`, what `mcplexer secret get` runs. Scripts start a whole process per value, so when the
 * database is current and no key rotation is pending it needs neither drizzle nor typage: a raw
 * connection with the hot statements of store/hot.ts, and Node's own crypto for an X25519 key.
 * Anything unusual takes the vault's way (vault.ts), which this file imports only then.
 */
import * as config from "../config/index.ts"
import * as store from "../store/conn.ts"
import { open as unseal } from "./cipher.ts"
import { message, notFound } from "./errors.ts"
import { quick } from "./loaded.ts"

// the lean face also carries what every command needs before it runs: where passphrases come from
export { unlock } from "./loaded.ts"
export { ask, type Source } from "./unlock.ts"

/** One value's exact bytes, with its audit row. NotFoundError when not stored, DecryptError when it cannot be read. */
export async function read(paths: config.Paths, scope: string, key: string, o: { actor: string }): Promise<Buffer> {
    config.checkName("scope", scope)
    config.checkName("key", key)
    const c = store.connect(paths.db)
    try {
        if (store.current(c)) {
            const row = store.hot.secret(c, scope, key)
            if (row === undefined) {
                store.hot.audit(c, [{ action: "get", actor: o.actor, scope, key, status: "missing" }])
                throw notFound(scope, key)
            }
            const id = await quick(paths)
            // a row without a MAC is refused by the vault, which can tell 0.1's from a tampered one;
            // a row of a shared scope needs its scope's key, which the vault reads and checks
            if (id !== undefined && id.recipient === row.recipient && row.mac !== null && row.scopeKey === null) {
                try {
                    const value = await unseal(id, { scope, key, ...row })
                    store.hot.audit(c, [{ action: "get", actor: o.actor, scope, key, status: "ok" }])
                    return value
                } catch (e) {
                    store.hot.audit(c, [{ action: "get", actor: o.actor, scope, key, status: "error", detail: { error: message(e) } }])
                    throw e
                }
            }
        }
    } finally {
        c.close()
    }
    // an old database to upgrade, a key to create or reload, a rotation to finish: the whole vault
    const vault = (await import("./vault.ts")).open(paths, o)
    try {
        return await vault.bytes(scope, key)
    } finally {
        vault.close()
    }
}
