/**
 * What a request asks to do and what a tool does, as one of a few actions, so the ranking can
 * prefer the tool that does what was asked: "remember that Alice prefers tea" is a write, so
 * add_observations before read_graph; "what pull requests are open" asks for a list, so
 * list_pull_requests before merge_pull_request. The synonym table matches every tool of a topic
 * alike; this weighs the verb.
 *
 * A tool's actions come from the verbs of its name (create_or_update_file: create and update); a
 * name without a verb names what the tool returns (maps_elevation, directory_tree), so it reads.
 *
 * A request's action is its first cue: an imperative's verb ("forget everything about Bob"), a
 * statement to keep ("remember that", "note that"), or a question ("what", "which", "are there",
 * a closing "?"). Polite openings ("can you", "please", "I'd like to") and goal questions ("how do
 * I …") are skipped, so the verb after them decides. A word that is as often a noun ("file", "post",
 * "commit", "note") is a cue only in its base form where an imperative stands: first, at the start
 * of a clause ("Lyon is in France, store that link"), or after "to", "and", "then" or "you". A verb
 * is matched with its -ed and -ing forms but not its -s form, which in a request is nearly always a
 * plural noun ("recent commits"). A verb that hands the action on ("ask the model to write …",
 * "run", "trigger") stops the search with no action. A question reads; it asks for a list when it
 * names many things (see `many`).
 *
 * A tool that performs an action the request asks for has its score multiplied by 1 +
 * `actionBoost`; nothing else changes. A request with no cue ranks as before: a boost, never a
 * filter, so a tool whose words match far better still comes first.
 */
import { stem, stopwords, words } from "./tokens.ts"

/**
 * The actions a request asks for and a tool performs: `list` is reading many (list, search),
 * `read` reading one thing (get, read, open) or, for a request, either.
 */
export type Action = "create" | "read" | "list" | "update" | "delete" | "merge"

/**
 * Verbs of tool names and the action each performs. A tool whose name holds another verb
 * (trigger, echo, gzip) performs none of these: it is neither boosted nor counted as a reader.
 */
export const toolVerbs: Readonly<Record<string, Action>> = {
    create: "create", add: "create", new: "create", post: "create", write: "create", push: "create",
    generate: "create", make: "create", insert: "create", upload: "create", send: "create", reply: "create",
    save: "create", store: "create", put: "create", append: "create", comment: "create", react: "create", fork: "create",
    get: "read", read: "read", open: "read", fetch: "read", retrieve: "read", show: "read", view: "read",
    describe: "read", download: "read", query: "read",
    list: "list", search: "list", find: "list", lookup: "list",
    update: "update", edit: "update", modify: "update", set: "update", rename: "update", move: "update",
    patch: "update", replace: "update", toggle: "update", change: "update",
    delete: "delete", remove: "delete", clear: "delete", drop: "delete", erase: "delete", purge: "delete",
    merge: "merge",
}

/** Other verbs a tool's name may hold: they name an action outside the table, so the tool is not a reader. */
const otherVerbs = new Set(["trigger", "echo", "gzip", "compress", "simulate", "run", "call", "execute", "convert", "calculate", "sequentialthinking"])

/**
 * A request's words or phrases and the actions they ask for (`open` a PR creates it, `open` a file
 * reads it: both). A phrase matches word by word; its first word in any of its verb forms.
 */
export const requestCues: ReadonlyArray<readonly [phrase: string, actions: readonly Action[]]> = [
    ...[
        "remember", "memorize", "note", "note down", "jot", "jot down", "save", "store", "record", "keep in mind", "keep track",
        "add", "create", "make", "new", "start", "raise", "set up", "post", "send", "tell", "let know", "write", "file",
        "draft", "submit", "put", "publish", "upload", "push", "commit", "generate", "draw", "register", "reply", "answer",
        "respond", "comment", "react", "announce", "notify", "ping", "leave", "link", "connect", "relate", "copy", "log",
    ].map(p => [p, ["create"]] as const),
    ["open", ["create", "read"]],
    ...[
        "what", "which", "who", "whose", "where", "when", "how", "show", "list", "see", "view", "display", "get", "fetch",
        "read", "find", "search", "look", "check", "pull up", "tell me", "give me", "print", "load", "browse", "catch up",
        "inspect", "count", "query",
    ].map(p => [p, ["read"]] as const),
    ...[
        "change", "rename", "edit", "modify", "update", "fix", "replace", "amend", "correct", "close", "reopen", "move",
        "set", "toggle", "turn on", "turn off", "enable", "disable", "switch", "swap", "rebase", "sync", "refresh", "mark",
        "assign", "tweak", "adjust", "overwrite",
    ].map(p => [p, ["update"]] as const),
    ...[
        "delete", "remove", "drop", "erase", "forget", "discard", "destroy", "clear", "wipe", "purge", "get rid", "take out",
        "take it out", "take them out", "take off", "unlink", "rm", "rmdir",
    ].map(p => [p, ["delete"]] as const),
    ...["merge", "land"].map(p => [p, ["merge"]] as const),
    // verbs that hand the action to something else ("ask the model to write …"): the search stops at them, asking for nothing
    ...["ask", "run", "call", "execute", "trigger", "simulate"].map(p => [p, []] as const),
]

/** Cue words as often nouns as verbs: a cue only where an imperative verb stands (see the module comment). */
const ambiguous = new Set([
    "file", "note", "log", "record", "draft", "post", "commit", "link", "copy", "comment", "reply", "answer", "set", "count",
    "list", "check", "start", "land", "mark", "ping", "query", "change", "update", "view", "display", "print", "push",
    "search", "store", "switch", "look", "open", "close", "fix", "find",
])

/** The words after which a verb stands as an imperative or an infinitive. */
const before = new Set(["to", "and", "then", "you", "s", "please", "also", "just"])

/** Words that open a question when they come first ("are there any …", "did the checks pass"). */
const questionOpeners = new Set(["is", "are", "was", "were", "do", "does", "did", "has", "have", "any"])

/** Openings that carry no action: skipped so the verb after them decides. */
const polite = ["can you", "could you", "would you", "will you", "please", "go ahead and", "i d like to", "i would like to", "i want to", "i need to", "help me", "let s", "quick", "hey"]

/** A goal question ("how do I open a PR", "how to …") asks how to act, not to read: its verb decides. */
const goalQuestion = /^(how|what|where)\s+(do|can|could|should|would)\s+(i|we)\b|^how\s+to\b/

/** The -ed and -ing forms of a verb (and itself), spelling rules included: save → saved, saving; drop → dropped. */
export function forms(verb: string): string[] {
    const out = [verb, `${verb}ed`, `${verb}ing`]
    if (verb.endsWith("e")) out.push(`${verb}d`, `${verb.slice(0, -1)}ing`)
    if (/[^aeiou]y$/.test(verb)) out.push(`${verb.slice(0, -1)}ied`)
    if (/[^aeiou][aeiou][bdgklmnprt]$/.test(verb)) out.push(`${verb}${verb.at(-1) ?? ""}ed`, `${verb}${verb.at(-1) ?? ""}ing`)
    return out
}

/** The cue table by the forms of each phrase's first word, longest phrase first ("tell me" before "tell"). */
const cues: ReadonlyMap<string, ReadonlyArray<{ base: string; rest: string[]; actions: readonly Action[]; ambiguous: boolean }>> = (() => {
    const m = new Map<string, Array<{ base: string; rest: string[]; actions: readonly Action[]; ambiguous: boolean }>>()
    for (const [phrase, actions] of requestCues) {
        const [first = "", ...rest] = words(phrase)
        for (const f of forms(first)) m.set(f, [...(m.get(f) ?? []), { base: first, rest, actions, ambiguous: ambiguous.has(first) }])
    }
    for (const list of m.values()) list.sort((a, b) => b.rest.length - a.rest.length)
    return m
})()

/** The verbs of the tool table as stems. */
const toolStems: ReadonlyMap<string, Action> = new Map(Object.entries(toolVerbs).map(([v, a]) => [stem(v), a]))
const otherStems: ReadonlySet<string> = new Set([...otherVerbs].map(stem))

/**
 * The actions a tool performs, from the words of its name (without its server prefix): its first
 * verb and any joined to it by "or" or "and" (create_or_update_file), so a later noun
 * (get_pull_request_comments, create_merge_request) is not read as a verb; `read` when the name
 * holds no verb at all (it names what it returns: maps_elevation, directory_tree).
 */
export function performs(name: readonly string[]): Action[] {
    const at = name.findIndex(w => toolStems.has(stem(w)) || otherStems.has(stem(w)))
    if (at < 0) return ["read"]
    const out = new Set<Action>()
    for (let i = at; i < name.length; i += 2) {
        const a = toolStems.get(stem(name[i] ?? ""))
        if (a !== undefined) out.add(a)
        if (name[i + 1] !== "or" && name[i + 1] !== "and") break
    }
    return [...out]
}

/**
 * A word of a request: whether an imperative may stand there (a clause's start), and whether it
 * names something rather than saying it: part of a path or file name, or capitalised after the
 * first word (Paris, Jenkins; not an acronym: PRs).
 */
interface Word { w: string; start: boolean; name: boolean }

/** A request's words, with where its clauses start (after , ; : . ! ?) and which words are names. */
function read(request: string): Word[] {
    const out: Word[] = []
    let start = true
    for (const token of request.split(/\s+/)) {
        const name = /[\w-][./][\w~]/.test(token) || (out.length > 0 && /^\p{Lu}\p{Ll}/u.test(token))
        for (const w of words(token)) {
            out.push({ w, start, name })
            start = false
        }
        if (/[,;:.!?]$/.test(token)) start = true
    }
    return out
}

/** The auxiliaries that, right after a question word, make the question about an act, not about things ("what did reviewers say"). */
const auxiliaries = new Set(["do", "does", "did", "is", "are", "was", "were", "has", "have", "had", "can", "could", "will", "would", "should"])

/**
 * Whether a request that reads asks for many things: within three content words after its cue it
 * names a plural ("what pull requests are open", "any good restaurants near me", "show me the recent
 * commits") and nowhere a number (PR 5 is one). A question word followed by an auxiliary asks
 * about an act ("what did reviewers say"), and names (settings.json, Paris) are no plurals.
 */
function many(ws: readonly Word[], cue: number): boolean {
    if (ws.some(x => /^\d/.test(x.w))) return false
    if (auxiliaries.has(ws[cue + 1]?.w ?? "") && !questionOpeners.has(ws[cue]?.w ?? "")) return false
    const next = ws.slice(cue + 1).filter(x => !stopwords.has(x.w) && x.w !== "any").slice(0, 3)
    return next.some(x => !x.name && x.w.length >= 3 && /[^su]s$/.test(x.w) && stem(x.w) !== x.w)
}

/**
 * The actions a request asks for (see the module comment): a tool that performs one of them is
 * boosted. Empty when the request gives no cue. A request that reads asks for `list` alone when
 * it names many things, else for `read` and `list` (a question about one thing may be answered by
 * a search).
 */
export function asks(request: string): Action[] {
    const all = read(request)
    let from = 0
    for (let again = true; again;) {
        again = false
        for (const p of polite) {
            const pw = p.split(" ")
            if (pw.every((w, k) => all[from + k]?.w === w)) {
                from += pw.length
                again = true
            }
        }
    }
    const ws = all.map(x => x.w)
    const goal = goalQuestion.exec(ws.slice(from).join(" "))
    if (goal) from += goal[0].split(" ").length
    let found: readonly Action[] | undefined
    let cue = from
    if (!goal && questionOpeners.has(ws[from] ?? "")) found = ["read"]
    for (let i = from; i < ws.length && found === undefined; i++) {
        const imperative = i === from || all[i]?.start === true || before.has(ws[i - 1] ?? "")
        for (const c of cues.get(ws[i] ?? "") ?? []) {
            // a word as often a noun counts only in its base form where an imperative stands
            if (c.ambiguous && !(imperative && c.base === ws[i])) continue
            if (c.rest.every((t, k) => ws[i + 1 + k] === t)) {
                found = c.actions
                cue = i
                break
            }
        }
    }
    if (found === undefined && request.trimEnd().endsWith("?")) found = ["read"]
    if (found === undefined || found.length === 0) return []
    if (!found.includes("read")) return [...found]
    return many(all, cue) && found.length === 1 ? ["list"] : [...found, "list"]
}

/** What a tool that performs an action the request asks for earns: its score times 1 + this. */
export const actionBoost = 0.4
