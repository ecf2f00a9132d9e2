/**
 * A person's request to a ranked list of tools: the request's own terms at full weight, the
 * synonym table's terms at a lower one, scored by BM25F, best first.
 */
import { actionBoost, asks } from "./action.ts"
import { type Clause, type Index, build, score } from "./bm25.ts"
import type { Tool } from "./fields.ts"
import { expand, plain, sameWeight } from "./synonyms.ts"
import { stem } from "./tokens.ts"

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

/**
 * A query as clauses: each of its own terms at weight 1, then each synonym group it touches at its
 * tier's weight, or at 1 when one of the person's phrases for it has a word the catalog never
 * uses: then the group is the only way that phrase can find a tool (a catalog that never says
 * "folder", or "above sea level").
 */
export function query(idx: Index, text: string): Clause[] {
    const own = plain(text)
    const given = new Set(own)
    return [
        ...own.map(t => ({ weight: 1, alternatives: [[t]] })),
        ...shapes(text).filter(t => !own.includes(t)).map(t => ({ weight: sameWeight, alternatives: [[t]] })),
        ...expand(text).map(e => ({ weight: e.said.every(p => p.every(t => idx.idf.has(t) || idx.servers.has(t))) ? e.weight : 1, alternatives: e.alternatives, servers: false, given })),
    ]
}

/**
 * What the shape of a word says when no word does: a name with an extension (notes.md,
 * config.yaml) is a file, and a path from home, here or the root (~/Downloads, ./src, /etc) is a
 * directory, or a file when it ends in a name with an extension. Weighed as a plain equivalent
 * of the word (`sameWeight`): the person all but said it.
 */
export function shapes(text: string): string[] {
    // split at spaces and punctuation that ends a word, not at the dots and slashes of a name
    const out = new Set<string>()
    for (const w of text.split(/[\s,;:()'"`]+/)) {
        const bare = w.replace(/[.?!]+$/, "")
        const named = /(^|\/)[\w-]+\.[a-z][a-z0-9]{1,4}$/i.test(bare)
        if (named) out.add(stem("file"))
        else if (/^(~|\.{1,2})?\/./.test(bare)) out.add(stem("directory"))
    }
    return [...out]
}

/**
 * The tools that match a request, best first, at most `limit`; tools that share no term with it
 * are left out. Ties go by name, so the same catalog and query always give the same list.
 */
export function rank(idx: Index, text: string, limit = defaultLimit): Hit[] {
    const scores = score(idx, query(idx, text))
    const action = asks(text)
    const hits: Hit[] = []
    for (const [i, s] of scores) {
        const d = idx.docs[i]
        const boost = idx.actions[i]?.some(a => action.includes(a)) ? 1 + actionBoost : 1
        if (d !== undefined && s > 0) hits.push({ name: d.name, server: d.server, description: d.description, score: s * boost })
    }
    hits.sort((a, b) => b.score - a.score || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    return hits.slice(0, Math.max(0, limit))
}
