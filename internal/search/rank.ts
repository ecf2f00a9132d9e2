/**
 * A person's request to a ranked list of tools: the request's own terms at full weight, the
 * synonym table's terms at a lower one, scored by BM25F, best first.
 */
import { type Index, build, score } from "./bm25.ts"
import type { Tool } from "./fields.ts"
import { expand } from "./synonyms.ts"
import { terms } from "./tokens.ts"

/** The weight of a term the synonym table added, against 1 for a term the person typed. */
export const synonymWeight = 0.4

/** How many tools `rank` returns when not told. */
export const defaultLimit = 10

/** One ranked tool. */
export interface Hit {
    /** The client-visible name. */
    name: string
    server: string
    description: string
    /** Higher is better; comparable only within one query. */
    score: number
}

/** Builds the index of a catalog once; `rank` then searches it as often as needed. */
export function index(tools: readonly Tool[]): Index {
    return build(tools)
}

/** The weighted terms of a query: its own, then the synonym table's. */
export function query(text: string): Map<string, number> {
    const q = new Map<string, number>()
    for (const t of terms(text)) q.set(t, 1)
    for (const t of expand(text)) if (!q.has(t)) q.set(t, synonymWeight)
    return q
}

/**
 * The tools that match a request, best first, at most `limit`; tools that share no term with it
 * are left out. Ties go by name, so the same catalog and query always give the same list.
 */
export function rank(idx: Index, text: string, limit = defaultLimit): Hit[] {
    const scores = score(idx, query(text))
    const hits: Hit[] = []
    for (const [i, s] of scores) {
        const d = idx.docs[i]
        if (d !== undefined && s > 0) hits.push({ name: d.name, server: d.server, description: d.description, score: s })
    }
    hits.sort((a, b) => b.score - a.score || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    return hits.slice(0, Math.max(0, limit))
}
