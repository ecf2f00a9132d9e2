import { parse as fromToml, stringify as toToml } from "smol-toml"
import type { Client } from "./where.ts"

/** How a client starts mcplexer. */
export interface Launch {
    command: string
    args: string[]
    /** only what differs from the defaults (MCPLEXER_HOME) */
    env: Record<string, string>
}

/** The name mcplexer's entry has in every client's file. */
export const self = "mcplexer"

/** The key a client keeps its servers under. */
function key(client: Client): string {
    return client === "vscode" ? "servers" : client === "codex" ? "mcp_servers" : "mcpServers"
}

/** mcplexer's entry in `client`'s own shape. */
export function entry(client: Client, l: Launch): Record<string, unknown> {
    const typed = client === "vscode" || client === "claude-code"
    return {
        ...(typed ? { type: "stdio" } : {}),
        command: l.command,
        args: l.args,
        ...(Object.keys(l.env).length ? { env: l.env } : {}),
    }
}

type Obj = Record<string, unknown>

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v)

function parse(client: Client, text: string | undefined): Obj {
    if (text === undefined || text.trim() === "") return {}
    return client === "codex" ? fromToml(text) : JSON.parse(text.replace(/^\uFEFF/, "")) as Obj
}

function render(client: Client, data: Obj): string {
    return client === "codex" ? toToml(data as Parameters<typeof toToml>[0]) + "\n" : JSON.stringify(data, null, 2) + "\n"
}

/** Claude Code's per-project server lists in ~/.claude.json (projects["/path"].mcpServers), by project. */
function projects(client: Client, data: Obj): Map<string, Obj> {
    const m = new Map<string, Obj>()
    if (client !== "claude-code" || !isObj(data.projects)) return m
    for (const [path, p] of Object.entries(data.projects)) if (isObj(p) && isObj(p.mcpServers)) m.set(path, p)
    return m
}

/**
 * The text of `client`'s file with mcplexer as its only MCP server, every other setting kept (in
 * ~/.claude.json, each project's own list is emptied too). `text` is undefined when the file does
 * not exist yet. JSON keeps its key order and is written with two-space indents; Codex's TOML is
 * rewritten by smol-toml (its comments stay in the backup).
 */
export function install(client: Client, text: string | undefined, l: Launch): string {
    const data = parse(client, text)
    data[key(client)] = { [self]: entry(client, l) }
    for (const p of projects(client, data).values()) if (Object.keys(p.mcpServers as Obj).length) p.mcpServers = {}
    return render(client, data)
}

/** The names of the servers install replaces: the file's list (and, in ~/.claude.json, each project's). */
export function listed(client: Client, text: string): string[] {
    const data = parse(client, text)
    const lists = [data[key(client)], ...[...projects(client, data).values()].map(p => p.mcpServers)]
    return [...new Set(lists.flatMap(s => isObj(s) ? Object.keys(s) : []))]
}

/** Every server list of `client`'s file, as JSON text, to notice a change there. */
export function servers(client: Client, text: string): string {
    const data = parse(client, text)
    return JSON.stringify([data[key(client)] ?? null, [...projects(client, data)].map(([path, p]) => [path, p.mcpServers])])
}

/**
 * `current` with its server lists put back as they are in `old`, every other setting as it is
 * now: for a file the client itself keeps rewriting (~/.claude.json, settings.json).
 */
export function restore(client: Client, current: string, old: string): string {
    const data = parse(client, current)
    const before = parse(client, old)
    if (before[key(client)] === undefined) delete data[key(client)]
    else data[key(client)] = before[key(client)]
    const now = projects(client, data)
    for (const [path, p] of projects(client, before)) {
        const q = now.get(path)
        if (q) q.mcpServers = p.mcpServers
    }
    return render(client, data)
}
