import * as config from "../config/index.ts"
import * as redact from "../redact/index.ts"
import * as secrets from "../secrets/index.ts"
import { one, UsageError, type Output } from "./output.ts"
import { read, type Source } from "./value.ts"

/** What `secret put` needs; the value is read from `Source` only after the scope is known good. */
export interface PutOptions extends Source {
    paths: config.Paths
    scope: string
    key: string
    /** when the value expires: a date (2027-01-31, an ISO time) or a duration from now (90d) */
    expires?: string
    /** stage it beside the current value, for `secret promote` */
    next?: boolean
}

/** Stores one value under a scope declared in the config. */
export async function put(o: PutOptions, out: Output): Promise<void> {
    config.checkName("scope", o.scope)
    config.checkName("key", o.key)
    const expires = o.expires === undefined ? undefined : when(o.expires)
    const c = await declared(o.paths, o.scope)
    // kept (a value can be stored with the expiry it really had), but said: usually a mistyped year
    if (expires !== undefined && expires.getTime() <= Date.now()) {
        out.warn(`--expires ${JSON.stringify(o.expires)} is in the past: ${o.scope}/${o.key} counts as expired from now on`)
        out.hint(`if that is a typo, store it again with the right date: mcplexer secret put ${o.scope} ${o.key} --expires <date>`)
    }
    const value = await read(o, `${o.scope}/${o.key}`, out)
    const vault = secrets.open(o.paths, { actor: "cli", create: true })
    try {
        const replaced = await vault.put(o.scope, o.key, value, { ...(expires === undefined ? {} : { expires }), ...(o.next ? { next: true } : {}) })
        if (o.next) {
            out.info(`staged the next value of ${o.scope}/${o.key} beside the current one (${replaced ? "replacing the one staged before" : "not used yet"})`)
            out.hint(`once it works at its provider, make it current with: mcplexer secret promote ${o.scope} ${o.key}`)
        } else {
            out.info(replaced ? `replaced ${o.scope}/${o.key} (the old value is gone)` : `stored ${o.scope}/${o.key}`)
        }
        // after the put: a value refused (a NUL byte) gets its error alone
        if (value.length > 0 && redact.tooShort(value.toString("utf8"))) out.warn(`value of ${o.scope}/${o.key} is shorter than ${redact.minLength} characters, so it will never be masked in output`)
        if (!utf8(value)) {
            out.warn(`the value of ${o.scope}/${o.key} is not UTF-8 text: \`secret get\` prints its bytes, but a server cannot be given it`)
            out.hint("environment variables and headers carry text; store it encoded (e.g. base64) for a server")
        }
        unshared(c, vault, o.scope, out)
    } finally {
        value.fill(0)
        vault.close()
    }
}

/** Warns when a scope's rows are not encrypted to the recipients its config declares (`secret reencrypt` fixes it). */
function unshared(c: config.Config, vault: secrets.Vault, scope: string, out: Output): void {
    let d: secrets.share.Drift | undefined
    try {
        [d] = secrets.share.drift(c, vault, scope)
    } catch {
        return // doctor names a recipients file it cannot read
    }
    if (d === undefined) return
    out.warn(`the secrets of scope ${JSON.stringify(scope)} are not all encrypted to the ${d.want.length} recipient${d.want.length === 1 ? "" : "s"} its config declares besides you`)
    out.hint(`bring them in line with: mcplexer secret reencrypt ${scope}`)
}

/**
 * Refuses a duration option's value with a minus sign (-5d, -1h, -1), naming the option and the
 * value: config.duration reads no sign, so it would come out as "neither a date nor a duration",
 * and Date.parse takes "-1" for the year 2001.
 */
export function positive(flag: string, text: string, forms: string): void {
    if (/^-\s*[\d.]/.test(text.trim())) throw new UsageError(`${flag} ${JSON.stringify(text)} is negative`, `give ${forms}; it must be positive`)
}

/**
 * When a value expires, from `--expires`: a date or time (2027-01-31, 2027-01-31T12:00:00Z) or a
 * duration from now with its unit (90d, 12h). A bare number is refused: days or seconds?
 */
export function when(text: string, now = new Date()): Date {
    const t = text.trim()
    positive("--expires", text, "a duration from now such as 30d or 12h, or a date (2027-01-31)")
    const hint = "give a date (2027-01-31, or an ISO time) or a duration from now with its unit (90d, 12h, 30m)"
    if (/^\d+(\.\d+)?$/.test(t)) throw new UsageError(`--expires ${JSON.stringify(text)} needs a unit or a date`, hint)
    let ms: number | undefined
    try {
        ms = config.duration(t)
    } catch {
        ms = undefined
    }
    if (ms === 0) throw new UsageError(`--expires ${JSON.stringify(text)} is no time from now`, hint)
    if (ms !== undefined) return new Date(now.getTime() + ms)
    const day = /^(\d{4})-(\d{2})-(\d{2})/.exec(t)
    const at = day ? Date.parse(t) : NaN
    if (Number.isNaN(at)) throw new UsageError(`--expires ${JSON.stringify(text)} is neither a date nor a duration`, hint)
    // Date.parse rolls a day the month lacks over into the next month (2027-02-30 is March 2nd)
    const [y, m, d] = [Number(day?.[1]), Number(day?.[2]), Number(day?.[3])]
    const real = new Date(Date.UTC(y, m - 1, d))
    if (real.getUTCFullYear() !== y || real.getUTCMonth() !== m - 1 || real.getUTCDate() !== d) {
        throw new UsageError(`--expires ${JSON.stringify(text)} is not a day of the calendar`, hint)
    }
    return new Date(at)
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

/** Lists key names, scopes, last change, age and expiry; never decrypts. */
export function list(o: ListOptions, out: Output): Promise<void> {
    if (o.scope !== undefined) config.checkName("scope", o.scope)
    const vault = secrets.open(o.paths, { actor: "cli" })
    const now = new Date()
    try {
        const entries = vault.list(o.scope)
        if (o.json) {
            out.out(JSON.stringify(entries.map(e => ({
                scope: e.scope, key: e.key, updatedAt: e.updatedAt.toISOString(), updated: e.updatedAt.toISOString(),
                expires: e.expiresAt?.toISOString() ?? null, ...(e.next === undefined ? {} : { next: e.next.toISOString() }),
            })), null, 2) + "\n")
        } else if (entries.length === 0) {
            out.info(o.scope === undefined ? "no secrets stored yet" : `no secrets stored in scope "${o.scope}"`)
        } else {
            out.out(table(["SCOPE", "KEY", "UPDATED", "AGE", "EXPIRES", "NEXT"], entries.map(e => [
                e.scope, e.key, e.updatedAt.toISOString(), secrets.ago(now.getTime() - e.updatedAt.getTime()), expiry(e, now),
                e.next === undefined ? "-" : `staged ${secrets.ago(now.getTime() - e.next.getTime())} ago`,
            ])))
        }
    } finally {
        vault.close()
    }
    return Promise.resolve()
}

/** An entry's expiry for a person: "-", "in 12 days (2027-01-31)", "EXPIRED 3 days ago (…)". */
function expiry(e: secrets.Entry, now: Date): string {
    if (e.expiresAt === null) return "-"
    const left = e.expiresAt.getTime() - now.getTime()
    const day = e.expiresAt.toISOString().slice(0, 10)
    return left <= 0 ? `EXPIRED ${secrets.ago(left)} ago (${day})` : `in ${secrets.ago(left)} (${day})`
}

/** Which staged value to make current. */
export interface PromoteOptions { paths: config.Paths; scope: string; key: string }

/** Makes the value staged with `put --next` current; a running serve restarts the scope's instances. */
export async function promote(o: PromoteOptions, out: Output): Promise<void> {
    config.checkName("scope", o.scope)
    config.checkName("key", o.key)
    await declared(o.paths, o.scope)
    const vault = secrets.open(o.paths, { actor: "cli" })
    try {
        // "nothing staged beside" a key that is not stored at all would send the person looking for a staged value
        const keys = vault.list(o.scope).map(e => e.key)
        if (!keys.includes(o.key)) {
            const near = config.suggest(o.key, keys)
            throw config.hinted(`secret ${JSON.stringify(`${o.scope}/${o.key}`)} is not stored, so there is nothing to promote`,
                `${near === undefined ? "" : `did you mean ${JSON.stringify(near)}?\n`}list what is stored with: mcplexer secret list ${o.scope}`, { kind: "missing" })
        }
        await vault.promote(o.scope, o.key)
        out.info(`promoted the staged value of ${o.scope}/${o.key}: it is the current one, and the old value is gone`)
        out.info(`a running serve restarts the servers of scope ${JSON.stringify(o.scope)} within a second`)
    } finally {
        vault.close()
    }
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

/** Refuses a scope the config does not declare, naming the ones it does; returns the config. */
export async function declared(paths: config.Paths, scope: string): Promise<config.Config> {
    const c = await config.load(paths.config)
    if (c.scopes.has(scope)) return c
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
