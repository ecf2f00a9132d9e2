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

/** The names of the servers at the top of `client`'s file (those install replaces). */
export function listed(client: Client, text: string): string[] {
    const data = client === "codex" ? fromToml(text) : JSON.parse(text.replace(/^\uFEFF/, "")) as Record<string, unknown>
    const s = data[key(client)]
    return typeof s === "object" && s !== null ? Object.keys(s) : []
}
