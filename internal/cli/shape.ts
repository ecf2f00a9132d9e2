// mcplexer tools disable/enable/search/changed/diff/approve: what the model is shown, by the user's hand.
import picomatch from "picomatch"
import * as config from "../config/index.ts"
import * as gateway from "../gateway/index.ts"
import * as search from "../search/index.ts"
import { exit, type Output } from "./output.ts"
import { table } from "./secret.ts"
import { open, type Session } from "./tools.ts"

/** What `tools disable`, `tools enable` and `tools approve` need: client-visible names or globs. */
export interface PatternOptions { paths: config.Paths; patterns: string[] }
/** What `tools search` needs. */
export interface SearchOptions { paths: config.Paths; query: string; limit: number; json: boolean }
/** What `tools changed` and `tools diff` need. */
export interface ChangedOptions { paths: config.Paths; json: boolean }
export interface DiffOptions { paths: config.Paths; tool: string }

type Listed = Awaited<ReturnType<gateway.Gateway["tools"]>>[number]

const q = (s: string) => JSON.stringify(s)

/** Switches tools off in config.yaml (`servers.<server>.tools.disabled`), comments and order kept. */
export function disable(o: PatternOptions, out: Output): Promise<number> {
    return flip(o, out, true)
}

/** Switches tools back on in config.yaml. */
export function enable(o: PatternOptions, out: Output): Promise<number> {
    return flip(o, out, false)
}

async function flip(o: PatternOptions, out: Output, off: boolean): Promise<number> {
    return within(o.paths, out, async s => {
        const r = await gateway.switches.flip(s.config, await s.gw.tools({ all: true }), o.patterns, off)
        const verb = off ? "switched off" : "switched on"
        for (const f of r.flipped) out.info(`${verb} ${f.names.join(", ")} (servers.${f.server}.tools.disabled in ${r.file})`)
        return exit.ok
    })
}

/** Ranks the enabled tools for a task in a person's words (local: no network, no model). */
export async function find(o: SearchOptions, out: Output): Promise<number> {
    return within(o.paths, out, async s => {
        const tools = await s.gw.tools()
        const hits = search.rank(search.index(tools), o.query, o.limit)
        if (o.json) {
            out.out(JSON.stringify(hits.map(h => ({ name: h.name, server: h.server, description: h.description, score: Number(h.score.toFixed(4)) })), null, 2) + "\n")
        } else if (hits.length === 0) {
            out.info(`no tool matches ${q(o.query)}`)
        } else {
            out.out(table(["NAME", "SERVER", "SCORE", "DESCRIPTION"], hits.map(h => [h.name, h.server, h.score.toFixed(2), firstLine(h.description)])))
        }
        return exit.ok
    })
}

/** Lists the tools withheld until a person approves them: changed since pinned, or on a quarantined server. */
export async function changed(o: ChangedOptions, out: Output): Promise<number> {
    return within(o.paths, out, async s => {
        const held = (await s.gw.tools({ all: true })).filter(t => t.state === "withheld" || t.state === "quarantined")
        if (o.json) {
            out.out(JSON.stringify(held.map(t => ({ name: t.name, server: t.server, state: t.state })), null, 2) + "\n")
        } else if (held.length === 0) {
            out.info("no tool is withheld")
        } else {
            out.out(table(["NAME", "SERVER", "STATE"], held.map(t => [t.name, t.server, t.state === "withheld" ? "changed" : "quarantined"])))
            out.hint("see a change with: mcplexer tools diff <name>\naccept it with: mcplexer tools approve <name>")
        }
        return exit.ok
    })
}

/** Shows a withheld tool's approved definition against the one its server presents now. */
export async function diff(o: DiffOptions, out: Output): Promise<number> {
    return within(o.paths, out, async s => {
        const all = await s.gw.tools({ all: true })
        const t = all.find(x => x.name === o.tool)
        if (t === undefined) {
            const near = gateway.switches.nearest(o.tool, all.map(x => x.name))
            throw config.hinted(`unknown tool ${q(o.tool)}`, `${near === undefined ? "" : `did you mean ${q(near)}?\n`}see every tool with: mcplexer tools --all`, { kind: "missing" })
        }
        const text = gateway.change(o.tool, s.gw.pin(t.server, t.original))
        if (text === undefined) {
            out.info(`tool ${q(o.tool)} has not changed since it was approved`)
            return exit.ok
        }
        out.out(text)
        return exit.ok
    })
}

/** Accepts the definition each withheld tool matching the patterns presents now. */
export async function approve(o: PatternOptions, out: Output): Promise<number> {
    return within(o.paths, out, async s => {
        const all = await s.gw.tools({ all: true })
        const held = all.filter(t => t.state === "withheld" || t.state === "quarantined")
        const chosen = new Map<string, Listed>()
        for (const pattern of o.patterns) {
            const m = picomatch(pattern, { dot: true })
            const hit = held.filter(t => m(t.name))
            if (hit.length === 0) throw unheld(pattern, all.filter(t => m(t.name)), all, held)
            for (const t of hit) chosen.set(t.name, t)
        }
        for (const t of chosen.values()) {
            if (s.gw.approve(t.server, t.original, "cli")) out.info(`approved ${t.name}: its definition as presented now is pinned`)
        }
        return exit.ok
    })
}

/**
 * Why `tools approve <pattern>` has nothing to approve: the tools it names are not withheld (their
 * definition is the approved one), or it names no tool at all (then the nearest one).
 */
function unheld(pattern: string, named: Listed[], all: Listed[], held: Listed[]): Error {
    const waiting = held.length === 0 ? "no tool is withheld now" : `withheld now: ${held.slice(0, 5).map(t => t.name).join(", ")}${held.length > 5 ? ", …" : ""} (mcplexer tools changed)`
    if (named.length > 0) {
        const what = named.length === 1 ? `tool ${q(named[0]!.name)} is not withheld: its definition is the approved one` : `none of the ${named.length} tools ${q(pattern)} matches is withheld`
        return config.hinted(`${what}, so there is nothing to approve`, waiting, { kind: "conflict" })
    }
    const near = gateway.switches.nearest(pattern, all.map(t => t.name))
    return config.hinted(`no withheld tool matches ${q(pattern)}, nor does any other tool`, `${near === undefined ? "" : `did you mean ${q(near)}?\n`}${waiting}`, { kind: "missing" })
}

async function within(paths: config.Paths, out: Output, f: (s: Session) => Promise<number>): Promise<number> {
    const s = await open(paths, out)
    try {
        return await f(s)
    } finally {
        await s.close()
    }
}

function firstLine(s: string): string {
    const l = s.trim().split("\n")[0] ?? ""
    return l.length > 90 ? `${l.slice(0, 89)}…` : l
}
