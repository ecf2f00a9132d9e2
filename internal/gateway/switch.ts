/**
 * Switching tools off and on by the names a client sees: `mcplexer tools disable/enable`, the
 * console's switches and the REST API all turn a client-visible name or glob into entries of
 * `servers.<server>.tools.disabled` here, and write config.yaml (comments and order kept) the
 * same way. A running serve takes the change when it reloads the file, as for any edit.
 */
import { readFile } from "node:fs/promises"
import type { Tool } from "@modelcontextprotocol/sdk/types.js"
import picomatch from "picomatch"
import * as config from "../config/index.ts"
import type { State } from "./shape.ts"

/** A tool as `Gateway.tools({all: true})` lists it. */
export type Listed = Tool & { server: string; original: string; state: State["state"] }

/** What one pattern switched: its server and the client-visible names of its tools. */
export interface Flipped { server: string; names: string[] }

const q = (s: string) => JSON.stringify(s)

/**
 * Switches the tools `patterns` name (client-visible names or globs over `all`) off, or back on,
 * in `c.file`; a pattern that matches no tool is an error naming the nearest tool, and nothing is
 * written then. The file is written only when it changes.
 */
export async function flip(c: config.Config, all: Listed[], patterns: string[], off: boolean): Promise<{ file: string; flipped: Flipped[]; written: boolean }> {
    const flips: config.Switch[] = []
    for (const pattern of patterns) {
        const hit = matching(all, pattern)
        for (const [server, tools] of group(hit)) flips.push({ server, pattern: own(c, server, pattern, tools, all), tools: tools.map(t => t.original), disabled: off })
    }
    const before = await readFile(c.file, "utf8")
    const after = config.switches(before, c.file, flips)
    if (after !== before) config.atomic.write(c.file, after)
    const flipped = flips.map(f => ({ server: f.server, names: all.filter(t => t.server === f.server && f.tools.includes(t.original)).map(t => t.name) }))
    return { file: c.file, flipped, written: after !== before }
}

/** The tools a client-visible name or glob names; none is an error that names the nearest tool. */
export function matching(all: Listed[], pattern: string): Listed[] {
    const m = picomatch(pattern, { dot: true })
    const hit = all.filter(t => m(t.name))
    if (hit.length > 0) return hit
    const other = renamed(pattern, all)
    const near = other === undefined ? nearest(pattern, all.map(t => t.name)) : undefined
    const hint = other !== undefined ? `did you mean ${q(other)}? (no server is named ${q(pattern.slice(0, pattern.indexOf("__")))})\n`
        : near !== undefined ? `the nearest tool is ${q(near)}\n` : ""
    throw config.hinted(`no tool matches ${q(pattern)}`, `${hint}see every tool with: mcplexer tools --all`, { kind: "missing" })
}

/**
 * A pattern whose server part is misspelled (`memry__*`), with the nearest server's name in its
 * place, when that matches tools: the spelling of a glob's rest says nothing of which tool was meant.
 */
function renamed(pattern: string, all: Listed[]): string | undefined {
    const cut = pattern.indexOf("__")
    if (cut <= 0) return undefined
    const servers = [...new Set(all.map(t => t.server))]
    const server = pattern.slice(0, cut)
    if (servers.includes(server)) return undefined
    const near = config.suggest(server, servers)
    if (near === undefined) return undefined
    const again = `${near}${pattern.slice(cut)}`
    const m = picomatch(again, { dot: true })
    return all.some(t => m(t.name)) ? again : undefined
}

/** The name in `names` closest to `pattern`: by spelling, else by the words they share. */
export function nearest(pattern: string, names: string[]): string | undefined {
    const bare = pattern.replace(/[*?[\]{}()!+@]/g, "")
    const close = config.suggest(bare, names)
    if (close !== undefined) return close
    // else the name sharing the most words with it: "delete_files" finds "github__delete_file"
    const words = (s: string) => new Set(s.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean))
    const want = words(bare)
    let best: string | undefined, score = 0
    for (const n of names) {
        const have = words(n)
        const shared = [...want].filter(w => have.has(w) || [...have].some(h => h.startsWith(w) || w.startsWith(h))).length
        if (shared > score) [best, score] = [n, shared]
    }
    return best
}

function group(tools: Listed[]): Map<string, Listed[]> {
    const m = new Map<string, Listed[]>()
    for (const t of tools) m.set(t.server, [...m.get(t.server) ?? [], t])
    return m
}

/**
 * The pattern as the server knows it: `github__delete_*` stays a glob (`delete_*`) when the server
 * is prefixed and the glob covers exactly these tools, so a delete tool added later is covered too;
 * otherwise the server's own names.
 */
function own(c: config.Config, server: string, pattern: string, tools: Listed[], all: Listed[]): string {
    const prefix = `${server}__`
    if (tools.length === 1 && !/[*?[{(!]/.test(pattern)) return tools[0]!.original
    if (c.servers.get(server)?.prefix !== false && pattern.startsWith(prefix)) {
        const inner = pattern.slice(prefix.length)
        const m = picomatch(inner, { dot: true })
        const covered = all.filter(t => t.server === server && m(t.original))
        if (covered.length === tools.length) return inner
    }
    return tools.length === 1 ? tools[0]!.original : `{${tools.map(t => t.original).join(",")}}`
}
