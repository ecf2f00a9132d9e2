import { homedir } from "node:os"
import { join, win32, posix } from "node:path"

/** The clients mcplexer knows, by the names the command line takes. */
export const names = ["claude-desktop", "claude-code", "cursor", "vscode", "windsurf", "gemini", "codex"] as const

/** One AI client. */
export type Client = typeof names[number]

/** A file a client may keep its MCP servers in. */
export interface Place {
    client: Client
    file: string
    /** "user": the one file install rewrites; "project": found in the current folder */
    level: "user" | "project"
}

/** What decides where files are: tests point HOME, XDG_CONFIG_HOME and APPDATA at a temporary folder. */
export interface Where {
    env: NodeJS.ProcessEnv
    platform: NodeJS.Platform
    /** the project folder whose files count too (the current folder) */
    cwd: string
}

/** True when `name` is a client's name. */
export function known(name: string): name is Client {
    return (names as readonly string[]).includes(name)
}

/** The file `install` rewrites for `client` on this platform. */
export function user(client: Client, w: Where): string {
    const home = w.env.HOME || w.env.USERPROFILE || homedir()
    const p = w.platform === "win32" ? win32 : posix
    // the folder each platform keeps application settings in (Electron apps use it)
    const appdata = w.platform === "win32" ? (w.env.APPDATA || p.join(home, "AppData", "Roaming"))
        : w.platform === "darwin" ? p.join(home, "Library", "Application Support")
        : (w.env.XDG_CONFIG_HOME || p.join(home, ".config"))
    switch (client) {
    case "claude-desktop": return p.join(appdata, "Claude", "claude_desktop_config.json")
    case "claude-code": return p.join(home, ".claude.json")
    case "cursor": return p.join(home, ".cursor", "mcp.json")
    case "vscode": return p.join(appdata, "Code", "User", "mcp.json")
    case "windsurf": return p.join(home, ".codeium", "windsurf", "mcp_config.json")
    case "gemini": return p.join(home, ".gemini", "settings.json")
    case "codex": return p.join(w.env.CODEX_HOME || p.join(home, ".codex"), "config.toml")
    }
}

/** A client's project-level file in `cwd`, if it has one. */
export function project(client: Client, cwd: string): string | undefined {
    switch (client) {
    case "claude-desktop": return undefined
    case "claude-code": return join(cwd, ".mcp.json")
    case "cursor": return join(cwd, ".cursor", "mcp.json")
    case "vscode": return join(cwd, ".vscode", "mcp.json")
    case "windsurf": return undefined
    case "gemini": return join(cwd, ".gemini", "settings.json")
    case "codex": return join(cwd, ".codex", "config.toml")
    }
}

/** Every file `client` may keep servers in, the user's first. */
export function places(client: Client, w: Where): Place[] {
    const list: Place[] = [{ client, file: user(client, w), level: "user" }]
    const p = project(client, w.cwd)
    if (p !== undefined && p !== list[0]?.file) list.push({ client, file: p, level: "project" })
    return list
}
