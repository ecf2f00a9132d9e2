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
    return suffixed(clean, full, 6)
}

function suffixed(name: string, seed: string, n: number): string {
    return `${name.slice(0, max - 1 - n)}_${hash(seed, n)}`
}

/**
 * Names every item. Items are taken in order of server name, then original name; on a
 * collision the first keeps the name and each later one gets a hash suffix of its server and
 * original name, so the outcome is the same on every run whatever order the servers answered in.
 * A server listing the same name twice keeps the first.
 */
export function build<T>(kind: string, items: Item<T>[]): Table<T> {
    const sorted = [...items].sort((a, b) => compare(a.server, b.server) || compare(a.original, b.original))
    const unique: Array<Item<T> & { natural: string }> = []
    const seen = new Set<string>()
    const claimed = new Map<string, Item<T>>()
    for (const it of sorted) {
        const id = `${it.server}\0${it.original}`
        if (seen.has(id)) continue
        seen.add(id)
        const n = natural(it.server, it.original, it.prefix)
        unique.push({ ...it, natural: n })
        if (!claimed.has(n)) claimed.set(n, it)
    }
    const taken = new Set(claimed.keys())
    const table: Table<T> = { list: [], byName: new Map(), collisions: [] }
    for (const it of unique) {
        const first = claimed.get(it.natural)
        let exposed = it.natural
        if (first !== undefined && (first.server !== it.server || first.original !== it.original)) {
            const seed = `${it.server}\0${it.original}`
            for (let n = 6; ; n += 2) {
                // past 40 hex characters only a deliberate clash is left: count instead of hashing
                exposed = n <= 40 ? suffixed(it.natural, seed, n) : suffixed(it.natural, `${seed}\0${n}`, 6)
                if (!taken.has(exposed)) break
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
