import * as config from "../config/index.ts"
import * as redact from "../redact/index.ts"
import * as secrets from "../secrets/index.ts"
import { one, type Output } from "./output.ts"
import { read, type Source } from "./value.ts"

/** What `secret put` needs; the value is read from `Source` only after the scope is known good. */
export interface PutOptions extends Source { paths: config.Paths; scope: string; key: string }

/** Stores one value under a scope declared in the config. */
export async function put(o: PutOptions, out: Output): Promise<void> {
    config.checkName("scope", o.scope)
    config.checkName("key", o.key)
    await declared(o.paths, o.scope)
    const value = await read(o, `${o.scope}/${o.key}`, out)
    const vault = secrets.open(o.paths, { actor: "cli", create: true })
    try {
        const replaced = await vault.put(o.scope, o.key, value)
        out.info(replaced ? `replaced ${o.scope}/${o.key} (the old value is gone)` : `stored ${o.scope}/${o.key}`)
        // after the put: a value refused (a NUL byte) gets its error alone
        if (value.length > 0 && redact.tooShort(value.toString("utf8"))) out.warn(`value of ${o.scope}/${o.key} is shorter than ${redact.minLength} characters, so it will never be masked in output`)
        if (!utf8(value)) {
            out.warn(`the value of ${o.scope}/${o.key} is not UTF-8 text: \`secret get\` prints its bytes, but a server cannot be given it`)
            out.hint("environment variables and headers carry text; store it encoded (e.g. base64) for a server")
        }
    } finally {
        value.fill(0)
        vault.close()
    }
}

const strict = new TextDecoder("utf-8", { fatal: true })

function utf8(b: Uint8Array): boolean {
    try {
        strict.decode(b)
        return true
    } catch {
        return false
    }
}

/** Which secret to delete. */
export interface KeyOptions { paths: config.Paths; scope: string; key: string }

/** Which secrets to list, and how. */
export interface ListOptions { paths: config.Paths; scope?: string; json: boolean }

/** Lists key names, scopes and last change; never decrypts. */
export function list(o: ListOptions, out: Output): Promise<void> {
    if (o.scope !== undefined) config.checkName("scope", o.scope)
    const vault = secrets.open(o.paths, { actor: "cli" })
    try {
        const entries = vault.list(o.scope)
        if (o.json) {
            out.out(JSON.stringify(entries.map(e => ({ scope: e.scope, key: e.key, updatedAt: e.updatedAt.toISOString() })), null, 2) + "\n")
        } else if (entries.length === 0) {
            out.info(o.scope === undefined ? "no secrets stored yet" : `no secrets stored in scope "${o.scope}"`)
        } else {
            out.out(table(["SCOPE", "KEY", "UPDATED"], entries.map(e => [e.scope, e.key, e.updatedAt.toISOString()])))
        }
    } finally {
        vault.close()
    }
    return Promise.resolve()
}

/** Deletes one secret; a missing one is an error. */
export function remove(o: KeyOptions, out: Output): Promise<void> {
    const vault = secrets.open(o.paths, { actor: "cli" })
    try {
        vault.delete(o.scope, o.key)
        out.info(`deleted ${o.scope}/${o.key}`)
    } finally {
        vault.close()
    }
    return Promise.resolve()
}

/** Refuses a scope the config does not declare, naming the ones it does. */
async function declared(paths: config.Paths, scope: string): Promise<void> {
    const c = await config.load(paths.config)
    if (c.scopes.has(scope)) return
    const names = [...c.scopes.keys()]
    throw config.hinted(`scope "${scope}" is not declared in ${paths.config}`, names.length
            ? `declared scopes: ${names.join(", ")}\nadd it under auth_scopes, or use one of those`
            : `no scopes are declared yet: add one under auth_scopes, e.g.\n  auth_scopes:\n    ${scope}: { description: … }`)
}

/** Columns padded to their widest cell. */
export function table(head: string[], rows: string[][]): string {
    // cells are escaped before they are measured, so a hostile value cannot shift its columns
    const all = [head, ...rows.map(r => r.map(one))]
    const widths = head.map((_, i) => Math.max(...all.map(r => (r[i] ?? "").length)))
    return all.map(r => r.map((c, i) => i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)).join("  ")).join("\n") + "\n"
}
