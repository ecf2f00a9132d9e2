import type { Node } from "yaml"
import { yaml } from "./yaml.ts"
import { duration, durations } from "./duration.ts"
import { isOAuthKey } from "./oauth.ts"
import { q, type Entry, type Item, type Reader } from "./reader.ts"
import { size, sizes } from "./size.ts"
import { suggest } from "./suggest.ts"
import { template } from "./template.ts"
import type { Scope, Server } from "./types.ts"

/**
 * The longest timeout a setting may ask for, in ms: Node timers fire at once (with a warning)
 * past 2^31-1 ms, so longer timeouts would do the opposite.
 */
export const maxTimer = 2 ** 31 - 1

/** What the sections read so far declared, and where relative paths start from. */
export interface Known { scopes: Map<string, Scope>; servers: Map<string, Server>; home: string; folder: string }

/** A duration setting in ms: more than zero unless `zero`, at most `max`. */
export function ms(r: Reader, e: Entry, what: string, o: { zero?: boolean; max?: number }): number {
    const v = yaml().isScalar(e.value) ? e.value.value : undefined
    let n: number | undefined
    let hint = durations
    if (typeof v === "string" || typeof v === "number") {
        try {
            n = duration(v)
        } catch (err) {
            hint = (err as Error & { hint: string }).hint
        }
    }
    if (n === undefined) r.fail(e.at, `${what} must be a duration`, hint)
    if (n === 0 && !o.zero) r.fail(e.at, `${what} must be more than zero`, durations)
    if (o.max !== undefined && n > o.max) r.fail(e.at, `${what} is too long`, "at most 24d (Node timers cannot wait longer)")
    return n
}

/** A size setting in bytes. */
export function bytes(r: Reader, e: Entry, what: string): number {
    const v = yaml().isScalar(e.value) ? e.value.value : undefined
    try {
        if (typeof v === "string" || typeof v === "number") return size(v)
    } catch (err) {
        r.fail(e.at, `${what} must be a size`, (err as Error & { hint: string }).hint)
    }
    r.fail(e.at, `${what} must be a size`, sizes)
}

/** Checks every reference in `text`: well formed, and naming only declared scopes. */
export function references(r: Reader, at: Item, text: string, where: string, scopes: Map<string, Scope>): void {
    let parts
    try {
        parts = template(text)
    } catch (err) {
        r.fail(at.at, `${where}: ${(err as Error).message}`, (err as Error & { hint: string }).hint)
    }
    for (const p of parts) {
        if (typeof p !== "string" && "secret" in p && isOAuthKey(p.secret.key)) {
            r.fail(at.at, `${where}: ${q(p.secret.key)} belongs to a server's login and is never given by name`,
                "a login's tokens reach only their own server; refer to a key you stored yourself (mcplexer secret put <scope> <KEY>)")
        }
        if (typeof p === "string" || !("secret" in p) || p.secret.scope === undefined) continue
        const ref = `\${secret:${p.secret.scope}/${p.secret.key}}`
        declared(r, at.at, `${where}: scope ${q(p.secret.scope)} in ${q(ref)} is not declared`, p.secret.scope, scopes, "auth_scopes")
    }
}

/** Fails unless `name` is a key of `known`, with a hint naming the closest and all declared ones. */
export function declared(r: Reader, at: Node, message: string, name: string, known: Map<string, unknown>, section: "auth_scopes" | "servers"): void {
    if (known.has(name)) return
    const noun = section === "servers" ? "servers" : "scopes"
    const near = suggest(name, known.keys())
    const hint = [
        ...(near ? [`did you mean ${q(near)}?`] : []),
        known.size ? `declared ${noun}: ${[...known.keys()].join(", ")}` : `no ${noun} are declared`,
        `declare it under ${section}`,
    ]
    r.fail(at, message, hint.join("\n"))
}
