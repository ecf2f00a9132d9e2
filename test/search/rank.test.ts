import assert from "node:assert/strict"
import { test } from "node:test"
import { catalog, recall, tasks } from "../../bench/search.ts"
import * as search from "../../internal/search/index.ts"

const tools = catalog()
const idx = search.index(tools)

test("the same catalog and query always give the same list, ties broken by name", () => {
    const a = search.rank(idx, "open a pull request on github", 20)
    const b = search.rank(search.index(tools), "open a pull request on github", 20)
    assert.deepEqual(a, b)
    const twins = search.index([
        { name: "b__read", server: "b", description: "read a note" },
        { name: "a__read", server: "a", description: "read a note" },
    ])
    assert.deepEqual(search.rank(twins, "read a note").map(h => h.name), ["a__read", "b__read"])
})

test("a hit carries the client-visible name, the server, the description and a score, best first", () => {
    const hits = search.rank(idx, "send a message to a slack channel", 5)
    assert.equal(hits.length, 5)
    assert.deepEqual(Object.keys(hits[0] ?? {}).sort(), ["description", "name", "score", "server"])
    assert.equal(hits[0]?.name, "slack__slack_post_message")
    assert.equal(hits[0]?.server, "slack")
    assert.equal(hits[0]?.description, "Post a new message to a Slack channel")
    for (let i = 1; i < hits.length; i++) assert.ok((hits[i - 1]?.score ?? 0) >= (hits[i]?.score ?? 0))
})

test("limit caps the list, and a request that shares no word with any tool finds nothing", () => {
    assert.equal(search.rank(idx, "file", 3).length, 3)
    assert.equal(search.rank(idx, "file", 0).length, 0)
    assert.ok(search.rank(idx, "file").length <= search.defaultLimit)
    assert.deepEqual(search.rank(idx, "zyxxy quorble"), [])
    assert.deepEqual(search.rank(idx, ""), [])
    assert.deepEqual(search.rank(idx, "the of and to"), [])
})

test("a plural acronym stays one word: PRs is prs, not p and rs", () => {
    assert.deepEqual(search.words("any PRs or MRs with URLs"), ["any", "prs", "or", "mrs", "with", "urls"])
    assert.deepEqual(search.words("getPRsList"), ["get", "prs", "list"])
    assert.deepEqual(search.terms("PRs"), search.terms("PR"))
    assert.equal(search.rank(idx, "are there any PRs waiting on our repo?", 1)[0]?.name, "github__list_pull_requests")
})

test("names split into words at __, _, -, camelCase, acronyms and digits", () => {
    assert.deepEqual(search.words("github__create_pull_request"), ["github", "create", "pull", "request"])
    assert.deepEqual(search.words("trigger-long-running-operation"), ["trigger", "long", "running", "operation"])
    assert.deepEqual(search.words("nextThoughtNeeded"), ["next", "thought", "needed"])
    assert.deepEqual(search.words("parseHTMLFile2x"), ["parse", "html", "file", "2", "x"])
    assert.deepEqual(search.words("maps_reverse_geocode"), ["maps", "reverse", "geocode"])
})

test("a run-together name is found by its parts: sequentialthinking by thinking", () => {
    assert.equal(search.rank(idx, "sequential thinking", 1)[0]?.name, "sequential-thinking__sequentialthinking")
})

test("words are compared by stem: directories, directory; searching, search", () => {
    assert.deepEqual(search.terms("directories"), search.terms("directory"))
    assert.deepEqual(search.terms("searching files"), search.terms("search file"))
    assert.deepEqual(search.terms("the commits"), ["commit"])
    const one = search.index([{ name: "fs__list_directories", server: "fs", description: "Lists directories" }])
    assert.equal(search.rank(one, "listing directory")[0]?.name, "fs__list_directories")
})

test("a person's word finds a tool that only uses its synonym", () => {
    const toy = search.index([
        { name: "fs__create_directory", server: "fs", description: "Create a new directory" },
        { name: "gh__create_pull_request", server: "gh", description: "Create a new pull request" },
        { name: "kg__create_entities", server: "kg", description: "Create entities in the knowledge graph" },
        { name: "chat__post_message", server: "chat", description: "Post a message to a channel" },
    ])
    assert.equal(search.rank(toy, "make a folder")[0]?.name, "fs__create_directory")
    assert.equal(search.rank(toy, "open a PR")[0]?.name, "gh__create_pull_request")
    assert.equal(search.rank(toy, "remember that Alice likes tea")[0]?.name, "kg__create_entities")
    assert.equal(search.rank(toy, "tell the team the deploy is done")[0]?.name, "chat__post_message")
    // on the real catalog too
    assert.equal(search.rank(idx, "make a new folder called reports")[0]?.name, "filesystem__create_directory")
})

test("a synonym weighs less than the word typed: a tool named with the person's word comes first", () => {
    const toy = search.index([
        { name: "x__delete_file", server: "x", description: "Delete a file" },
        { name: "x__remove_file", server: "x", description: "Remove a file" },
        { name: "y__read_memory", server: "y", description: "Read what is stored" },
        { name: "y__add_entity", server: "y", description: "Add an entity" },
    ])
    assert.equal(search.rank(toy, "remove a file")[0]?.name, "x__remove_file")
    assert.equal(search.rank(toy, "delete a file")[0]?.name, "x__delete_file")
    // "memory" is in the catalog, so its related words (entity) weigh less than the word itself
    assert.equal(search.rank(toy, "memory")[0]?.name, "y__read_memory")
})

test("a synonym names a server only as far as the word is that server's own: finding a file is not a web search", () => {
    // "find" brings in "search", a word of brave-search's name that five other servers' tools use too
    assert.equal(search.rank(idx, "find a file by name", 1)[0]?.name, "filesystem__search_files")
    assert.equal(search.rank(idx, "look up a user", 1)[0]?.name, "github__search_users")
    // a word only its server's tools use still names it through a synonym: "database" brings in postgres
    const toy = search.index([
        { name: "postgres__query", server: "postgres", description: "Run a read-only SQL query" },
        { name: "kv__get", server: "kv", description: "Get a stored value" },
    ])
    assert.equal(search.rank(toy, "ask the database", 1)[0]?.name, "postgres__query")
})

test("British and American spellings meet, and Porter's exceptions hold: news is not new", () => {
    assert.deepEqual(search.terms("memorised colours analysed behaviour organisation"), search.terms("memorized colors analyzed behavior organization"))
    assert.deepEqual(search.terms("hour four tour contour"), ["hour", "four", "tour", "contour"])
    assert.notDeepEqual(search.terms("news"), search.terms("new"))
    assert.equal(search.rank(idx, "print out all you have memorised so far", 1)[0]?.name, "memory__read_graph")
})

test("a file name or a local path counts as saying file or directory", () => {
    assert.deepEqual(search.shapes("show me config.yaml"), search.terms("file"))
    assert.deepEqual(search.shapes("open ./src/main.ts"), search.terms("file"))
    assert.deepEqual(search.shapes("ls ~/Downloads"), search.terms("directory"))
    assert.deepEqual(search.shapes("/etc, please."), search.terms("directory"))
    for (const none of ["e.g. this", "release-2.0", "octo/hello", "it's done.", "README"]) assert.deepEqual(search.shapes(none), [], none)
    const top = (q: string) => search.rank(idx, q, 5).map(h => h.name)
    assert.ok(top("ls ~/Downloads").includes("filesystem__list_directory"))
    assert.ok(top("load a.txt, b.txt and c.txt together").includes("filesystem__read_multiple_files"))
})

test("everyday words for an action find its tool: shell verbs, remark, land, lately, swap, load, together", () => {
    const first = (q: string) => search.rank(idx, q, 1)[0]?.name
    assert.equal(first("mkdir build"), "filesystem__create_directory")
    assert.equal(first("ls the src folder"), "filesystem__list_directory")
    assert.equal(first("add a remark to issue 7"), "github__add_issue_comment")
    assert.equal(first("land my pull request"), "github__merge_pull_request")
    assert.equal(first("what happened in #ops lately"), "slack__slack_get_channel_history")
    assert.equal(first("swap foo for bar in app.js"), "filesystem__edit_file")
    assert.equal(first("load two files together"), "filesystem__read_multiple_files")
})

test("the words of an idiom count only through its group: how long is not a long-running operation", () => {
    assert.deepEqual(search.plain("how long is the walk"), search.terms("walk"))
    assert.deepEqual(search.plain("look up a user"), search.terms("user"))
    assert.deepEqual(search.plain("keep in mind that Sam likes jazz"), search.terms("Sam likes jazz"))
    // without its little word the phrase is no idiom, and the word counts as typed
    assert.deepEqual(search.plain("a long list"), search.terms("long list"))
    assert.equal(search.rank(idx, "how long is the walk from the hotel to the museum", 1)[0]?.name, "google-maps__maps_distance_matrix")
})

test("the request's action weighs against the tool's verb: a statement to keep writes, a question about many lists, open a PR creates", () => {
    const first = (q: string) => search.rank(idx, q, 1)[0]?.name
    // the README's examples: each ranked a tool of the right topic but the wrong action first
    assert.ok(["memory__add_observations", "memory__create_entities"].includes(first("remember that Alice prefers tea") ?? ""))
    assert.equal(first("open a PR from my branch"), "github__create_pull_request")
    assert.equal(first("what pull requests are open"), "github__list_pull_requests")
    assert.ok(["memory__add_observations", "memory__create_entities"].includes(first("keep in mind that Priya is my manager") ?? ""))
    assert.equal(first("file a bug on GitHub: app crashes on startup"), "github__create_issue")
    assert.equal(first("that fact about Carol is outdated, take it out"), "memory__delete_observations")
    assert.equal(first("what open bugs do we have in the repo"), "github__list_issues")
    assert.equal(first("show PR 5's title and description"), "github__get_pull_request")
})

test("what a request asks: its first cue, past polite openings and goal questions; a noun-like verb only where an imperative stands", () => {
    assert.deepEqual(search.asks("remember that Alice prefers tea"), ["create"])
    assert.deepEqual(search.asks("forget everything about Bob"), ["delete"])
    assert.deepEqual(search.asks("can you rename draft.md"), ["update"])
    assert.deepEqual(search.asks("I'd like to land PR 42"), ["merge"])
    assert.deepEqual(search.asks("how do I create a branch"), ["create"])
    assert.deepEqual(search.asks("open a PR"), ["create", "read", "list"])
    // a question reads; it asks for a list when it names many things and no number
    assert.deepEqual(search.asks("what pull requests are open"), ["list"])
    assert.deepEqual(search.asks("are there any PRs?"), ["list"])
    assert.deepEqual(search.asks("which files does PR 9 touch"), ["read", "list"])
    assert.deepEqual(search.asks("what did reviewers say"), ["read", "list"])
    assert.deepEqual(search.asks("what's inside config/settings.json?"), ["read", "list"])
    assert.deepEqual(search.asks("the weather in Paris?"), ["read", "list"])
    assert.deepEqual(search.asks("the weather in cities?"), ["list"])
    // "commits", "post", "opening" are nouns here; "file" and "store" are verbs where an imperative stands
    assert.deepEqual(search.asks("recent commits on develop"), [])
    assert.deepEqual(search.asks("a cat for my blog post"), [])
    assert.deepEqual(search.asks("opening hours of that cafe"), [])
    assert.deepEqual(search.asks("file a bug"), ["create"])
    assert.deepEqual(search.asks("Lyon is in France, store that link"), ["create"])
    assert.deepEqual(search.asks("I saved it and deleted the rest"), ["create"])
    // a verb that hands the action on asks for nothing, so "write" after it does not count
    assert.deepEqual(search.asks("ask the model to write a poem"), [])
    assert.deepEqual(search.asks("Alice, Bob"), [])
})

test("what a tool performs: its name's first verb and any joined by or; no verb reads; another verb does none", () => {
    const does = (name: string) => search.performs(search.words(name))
    assert.deepEqual(does("create_or_update_file"), ["create", "update"])
    assert.deepEqual(does("get_pull_request_comments"), ["read"])
    assert.deepEqual(does("create_merge_request"), ["create"])
    assert.deepEqual(does("brave_web_search"), ["list"])
    assert.deepEqual(does("maps_elevation"), ["read"])
    assert.deepEqual(does("directory_tree"), ["read"])
    assert.deepEqual(does("trigger-sampling-request"), [])
    assert.deepEqual(does("deleteUser"), ["delete"])
})

test("the action is a boost, never a filter: a tool whose words match far better still comes first", () => {
    const toy = search.index([
        { name: "w__get_weather", server: "w", description: "Get the weather forecast for a city" },
        { name: "n__add_note", server: "n", description: "Add a note" },
        { name: "n__read_note", server: "n", description: "Read a note" },
    ])
    assert.deepEqual(search.asks("add the city weather forecast to my day"), ["create"])
    assert.equal(search.rank(toy, "add the city weather forecast to my day")[0]?.name, "w__get_weather")
    // between tools whose words match alike, the action decides (by name, add_note would win the tie)
    const twins = search.index([
        { name: "n__add_note", server: "n", description: "note" },
        { name: "n__get_note", server: "n", description: "note" },
    ])
    assert.equal(search.rank(twins, "which note is the newest?")[0]?.name, "n__get_note")
    // a request with no cue ranks by its words alone
    assert.deepEqual(search.asks("a note"), [])
    const plain = search.rank(toy, "a note")
    assert.equal(plain[0]?.score, plain[1]?.score)
})

test("parameters are searched, nested ones and enum values too", () => {
    const toy = search.index([
        {
            name: "s__route",
            server: "s",
            description: "Plan a trip",
            inputSchema: {
                type: "object",
                properties: {
                    legs: { type: "array", items: { type: "object", properties: { waypointLabel: { type: "string", description: "a harbour" } } } },
                    mode: { type: "string", enum: ["bicycling", "transit"] },
                },
            },
        },
        { name: "s__other", server: "s", description: "Something else entirely" },
    ])
    assert.equal(search.rank(toy, "waypoint")[0]?.name, "s__route")
    assert.equal(search.rank(toy, "harbour")[0]?.name, "s__route")
    assert.equal(search.rank(toy, "bicycling")[0]?.name, "s__route")
})

test("a hostile schema (deep, huge) is indexed quickly and without error", () => {
    let deep: Record<string, unknown> = { type: "string" }
    for (let i = 0; i < 10_000; i++) deep = { type: "object", properties: { p: deep } }
    const wide = { type: "object", properties: Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`p${i}`, { type: "string", description: "x" }])) }
    const start = performance.now()
    const hostile = search.index([
        { name: "a__deep", server: "a", inputSchema: deep },
        { name: "a__wide", server: "a", inputSchema: wide },
        { name: "a__fine", server: "a", description: "fine" },
    ])
    assert.ok(performance.now() - start < 1000)
    assert.equal(search.rank(hostile, "fine")[0]?.name, "a__fine")
})

test("recall on the query set: at least 0.9 at 5 and 0.8 at 1 (issue 20's targets are 0.9 and 0.7)", () => {
    const set = tasks()
    assert.ok(set.length >= 70)
    const r = recall(idx, set)
    console.log(`recall@1 ${r.at1.toFixed(3)} recall@5 ${r.at5.toFixed(3)} on ${set.length} tasks`)
    assert.ok(r.at5 >= 0.9, `recall@5 ${r.at5}; missed: ${r.missed.map(m => m.query).join("; ")}`)
    assert.ok(r.at1 >= 0.8, `recall@1 ${r.at1}`)
})

// floors a little under what the held-out set measures, so a change tuned to the query set alone
// cannot quietly cost phrasing nobody tuned for
test("recall on the held-out set written blind: at least 0.95 at 5 and 0.8 at 1", () => {
    const set = tasks("heldout")
    assert.ok(set.length >= 60)
    const r = recall(idx, set)
    console.log(`held-out recall@1 ${r.at1.toFixed(3)} recall@5 ${r.at5.toFixed(3)} on ${set.length} tasks`)
    assert.ok(r.at5 >= 0.95, `recall@5 ${r.at5}; missed: ${r.missed.map(m => m.query).join("; ")}`)
    assert.ok(r.at1 >= 0.8, `recall@1 ${r.at1}`)
})

// the fresh set was written blind and never tuned on: its floors guard phrasing nobody tuned for
test("recall on the fresh set written blind: at least 0.9 at 5 and 0.7 at 1", () => {
    const set = tasks("fresh")
    assert.ok(set.length >= 40)
    const r = recall(idx, set)
    console.log(`fresh recall@1 ${r.at1.toFixed(3)} recall@5 ${r.at5.toFixed(3)} on ${set.length} tasks`)
    assert.ok(r.at5 >= 0.9, `recall@5 ${r.at5}; missed: ${r.missed.map(m => m.query).join("; ")}`)
    assert.ok(r.at1 >= 0.7, `recall@1 ${r.at1}`)
})

test("every tool of the three query sets exists in the catalog", () => {
    const names = new Set(tools.map(t => t.name))
    for (const t of [...tasks(), ...tasks("heldout"), ...tasks("fresh")]) for (const n of t.tools) assert.ok(names.has(n), `${t.query}: no tool ${n}`)
})

test("search mode's list is two tools with object schemas, under a tenth of the full list in characters", () => {
    assert.deepEqual(search.tools.map(t => t.name), ["mcplexer__find_tools", "mcplexer__call_tool"])
    for (const t of search.tools) assert.equal(t.inputSchema.type, "object")
    assert.deepEqual(search.findTools.inputSchema.required, ["query"])
    assert.deepEqual(search.callTool.inputSchema.required, ["name"])
    assert.ok(JSON.stringify(search.tools).length * 10 < JSON.stringify(tools).length)
})
