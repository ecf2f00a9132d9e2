import { stem, stopwords, words } from "./tokens.ts"

/**
 * The words people use for the same thing, so that a request in a person's words finds a tool
 * described in a programmer's: a person says PR, folder or remember where the tool says pull
 * request, directory or entity. Plain BM25 misses most of its misses this way (NOTES.md).
 *
 * Each group lists words or phrases that mean the same action or object in a request to tools.
 * A query that holds one of them (compared by stem, whole words, a phrase word by word) is expanded
 * with the terms of all the others, at a lower weight than the words the person typed
 * (`rank.synonymWeight`), so a tool named with the person's own word still comes first.
 *
 * The table is about general vocabulary (actions, objects, abbreviations), not about any one
 * server: a group earns its place if a person would use its words interchangeably when asking for
 * a tool. A word may sit in two groups ("open" a PR creates it, "open" a file reads it); both
 * expansions apply, each at the lower weight, and the rest of the query decides.
 */
export const groups: readonly (readonly string[])[] = [
    // code hosting
    ["pull request", "pr", "merge request", "mr", "patch"],
    ["repository", "repo", "project", "codebase"],
    ["issue", "ticket", "bug", "bug report", "task"],
    ["commit", "push", "check in"],
    ["fork", "clone"],
    ["review", "approve", "approval", "lgtm", "request changes"],
    ["status", "checks", "ci", "build", "pipeline"],
    ["rebase", "update branch", "sync", "latest"],
    ["code", "source", "function", "symbol", "usage", "snippet"],
    ["close", "reopen", "state"],
    ["assign", "assignee", "owner"],
    // files
    ["folder", "directory", "dir"],
    ["file", "document", "doc"],
    ["tree", "structure", "hierarchy", "recursive"],
    ["rename", "move", "mv"],
    ["size", "big", "large", "bytes"],
    ["info", "information", "metadata", "details", "stat", "properties"],
    ["image", "picture", "photo", "screenshot", "png", "jpg", "illustration", "drawing", "draw", "artwork", "art", "logo", "media"],
    ["compress", "zip", "gzip", "archive"],
    ["allowed", "permitted", "access"],
    // actions
    ["search", "find", "look up", "lookup", "locate", "seek"],
    ["delete", "remove", "erase", "drop", "discard", "destroy", "forget"],
    ["create", "make", "new", "add", "start", "open", "set up"],
    ["update", "edit", "change", "modify", "fix", "alter", "replace", "amend"],
    ["read", "show", "view", "open", "get", "see", "display", "print", "fetch", "look at", "cat"],
    ["write", "save", "overwrite", "put"],
    ["list", "enumerate", "browse", "exist", "available"],
    ["upload", "push", "put", "add file"],
    ["multiple", "several", "many", "batch", "at once", "bulk"],
    // memory
    ["remember", "memory", "memorize", "store", "entity", "observation", "knowledge graph", "recall", "note", "fact"],
    ["relation", "relationship", "link", "connect", "connection"],
    ["graph", "everything remembered", "all memories"],
    // chat
    ["message", "post", "send", "tell", "notify", "announce", "say", "chat", "dm", "ping"],
    ["reply", "respond", "answer", "comment", "follow up"],
    ["thread", "conversation", "discussion", "replies"],
    ["reaction", "react", "emoji", "thumbs up"],
    ["channel", "room", "chat room"],
    ["user", "person", "people", "member", "members", "who", "teammate", "colleague", "profile"],
    ["history", "recent", "catch up", "backlog", "earlier", "said"],
    // web and places
    ["web", "internet", "online", "google", "search engine", "website", "news", "article"],
    ["local", "nearby", "near", "near me", "around", "business", "restaurant", "shop", "cafe", "store"],
    ["place", "location", "spot", "venue", "point of interest", "poi"],
    ["map", "maps", "geocode", "geographic"],
    ["coordinates", "latitude", "longitude", "lat", "lng", "gps", "geocode"],
    ["address", "street", "where"],
    ["directions", "route", "navigate", "drive", "driving", "walk", "walking", "bike", "transit", "get to", "way to"],
    ["distance", "how far", "travel time", "eta", "duration"],
    ["elevation", "altitude", "height", "above sea level", "high"],
    ["opening hours", "hours", "phone number", "phone", "rating", "reviews", "website", "details"],
    // data
    ["query", "sql", "database", "db", "table", "select", "postgres", "postgresql", "rows", "records"],
    ["knowledge base", "kb", "retrieve", "retrieval", "rag", "bedrock", "passages", "company docs"],
    // thinking and generating
    ["think", "reason", "reasoning", "plan", "reflect", "step by step", "thought", "thoughts", "problem solving", "analyze", "break down"],
    ["generate", "create image", "render", "paint", "draw"],
    ["research", "investigate", "deep dive", "study"],
    // MCP and the demo server
    ["env", "environment", "environment variables", "env vars", "variables"],
    ["sum", "add up", "plus", "total", "addition", "calculate", "arithmetic", "math"],
    ["echo", "repeat", "say back", "parrot"],
    ["log", "logs", "logging"],
    ["toggle", "turn on", "turn off", "enable", "disable", "switch"],
    ["progress", "long running", "slow", "long task"],
    ["sampling", "llm", "model", "completion"],
    ["elicitation", "elicit", "ask the user", "form", "user input"],
    ["roots", "root", "workspace folders"],
]

/** A phrase of the table as stems, and the content terms its group adds when it is matched. */
interface Phrase { stems: string[]; adds: Set<string> }

/** Every phrase of the table once, with the terms of the other phrases of its groups. */
function compile(table: readonly (readonly string[])[]): Phrase[] {
    const byKey = new Map<string, Phrase>()
    for (const group of table) {
        const content = group.map(p => words(p).filter(w => !stopwords.has(w)).map(stem))
        group.forEach((p, i) => {
            const stems = words(p).map(stem)
            const key = stems.join(" ")
            const phrase = byKey.get(key) ?? { stems, adds: new Set<string>() }
            content.forEach((ts, j) => {
                if (j !== i) for (const t of ts) phrase.adds.add(t)
            })
            byKey.set(key, phrase)
        })
    }
    return [...byKey.values()]
}

const phrases = compile(groups)

/**
 * The terms the table adds to a query: for every phrase of the table found in the query's words
 * (whole words, compared by stem, stopwords included so "look up" and "near me" match), the terms
 * of the other phrases of its groups. Terms the query already holds are left out; the order is the
 * table's, so a query always expands the same way.
 */
export function expand(query: string): string[] {
    const ss = words(query).map(stem)
    const own = new Set(words(query).filter(w => !stopwords.has(w)).map(stem))
    const out = new Set<string>()
    for (const p of phrases) {
        for (let i = 0; i + p.stems.length <= ss.length; i++) {
            if (p.stems.every((s, k) => ss[i + k] === s)) {
                for (const t of p.adds) if (!own.has(t)) out.add(t)
                break
            }
        }
    }
    return [...out]
}
