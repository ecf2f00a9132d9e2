import { stem, stopwords, words } from "./tokens.ts"

/**
 * The words people use for the same thing, so that a request in a person's words finds a tool
 * described in a programmer's: a person says PR, folder or remember where the tool says pull
 * request, directory or entity. Plain BM25 misses most of its misses this way (NOTES.md).
 *
 * Each group lists words or phrases that a person uses for the same action or object when asking
 * for a tool. A query that holds one of them (whole words compared by stem, a phrase word by word)
 * is expanded with the others. Two tiers:
 *
 * - `same`: abbreviations and plain equivalents (PR and pull request, repo and repository, folder
 *   and directory, make and create). They weigh `sameWeight`, nearly as much as the word typed.
 * - `related`: words close enough to stand in for each other in a request (remember and entity,
 *   message and post, directions and route). They weigh `relatedWeight`, less than the word typed,
 *   so a tool named with the person's own word still comes first.
 *
 * When none of the person's words for a group is in the catalog at all, the group is all there is,
 * and it weighs fully, whatever its tier.
 *
 * A phrase that needs one of its little words to mean what it means ("how long", "look up", "keep
 * in mind") is an idiom: its other words count only through its group, never as typed (`plain`).
 *
 * A tool is credited with the best phrase of a group it matches, not with all of them, so a group
 * counts once however many of its words a description repeats. The table is about general
 * vocabulary, not about one server: a group earns its place if a person would use its words
 * interchangeably when asking for a tool. A word may sit in two groups ("open" a PR creates it,
 * "open" a file reads it); both apply, and the rest of the query decides.
 */
export const same: readonly (readonly string[])[] = [
    ["pull request", "pr"],
    ["merge request", "mr"],
    ["repository", "repo"],
    ["directory", "folder", "dir"],
    ["database", "db"],
    ["knowledge base", "kb"],
    ["environment", "env"],
    ["information", "info"],
    ["configuration", "config"],
    ["message", "msg"],
    ["latitude", "lat"],
    ["longitude", "lng", "lon"],
    ["create", "make", "new"],
    ["delete", "remove", "erase", "rm"],
    ["search", "find", "look up", "lookup", "look for"],
    ["image", "picture", "pic", "photo"],
    ["reply", "respond", "answer"],
    ["directions", "route"],
    ["elevation", "altitude"],
    ["rename", "move", "mv"],
    // shell commands people type as verbs
    ["create directory", "mkdir"],
    ["list directory", "ls"],
]

/** Words that can stand in for each other in a request, weighed below the words typed (see `same`). */
export const related: readonly (readonly string[])[] = [
    // code hosting
    ["pull request", "merge request", "patch", "change"],
    ["repository", "project", "repo"],
    ["issue", "ticket", "bug", "bug report", "task"],
    ["commit", "push", "check in"],
    ["fork", "clone"],
    ["merge", "land"],
    ["review", "approve", "approval", "lgtm", "request changes"],
    ["status", "checks", "ci", "build", "pipeline"],
    ["rebase", "update branch", "sync", "latest"],
    ["code", "codebase", "source", "source code", "function", "symbol", "usage", "snippet"],
    ["close", "reopen", "state"],
    ["assign", "assignee", "owner"],
    // files
    ["file", "document", "doc"],
    ["tree", "structure", "hierarchy", "recursive"],
    ["size", "big", "large", "bytes"],
    ["info", "metadata", "details", "stat", "properties"],
    ["image", "screenshot", "png", "jpg", "illustration", "drawing", "draw", "artwork", "art", "logo", "media"],
    ["compress", "zip", "gzip", "archive"],
    ["allowed", "permitted", "access"],
    // actions
    ["search", "locate", "seek", "query"],
    ["delete", "drop", "discard", "destroy", "forget", "clear"],
    ["create", "add", "start", "open", "set up", "generate", "raise"],
    ["update", "edit", "change", "modify", "fix", "alter", "replace", "amend", "swap", "substitute"],
    ["read", "show", "view", "open", "get", "see", "display", "print", "fetch", "look at", "cat", "load"],
    ["write", "save", "overwrite", "put"],
    ["list", "enumerate", "browse", "exist", "available", "all"],
    ["upload", "push", "put", "add file"],
    ["multiple", "several", "many", "batch", "at once", "bulk", "together", "in one go"],
    // memory
    ["remember", "memory", "memorize", "entity", "observation", "knowledge graph", "recall", "fact", "keep in mind", "note down", "jot down"],
    ["relation", "relationship", "link", "connect", "connection"],
    // chat
    ["message", "post", "send", "tell", "notify", "announce", "say", "chat", "dm", "ping"],
    ["reply", "comment", "follow up", "remark"],
    ["thread", "conversation", "discussion", "replies"],
    ["reaction", "react", "emoji"],
    ["channel", "room", "chat room"],
    ["user", "person", "people", "member", "members", "who", "teammate", "colleague", "profile"],
    ["history", "recent", "lately", "catch up", "backlog", "earlier"],
    // web and places
    ["web", "internet", "online", "google", "search engine", "website", "news", "article"],
    ["local", "nearby", "near", "near me", "around", "business", "restaurant", "shop", "cafe"],
    ["place", "location", "spot", "venue", "point of interest", "poi"],
    ["map", "geocode", "geographic"],
    ["coordinates", "latitude", "longitude", "gps", "geocode"],
    ["address", "street", "where"],
    ["directions", "navigate", "drive", "driving", "walk", "walking", "bike", "transit", "get to", "way to"],
    ["distance", "how far", "how long", "travel time", "eta", "duration"],
    ["elevation", "height", "above sea level", "high"],
    ["details", "opening hours", "hours", "phone number", "phone", "rating", "reviews", "website"],
    // data
    ["query", "sql", "database", "table", "select", "postgres", "postgresql", "rows", "records"],
    ["knowledge base", "retrieve", "retrieval", "rag", "bedrock", "passages", "company docs"],
    // thinking and generating
    ["think", "reason", "reasoning", "plan", "reflect", "step by step", "thought", "thoughts", "problem solving", "analyze", "break down"],
    ["generate", "render", "paint", "draw"],
    ["research", "investigate", "deep dive", "study"],
    // MCP and the demo server
    ["environment", "environment variables", "env vars", "variables"],
    ["sum", "add up", "plus", "total", "addition", "calculate", "arithmetic", "math"],
    ["echo", "repeat", "say back", "parrot"],
    ["log", "logs", "logging"],
    ["toggle", "turn on", "turn off", "enable", "disable", "switch"],
    ["progress", "long running", "slow", "long task"],
    ["sampling", "llm", "model", "completion"],
    ["elicitation", "elicit", "ask the user", "form", "user input"],
    ["roots", "root", "workspace folders"],
]

/** The weight of a `same` group against 1 for the words typed: just below, so the word typed wins a tie. */
export const sameWeight = 0.9

/** The weight of a `related` group against 1 for the words typed. */
export const relatedWeight = 0.4

/** Both tiers in one list, `same` first; a group's index here is its identity. */
const all = [...same.map(g => ({ group: g, weight: sameWeight })), ...related.map(g => ({ group: g, weight: relatedWeight }))]

/** A phrase of the table as stems, and the groups it belongs to. */
interface Phrase { stems: string[]; groups: number[] }

/** Each group's phrases as content terms (stopwords out, stemmed). */
const alternatives: string[][][] = all.map(({ group }) => group.map(p => words(p).filter(w => !stopwords.has(w)).map(stem)))

/** Every phrase of the table once, as the word stems a query must hold in a row to match it. */
const phrases: Phrase[] = (() => {
    const byKey = new Map<string, Phrase>()
    all.forEach(({ group }, i) => {
        for (const p of group) {
            const stems = words(p).map(stem)
            const key = stems.join(" ")
            const phrase = byKey.get(key) ?? { stems, groups: [] }
            if (!phrase.groups.includes(i)) phrase.groups.push(i)
            byKey.set(key, phrase)
        }
    })
    return [...byKey.values()]
})()

/** A synonym group a query touched: its tier's weight, the query's phrases of it (as terms), the group's other phrases. */
export interface Expansion { weight: number; said: string[][]; alternatives: string[][] }

/** The phrases of the table by their first stem, so a query is matched word by word, not phrase by phrase. */
const byFirst: ReadonlyMap<string, readonly Phrase[]> = (() => {
    const m = new Map<string, Phrase[]>()
    for (const p of phrases) {
        const first = p.stems[0]
        if (first !== undefined) m.set(first, [...(m.get(first) ?? []), p])
    }
    return m
})()

/** A query's words, where each phrase of the table first occurs in them (compared by stem), and its own terms. */
function read(query: string): { ws: string[]; hits: Array<{ phrase: Phrase; at: number }>; own: string[] } {
    const ws = words(query)
    const ss = ws.map(stem)
    const hits: Array<{ phrase: Phrase; at: number }> = []
    const seen = new Set<Phrase>()
    ss.forEach((s, i) => {
        for (const p of byFirst.get(s) ?? []) {
            if (!seen.has(p) && p.stems.every((t, k) => ss[i + k] === t)) {
                seen.add(p)
                hits.push({ phrase: p, at: i })
            }
        }
    })
    const idiom = new Set<number>()
    for (const { phrase, at } of hits) {
        const span = ws.slice(at, at + phrase.stems.length)
        if (span.length > 1 && span.some(w => stopwords.has(w))) span.forEach((_w, k) => idiom.add(at + k))
    }
    const own = [...new Set(ss.filter((_s, i) => !idiom.has(i) && !stopwords.has(ws[i] ?? "")))]
    return { ws, hits, own }
}

/**
 * The query's own terms (stopwords out, stemmed), without the words of an idiom of the table: a
 * phrase that needs one of its little words to mean what it means ("how long", "look up", "keep in
 * mind", "near me"). Such a word says nothing alone ("long" is not a long-running operation), so it
 * counts only through its group.
 */
export function plain(query: string): string[] {
    return read(query).own
}

/**
 * What the table adds to a query: for every group one of whose phrases the query holds (whole
 * words in a row, compared by stem, stopwords included so "look up" and "near me" match), the
 * group's other phrases as alternatives, each a list of terms. Alternatives made only of the
 * query's own terms (`plain`) are left out. Groups come in the table's order, so a query always
 * expands the same way.
 */
export function expand(query: string): Expansion[] {
    const { ws, hits, own: plainTerms } = read(query)
    const own = new Set(plainTerms)
    const matched = new Map<number, string[][]>()
    for (const { phrase: p, at } of hits) {
        const said = p.stems.filter((_s, k) => !stopwords.has(ws[at + k] ?? ""))
        for (const g of p.groups) matched.set(g, [...(matched.get(g) ?? []), said])
    }
    return [...matched].sort(([a], [b]) => a - b)
        .map(([g, said]) => ({ weight: all[g]?.weight ?? 0, said, alternatives: (alternatives[g] ?? []).filter(alt => alt.length > 0 && !alt.every(t => own.has(t))) }))
        .filter(e => e.alternatives.length > 0)
}
