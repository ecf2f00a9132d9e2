/**
 * BM25F over a tool catalog: each field's term counts are normalised by that field's length,
 * weighted, summed per tool, and saturated once (Robertson and Zaragoza, "The Probabilistic
 * Relevance Framework: BM25 and Beyond", 2009). Summing before saturating keeps a word that is in
 * both the name and the description from counting as two independent matches.
 */
import { type Action, performs } from "./action.ts"
import { type Field, type Tool, fields, split, stems, texts } from "./fields.ts"

/**
 * Field weights: a word of the name says what the tool does; the server says where (a person
 * often names it: "on slack", "in gitlab"); descriptions are longer and looser; parameters say what
 * a tool takes, which a request names less often than what it does.
 */
export const weights: Readonly<Record<Field, number>> = {
    name: 3,
    server: 2,
    title: 2,
    description: 0.5,
    params: 0.3,
    paramText: 0.3,
}

/** Length normalisation per field: short fields (a name, a server) barely, prose fully. */
const b: Readonly<Record<Field, number>> = { name: 0.3, server: 0, title: 0.3, description: 0.75, params: 0.5, paramText: 0.75 }

/** Term-frequency saturation. */
const k1 = 1.2

/** What a hit carries back: the tool's name, server and description. */
export interface Doc { name: string; server: string; description: string }

/** A built index: the tools, and for every term the tools that hold it with their weighted frequency. */
export interface Index {
    readonly docs: readonly Doc[]
    /** Per term of the text fields: the tools that hold it, with its weighted, normalised frequency. */
    readonly postings: ReadonlyMap<string, ReadonlyArray<readonly [doc: number, tf: number]>>
    readonly idf: ReadonlyMap<string, number>
    /**
     * Per term of a server's name: its tools, what naming it adds to each (weight × idf over
     * servers), and `own`, the share of the tools whose text holds the term that are that server's.
     */
    readonly servers: ReadonlyMap<string, { readonly docs: readonly number[]; readonly bonus: number; readonly own: number }>
    /** Per tool, the actions its name's verbs perform (see action.ts). */
    readonly actions: ReadonlyArray<readonly Action[]>
}

/** Builds the index of a catalog; pure, so the caller decides when a catalog change rebuilds it. */
export function build(tools: readonly Tool[]): Index {
    const all = tools.map(texts)
    const vocabulary = new Set<string>()
    for (const t of all) for (const f of fields) if (f !== "name") for (const w of t[f]) vocabulary.add(w)
    const perField = all.map(t => {
        const x = { ...t, name: split(t.name, vocabulary) }
        return Object.fromEntries(fields.map(f => [f, stems(x[f])])) as Record<Field, string[]>
    })
    const avg = Object.fromEntries(fields.map(f => [f, perField.reduce((s, d) => s + d[f].length, 0) / Math.max(1, perField.length)])) as Record<Field, number>
    const postings = new Map<string, Array<[number, number]>>()
    perField.forEach((d, i) => {
        const tf = new Map<string, number>()
        for (const f of fields) {
            if (d[f].length === 0 || f === "server") continue
            const norm = 1 - b[f] + b[f] * d[f].length / (avg[f] || 1)
            for (const term of d[f]) tf.set(term, (tf.get(term) ?? 0) + weights[f] / norm)
        }
        for (const [term, v] of tf) {
            const list = postings.get(term) ?? []
            list.push([i, v])
            postings.set(term, list)
        }
    })
    const n = tools.length
    const idf = new Map<string, number>()
    for (const [term, list] of postings) idf.set(term, Math.log(1 + (n - list.length + 0.5) / (list.length + 0.5)))
    // a request that names a server ("on github", "in slack") says where as plainly as a word of a
    // name says what: scored on its own, so it is not saturated away by the same word in descriptions
    const byServer = new Map<string, number[]>()
    perField.forEach((d, i) => {
        for (const term of new Set(d.server)) byServer.set(term, [...(byServer.get(term) ?? []), i])
    })
    const servers = new Map<string, { docs: number[]; bonus: number; own: number }>()
    for (const [term, ds] of byServer) {
        const holders = postings.get(term) ?? []
        const mine = new Set(ds)
        const own = holders.length === 0 ? 1 : holders.filter(([d]) => mine.has(d)).length / holders.length
        servers.set(term, { docs: ds, bonus: weights.server * Math.log(1 + (n - ds.length + 0.5) / (ds.length + 0.5)), own })
    }
    const docs = tools.map(t => ({ name: t.name, server: t.server, description: t.description ?? "" }))
    return { docs, postings, idf, servers, actions: all.map(t => performs(t.name)) }
}

/**
 * One part of a query: a tool earns `weight` times the best of the alternatives it matches, an
 * alternative being a list of terms whose BM25 contributions add up. A word the person typed is
 * one alternative of one term; a synonym group is several.
 */
export interface Clause {
    weight: number
    alternatives: readonly (readonly string[])[]
    /**
     * Whether a term names a server at full weight (true, the default, for a word the person typed).
     * A synonym names one only in proportion to how much the word is that server's own: "find"
     * brings in "search", which is in brave-search's name but also in the tool names of five
     * other servers, so it must not pull brave-search above a tool that searches files; "database" brings in
     * "postgres", which no other server's tools say, so it names postgres fully.
     */
    servers?: boolean
    /**
     * Terms the query already scores on their own: an alternative that holds one still needs it
     * to match, but is not credited for it again ("pull request" must not earn merge_pull_request
     * the "request" of "merge request" a second time).
     */
    given?: ReadonlySet<string>
}

/** Each tool's score for a query (tool index → score; tools that match no clause are absent). */
export function score(index: Index, query: readonly Clause[]): Map<number, number> {
    const out = new Map<number, number>()
    for (const c of query) {
        const best = new Map<number, number>()
        for (const alt of c.alternatives) {
            const sum = new Map<number, number>()
            // a phrase counts only where all its words are: "search engine" is not any tool with "search"
            const found = new Map<number, number>()
            for (const term of alt) {
                const here = termScores(index, term, c.servers ?? true)
                const credit = c.given?.has(term) === true ? 0 : 1
                for (const [doc, v] of here) {
                    sum.set(doc, (sum.get(doc) ?? 0) + credit * v)
                    found.set(doc, (found.get(doc) ?? 0) + 1)
                }
            }
            for (const [doc, v] of sum) if (found.get(doc) === alt.length && v > (best.get(doc) ?? 0)) best.set(doc, v)
        }
        for (const [doc, v] of best) out.set(doc, (out.get(doc) ?? 0) + c.weight * v)
    }
    return out
}

/**
 * One term's BM25F contribution to each tool that holds it, plus the bonus if it names the tool's
 * server (scaled by the term's `own` share when `servers` is false: see `Clause`).
 */
function termScores(index: Index, term: string, servers: boolean): Map<number, number> {
    const out = new Map<number, number>()
    const idf = index.idf.get(term) ?? 0
    for (const [doc, tf] of index.postings.get(term) ?? []) out.set(doc, idf * tf * (k1 + 1) / (tf + k1))
    const server = index.servers.get(term)
    if (server) for (const doc of server.docs) out.set(doc, (out.get(doc) ?? 0) + server.bonus * (servers ? 1 : server.own))
    return out
}
