/**
 * Tool search benchmark (issue 20): on the 95 tools of the 12 reference servers
 * (test/fixtures/tools12.json, made by bench/catalogs.ts), recall@1 and recall@5 of
 * internal/search on the query set test/search/queries.json and on the held-out set
 * test/search/heldout.json (written blind, then used for tuning) and on test/search/fresh.json
 * (written blind and kept out of tuning, so it shows how the ranking does on phrasing nobody tuned
 * for), the median time of one search, and
 * what `tools/list` costs the model in tokens (o200k, a real BPE tokenizer) in full and in search
 * mode. The tests (test/search/rank.test.ts) assert the recall targets on the same functions.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import * as search from "../internal/search/index.ts"
import { median } from "./stats.ts"

const root = join(import.meta.dirname, "..")

/** A tool as the fixture keeps it. */
interface Listed { name: string; title?: string; description?: string; inputSchema: unknown; annotations?: unknown }

/** One task of the query set and the client-visible names of the tools that answer it. */
export interface Task { query: string; tools: string[] }

/** The 12 servers' tools as `serve` lists them: each named `<server>__<tool>`. */
export function catalog(): Array<Listed & { server: string }> {
    const byServer = JSON.parse(readFileSync(join(root, "test", "fixtures", "tools12.json"), "utf8")) as Record<string, Listed[]>
    return Object.entries(byServer).flatMap(([server, tools]) => tools.map(t => ({ ...t, name: `${server}__${t.name}`, server })))
}

/**
 * The query set, or with `heldout` and `fresh` the sets written blind (before their authors read
 * the ranking or the other sets): heldout was later used for tuning, fresh only measures.
 */
export function tasks(set: "queries" | "heldout" | "fresh" = "queries"): Task[] {
    return JSON.parse(readFileSync(join(root, "test", "search", `${set}.json`), "utf8")) as Task[]
}

/** Recall at 1 and at 5 (a task counts if any of its tools is there), and the tasks missed at 5. */
export function recall(idx: search.Index, set: Task[]): { at1: number; at5: number; missed: Array<Task & { got: string[] }> } {
    let at1 = 0
    let at5 = 0
    const missed: Array<Task & { got: string[] }> = []
    for (const t of set) {
        const got = search.rank(idx, t.query, 5).map(h => h.name)
        if (got[0] !== undefined && t.tools.includes(got[0])) at1++
        if (got.some(n => t.tools.includes(n))) at5++
        else missed.push({ ...t, got })
    }
    return { at1: at1 / set.length, at5: at5 / set.length, missed }
}

/** Runs the search benchmark and prints its figures. */
export async function run(): Promise<void> {
    // loaded here, not at the top: the tests import this file without the tokenizer's 2 MB of ranks
    const { encode } = await import("gpt-tokenizer/encoding/o200k_base")
    const tools = catalog()
    const set = tasks()
    const idx = search.index(tools)
    const r = recall(idx, set)
    console.log(`recall on ${set.length} tasks over ${tools.length} tools: @1 ${r.at1.toFixed(3)}  @5 ${r.at5.toFixed(3)}  (targets 0.7 and 0.9)`)
    const held = tasks("heldout")
    const h = recall(idx, held)
    console.log(`held-out set (written blind): recall@1 ${h.at1.toFixed(3)}, recall@5 ${h.at5.toFixed(3)} on ${held.length} tasks`)
    const fresh = tasks("fresh")
    const f = recall(idx, fresh)
    console.log(`fresh set (written blind, not tuned on): recall@1 ${f.at1.toFixed(3)}, recall@5 ${f.at5.toFixed(3)} on ${fresh.length} tasks`)

    const samples: number[] = []
    for (let rep = 0; rep < 20; rep++) {
        for (const t of set) {
            const start = performance.now()
            search.rank(idx, t.query, search.findLimit)
            samples.push(performance.now() - start)
        }
    }
    const build: number[] = []
    for (let rep = 0; rep < 20; rep++) {
        const start = performance.now()
        search.index(tools)
        build.push(performance.now() - start)
    }
    console.log(`one search over ${tools.length} tools: median ${(median(samples) * 1000).toFixed(0)} µs (index built once, in ${median(build).toFixed(1)} ms)`)

    // the tools/list result as the client receives it; the fixture keeps what serve passes on
    const full = JSON.stringify({ tools: tools.map(({ server: _server, ...t }) => t) })
    const mode = JSON.stringify({ tools: search.tools })
    const [a, b] = [encode(full).length, encode(mode).length]
    console.log(`tools/list, full:        ${String(tools.length).padStart(3)} tools ${String(a).padStart(6)} tokens (o200k)`)
    console.log(`tools/list, search mode: ${String(search.tools.length).padStart(3)} tools ${String(b).padStart(6)} tokens, ${(b / a).toFixed(3)} of the full list (target ≤ 0.1)`)
}
