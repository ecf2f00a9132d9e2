/** Helpers of the import and install tests: a temporary user with each client's real-shaped file, and the built CLI. */
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises"
import { dirname, join } from "node:path"
import { cli, type Result, temp } from "../helpers.ts"

/** The clients, by the names the command line takes. */
export const clients = ["claude-desktop", "claude-code", "cursor", "vscode", "windsurf", "gemini", "codex"] as const
export type Client = typeof clients[number]

/** Tokens made at run time, so no test can pass by knowing them in advance. */
export function tokens() {
    const r = (n: number) => randomBytes(n).toString("hex")
    return {
        github: `ghp_${r(18)}`,
        // judged by its name alone: no known prefix
        apiKey: `plain-${r(6)}`,
        bearer: `lin_api_${r(16)}`,
        flag: `sk-${r(16)}`,
        password: `pw${r(8)}`,
        query: `q${r(10)}`,
    }
}
export type Tokens = ReturnType<typeof tokens>

/** A temporary user: HOME (XDG_CONFIG_HOME and APPDATA unset), a project folder to run in, mcplexer's default home inside. */
export async function user(): Promise<{ home: string; project: string; mcplexer: string }> {
    const home = temp("mcplexer-user-")
    const project = join(home, "project")
    await mkdir(project)
    return { home, project, mcplexer: join(home, ".mcplexer") }
}

/** Where each client keeps its user-level file on Linux, under `home`. */
export function path(client: Client, home: string): string {
    return {
        "claude-desktop": join(home, ".config", "Claude", "claude_desktop_config.json"),
        "claude-code": join(home, ".claude.json"),
        "cursor": join(home, ".cursor", "mcp.json"),
        "vscode": join(home, ".config", "Code", "User", "mcp.json"),
        "windsurf": join(home, ".codeium", "windsurf", "mcp_config.json"),
        "gemini": join(home, ".gemini", "settings.json"),
        "codex": join(home, ".codex", "config.toml"),
    }[client]
}

/** The stdio server every format holds: tokens in env (by prefix and by name) and in args (a flag, a URL's password and key=). */
function stdio(t: Tokens, indirection: string) {
    return {
        command: "npx",
        args: ["-y", "@modelcontextprotocol/server-github", "--api-key", t.flag, `https://bot:${t.password}@example.com/x?key=${t.query}&page=2`],
        env: { GITHUB_PERSONAL_ACCESS_TOKEN: t.github, SERVICE_API_KEY: t.apiKey, LOG_LEVEL: "debug", FROM_SHELL: indirection },
    }
}

/** The text of `client`'s file as that client writes it, with the planted tokens. */
export function file(client: Client, t: Tokens): string {
    const auth = `Bearer ${t.bearer}`
    const s = stdio(t, client === "cursor" || client === "windsurf" || client === "vscode" ? "${env:SHELL_TOKEN}" : "${SHELL_TOKEN}")
    const j = (v: unknown) => JSON.stringify(v, null, 2) + "\n"
    switch (client) {
    case "claude-desktop": return j({ mcpServers: { github: s }, globalShortcut: "Ctrl+Space" })
    case "claude-code": return j({
        numStartups: 12, theme: "dark",
        mcpServers: { github: { type: "stdio", ...s } },
        projects: { "/home/u/acme": { allowedTools: [], mcpServers: { linear: { type: "http", url: "https://mcp.linear.app/mcp", headers: { Authorization: auth, "X-Org": "${ORG:-acme}" } } } } },
    })
    case "cursor": return j({ mcpServers: { github: s, linear: { url: "https://mcp.linear.app/mcp", headers: { Authorization: auth } } } })
    case "vscode": return j({
        inputs: [{ type: "promptString", id: "linear-key", description: "Linear API key", password: true }],
        servers: {
            github: { type: "stdio", ...s },
            linear: { type: "http", url: "https://mcp.linear.app/mcp", headers: { Authorization: auth, "X-Extra": "${input:linear-key}" } },
        },
    })
    case "windsurf": return j({ mcpServers: { github: s, linear: { serverUrl: "https://mcp.linear.app/mcp", headers: { Authorization: auth } } } })
    case "gemini": return j({ theme: "Default", mcpServers: { github: { ...s, cwd: "/tmp" }, linear: { httpUrl: "https://mcp.linear.app/mcp", headers: { Authorization: auth } } } })
    case "codex": return [
        "# Codex settings",
        "model = \"o4-mini\"",
        "",
        "[mcp_servers.github]",
        `command = "npx"`,
        `args = ${JSON.stringify(s.args)}`,
        `env = { GITHUB_PERSONAL_ACCESS_TOKEN = "${t.github}", SERVICE_API_KEY = "${t.apiKey}", LOG_LEVEL = "debug" }`,
        "",
        "[mcp_servers.linear]",
        `url = "https://mcp.linear.app/mcp"`,
        `http_headers = { Authorization = "${auth}" }`,
        "",
        "[mcp_servers.notion]",
        `url = "https://mcp.notion.com/mcp"`,
        `bearer_token_env_var = "NOTION_TOKEN"`,
        "",
    ].join("\n")
    }
}

/** Writes `client`'s file under `home`; returns its path and bytes. */
export async function plant(client: Client, home: string, t: Tokens): Promise<{ path: string; bytes: Buffer }> {
    const p = path(client, home)
    await mkdir(dirname(p), { recursive: true })
    await writeFile(p, file(client, t))
    return { path: p, bytes: await readFile(p) }
}

/** Runs the built CLI as the temporary user would, in the project folder, with only the environment given and `input` on stdin. */
export function run(u: { home: string; project: string }, args: string[], env: Record<string, string> = {}, input = ""): Promise<Result> {
    return new Promise((done, fail) => {
        const child = spawn(process.execPath, [cli, ...args], {
            cwd: u.project, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: u.home, ...env }, stdio: ["pipe", "pipe", "pipe"],
        })
        let stdout = "", stderr = ""
        child.stdout.setEncoding("utf8").on("data", (d: string) => { stdout += d })
        child.stderr.setEncoding("utf8").on("data", (d: string) => { stderr += d })
        child.on("error", fail)
        child.on("close", (code, signal) => done({ code, signal, stdout, stderr }))
        child.stdin.on("error", () => { /* it exited without reading: its output and exit code are the result */ })
        child.stdin.end(input)
    })
}

/** Every byte of every file under `dir`, as latin1 text, for the never-leaks checks. */
export async function bytes(dir: string): Promise<string> {
    let all = ""
    for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
        const p = join(e.parentPath, e.name)
        if ((await stat(p)).isFile()) all += (await readFile(p)).toString("latin1")
    }
    return all
}
