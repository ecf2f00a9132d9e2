import { createHash } from "node:crypto"

/** What every client accepts as a tool or prompt name (DESIGN decision 7). */
export const valid = /^[a-zA-Z0-9_-]{1,64}$/

const max = 64

/** One tool or prompt offered by a downstream server, before naming. */
export interface Item<T> { server: string; original: string; prefix: boolean; item: T }

/** One tool or prompt as the client sees it. */
export interface Named<T> { exposed: string; server: string; original: string; item: T }

/** The names of one kind (tools or prompts) across every server. */
export interface Table<T> {
    /** in exposing order: by server, then by original name */
    list: Named<T>[]
    byName: Map<string, Named<T>>
    /** one line per collision, saying how it was resolved */
    collisions: string[]
    /** one line per name refused (kept out of the list), saying why */
    refused: string[]
}

function hash(s: string, n: number): string {
    return createHash("sha256").update(s).digest("hex").slice(0, n)
}

// A plain code-unit comparison: the order, and so the names, must not depend on the locale.
function compare(a: string, b: string): number {
    return a < b ? -1 : a > b ? 1 : 0
}

/**
 * The name a tool or prompt gets when nothing else claims it: `<server>__<name>` (or the bare
 * name with prefix false), invalid characters replaced by "_", and a name longer than 64
 * characters cut short and ended with a hash of the full original, so it stays stable.
 */
export function natural(server: string, original: string, prefix: boolean): string {
    const full = prefix ? `${server}__${original}` : original
    if (valid.test(full)) return full
    const clean = full.replace(/[^a-zA-Z0-9_-]/g, "_")
    if (clean.length > 0 && clean.length <= max) return clean
    return suffixed(clean, full, 6, prefix)
}

// A bare name cut right after a "_" would gain a "__" with the suffix's own "_", and so look like
// another server's namespace: it takes the hash without a separator instead. Prefixed names keep
// the form they always had, so their exposed names (and pins) do not move.
function suffixed(name: string, seed: string, n: number, prefix: boolean): string {
    const head = name.slice(0, max - 1 - n)
    return !prefix && head.endsWith("_") ? `${head}${hash(seed, n + 1)}` : `${head}_${hash(seed, n)}`
}

/**
 * The server whose namespace an exposed name is in: the part before its first "__" (a server
 * name never has a "_"), or undefined for a bare name.
 */
export function namespace(exposed: string): string | undefined {
    const at = exposed.indexOf("__")
    return at < 0 ? undefined : exposed.slice(0, at)
}

/**
 * Why an exposed name may not be given to `server`, or undefined when it may. A "__" marks a
 * server's namespace, and workspace routes (`github__*`, with github's scope) select by it: a
 * prefix-less server may use it only for its own name, or it would receive another server's
 * scope. The rule holds whether or not that other server is configured now.
 */
export function foreign(server: string, exposed: string): string | undefined {
    const ns = namespace(exposed)
    if (ns === undefined || ns === server) return undefined
    return `with prefix: false, a name with "__" must start with the server's own name, and ${JSON.stringify(exposed)} is in the namespace of server ${JSON.stringify(ns)}`
}

/**
 * Names every item. Items are taken in order of server name, then original name; on a
 * collision the first keeps the name and each later one gets a hash suffix of its server and
 * original name, so the outcome is the same on every run whatever order the servers answered in.
 * A server's own prefixed names claim first, so no bare name ever takes one. A server listing the
 * same name twice keeps the first. A prefix-less server's name in another server's namespace
 * (`foreign`) is refused: kept out of the table, with a line in `refused`.
 */
export function build<T>(kind: string, items: Item<T>[]): Table<T> {
    const sorted = [...items].sort((a, b) => compare(a.server, b.server) || compare(a.original, b.original))
    const table: Table<T> = { list: [], byName: new Map(), collisions: [], refused: [] }
    const refuse = (it: Item<T>, why: string) => {
        table.refused.push(`${kind} ${JSON.stringify(it.original)} of server ${JSON.stringify(it.server)} is left out: ${why}`)
    }
    const unique: Array<Item<T> & { natural: string }> = []
    const seen = new Set<string>()
    for (const it of sorted) {
        const id = `${it.server}\0${it.original}`
        if (seen.has(id)) continue
        seen.add(id)
        const n = natural(it.server, it.original, it.prefix)
        const why = it.prefix ? undefined : foreign(it.server, n)
        if (why !== undefined) refuse(it, why)
        else unique.push({ ...it, natural: n })
    }
    const claimed = new Map<string, Item<T>>()
    for (const it of unique) if (it.prefix && !claimed.has(it.natural)) claimed.set(it.natural, it)
    for (const it of unique) if (!claimed.has(it.natural)) claimed.set(it.natural, it)
    const taken = new Set(claimed.keys())
    for (const it of unique) {
        const first = claimed.get(it.natural)
        let exposed = it.natural
        if (first !== undefined && (first.server !== it.server || first.original !== it.original)) {
            const seed = `${it.server}\0${it.original}`
            for (let n = 6; ; n += 2) {
                // past 40 hex characters only a deliberate clash is left: count instead of hashing
                exposed = n <= 40 ? suffixed(it.natural, seed, n, it.prefix) : suffixed(it.natural, `${seed}\0${n}`, 6, it.prefix)
                if (!taken.has(exposed)) break
            }
            const why = it.prefix ? undefined : foreign(it.server, exposed)
            if (why !== undefined) {
                refuse(it, why)
                continue
            }
            taken.add(exposed)
            table.collisions.push(`${kind} ${JSON.stringify(it.original)} of server ${JSON.stringify(it.server)} is exposed as ` +
                `${JSON.stringify(exposed)}: ${JSON.stringify(it.natural)} is taken by server ${JSON.stringify(first.server)}`)
        }
        const named: Named<T> = { exposed, server: it.server, original: it.original, item: it.item }
        table.list.push(named)
        table.byName.set(exposed, named)
    }
    return table
}
