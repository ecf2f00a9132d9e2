/**
 * The tools as the console and the REST API show and change them: every tool with its state
 * (enabled, switched off, withheld, quarantined), its flags, the change waiting on a withheld one,
 * and about how many tokens it costs the model; ranking with the same search as `mcplexer tools
 * search`; switching through gateway.switches, as `mcplexer tools disable/enable` does.
 */
import * as config from "../config/index.ts"
import * as gateway from "../gateway/index.ts"
import * as search from "../search/index.ts"
import type { Options } from "./options.ts"

/** One tool as the console lists it. */
export interface Tool {
    /** the client-visible name */
    name: string
    server: string
    original: string
    state: gateway.State["state"]
    title?: string
    description: string
    readOnly: boolean
    destructive: boolean
    /** about how many tokens its definition adds to tools/list */
    tokens: number
    flags: gateway.Flag[]
    /** a withheld or quarantined tool: the diff from what was approved to what its server presents now */
    change?: string
    /** with a search: its score (higher is better) */
    score?: number
}

/**
 * Tokens a definition costs, estimated as one per four characters of its JSON: the console needs
 * an order of magnitude to compare tools by, not a count, and a tokenizer's tables (several MB)
 * would load into every serve for it. `npm run bench` counts the real o200k tokens.
 */
export function tokens(t: object): number {
    return Math.ceil(JSON.stringify(t).length / 4)
}

/**
 * Every tool with its state, in catalog order; with `q`, the tools the search ranks for it, best
 * first (enabled tools only, as `mcplexer tools search`: switched-off tools are not found).
 */
export async function list(o: Options, q?: string): Promise<Tool[]> {
    const all = await o.gateway.tools({ all: true })
    const shown = (t: gateway.switches.Listed, score?: number): Tool => {
        const { server, original, state, ...def } = t
        const change = state === "withheld" || state === "quarantined" ? gateway.change(t.name, o.gateway.pin(server, original)) : undefined
        return {
            name: t.name, server, original, state, ...(t.title === undefined ? {} : { title: t.title }), description: t.description ?? "",
            readOnly: t.annotations?.readOnlyHint === true, destructive: t.annotations?.destructiveHint === true,
            tokens: tokens(def), flags: gateway.flags(t), ...(change === undefined ? {} : { change }), ...(score === undefined ? {} : { score }),
        }
    }
    if (q === undefined || q.trim() === "") return all.map(t => shown(t))
    const enabled = all.filter(t => t.state === "enabled")
    const byName = new Map(enabled.map(t => [t.name, t]))
    return search.rank(search.index(enabled), q, enabled.length).map(h => shown(byName.get(h.name)!, Number(h.score.toFixed(4))))
}

/**
 * Switches the tools a client-visible name or glob names off or on in config.yaml, then waits
 * (up to `wait` ms) until the gateway serves the change, which it takes when serve reloads the
 * file; `live` says whether it did in time.
 */
export async function flip(o: Options, pattern: string, off: boolean, wait = 2000): Promise<{ file: string; names: string[]; written: boolean; live: boolean }> {
    const r = await gateway.switches.flip(o.config(), await o.gateway.tools({ all: true }), [pattern], off)
    const names = r.flipped.flatMap(f => f.names)
    const done = async () => {
        const now = new Map((await o.gateway.tools({ all: true })).map(t => [t.name, t.state]))
        return names.every(n => (now.get(n) === "disabled") === off)
    }
    const end = performance.now() + wait
    let live = await done()
    while (!live && performance.now() < end) {
        await new Promise(r => setTimeout(r, 50))
        live = await done()
    }
    o.log.info(`http: switched ${off ? "off" : "on"} ${names.join(", ")}`, { file: r.file })
    return { file: r.file, names, written: r.written, live }
}

/** Accepts the definition a withheld or quarantined tool presents now. */
export async function approve(o: Options, name: string, by: string): Promise<{ name: string; approved: boolean }> {
    const t = (await o.gateway.tools({ all: true })).find(x => x.name === name)
    if (t === undefined) {
        const near = gateway.switches.nearest(name, (await o.gateway.tools({ all: true })).map(x => x.name))
        throw config.hinted(`unknown tool ${JSON.stringify(name)}`, near === undefined ? "see the tools with GET /api/v1/tools" : `did you mean ${JSON.stringify(near)}?`, { kind: "missing" })
    }
    if (t.state !== "withheld" && t.state !== "quarantined") {
        throw config.hinted(`tool ${JSON.stringify(name)} is not withheld`, "only a changed tool, or one of a quarantined server, waits for approval", { kind: "conflict" })
    }
    return { name, approved: o.gateway.approve(t.server, t.original, by) }
}
