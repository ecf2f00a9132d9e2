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

/**
 * The text of `client`'s file with mcplexer as its only MCP server, every other setting kept.
 * `text` is undefined when the file does not exist yet. JSON keeps its key order and is written
 * with two-space indents; Codex's TOML is rewritten by smol-toml (its comments stay in the backup).
 */
export function install(client: Client, text: string | undefined, l: Launch): string {
    const servers = { [self]: entry(client, l) }
    if (client === "codex") {
        const data: Record<string, unknown> = text === undefined ? {} : fromToml(text)
        data[key(client)] = servers
        return toToml(data as Parameters<typeof toToml>[0]) + "\n"
    }
    const data = text === undefined || text.trim() === "" ? {} : JSON.parse(text.replace(/^\uFEFF/, "")) as Record<string, unknown>
    data[key(client)] = servers
    return JSON.stringify(data, null, 2) + "\n"
}

function parse(client: Client, text: string): Record<string, unknown> {
    return client === "codex" ? fromToml(text) : JSON.parse(text.replace(/^\uFEFF/, "")) as Record<string, unknown>
}

/** The names of the servers at the top of `client`'s file (those install replaces). */
export function listed(client: Client, text: string): string[] {
    const s = servers(client, text)
    return typeof s === "object" && s !== null ? Object.keys(s) : []
}

/** The servers part of `client`'s file, as JSON text (undefined when it has none), to notice a change there. */
export function servers(client: Client, text: string): string | undefined {
    return JSON.stringify(parse(client, text)[key(client)])
}

/**
 * `current` with its servers part put back as it is in `old`, every other setting as it is now:
 * for a file the client itself keeps rewriting (~/.claude.json, settings.json).
 */
export function restore(client: Client, current: string, old: string): string {
    const data = parse(client, current)
    const before = parse(client, old)[key(client)]
    if (before === undefined) delete data[key(client)]
    else data[key(client)] = before
    return client === "codex" ? toToml(data as Parameters<typeof toToml>[0]) + "\n" : JSON.stringify(data, null, 2) + "\n"
}
