/**
 * The age and expiry of stored values, from the index alone (never a value, never the key): what
 * `doctor`, `serve`'s start and the web UI's secrets page warn about. A value expired, one that
 * expires within `soon` (14 days), one older than its scope's `rotate_every`.
 */
import type * as config from "../config/index.ts"
import type { Entry } from "./vault.ts"

/** Within this long of its expiry a value is warned about. */
export const soon = 14 * 86_400_000

/** One warning about one value. */
export interface Warning {
    scope: string
    key: string
    kind: "expired" | "expiring" | "old"
    /** for a person: names the value and when, never the value */
    message: string
    /** what to do */
    hint: string
}

/** "3 days", "1 day", "5 hours": how long `ms` is, roughly, for a person. */
export function ago(ms: number): string {
    const abs = Math.abs(ms)
    const [n, unit] = abs >= 86_400_000 ? [Math.floor(abs / 86_400_000), "day"] : abs >= 3_600_000 ? [Math.floor(abs / 3_600_000), "hour"] : [Math.max(1, Math.floor(abs / 60_000)), "minute"]
    return `${n} ${unit}${n === 1 ? "" : "s"}`
}

/**
 * The warnings about the values of `vault` (sorted by scope and key), with the scopes' `rotate_every`
 * from `c` when given. Reads the index only.
 */
export function health(vault: { list(scope?: string): Entry[] }, c?: Pick<config.Config, "scopes">, now = new Date()): Warning[] {
    const out: Warning[] = []
    for (const e of vault.list()) {
        const name = JSON.stringify(`${e.scope}/${e.key}`)
        const hint = `store a new value: mcplexer secret put ${e.scope} ${e.key} (or stage it with --next, then: mcplexer secret promote ${e.scope} ${e.key})`
        const left = e.expiresAt === null ? undefined : e.expiresAt.getTime() - now.getTime()
        if (left !== undefined && left <= 0) {
            out.push({ scope: e.scope, key: e.key, kind: "expired", message: `secret ${name} expired ${ago(left)} ago (${e.expiresAt?.toISOString() ?? ""})`, hint })
        } else if (left !== undefined && left <= soon) {
            out.push({ scope: e.scope, key: e.key, kind: "expiring", message: `secret ${name} expires in ${ago(left)} (${e.expiresAt?.toISOString() ?? ""})`, hint })
        }
        const every = c?.scopes.get(e.scope)?.rotateEvery
        const age = now.getTime() - e.updatedAt.getTime()
        if (every !== undefined && age > every) {
            out.push({ scope: e.scope, key: e.key, kind: "old", message: `secret ${name} is ${ago(age)} old; scope ${JSON.stringify(e.scope)} asks for a new value every ${ago(every)}`, hint })
        }
    }
    return out
}
