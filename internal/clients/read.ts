import * as config from "../config/error.ts"
import { dirname, isAbsolute, resolve } from "node:path"
import { parse as toml } from "smol-toml"

/** An input a VS Code file declares (`inputs`), referred to as ${input:id}. */
export interface Input { id: string; description?: string; password: boolean }

/** One MCP server as a client's file describes it, before anything is judged or moved. */
export interface Found {
    /** its name in the file */
    name: string
    /** the file, and where in it when not at the top ("projects[\"/path\"]") */
    source: string
    command?: string
    args: string[]
    env: Record<string, string>
    cwd?: string
    url?: string
    headers: Record<string, string>
    inputs: Map<string, Input>
    /** what could not be carried over, said to the user */
    notes: string[]
}

type Obj = Record<string, unknown>

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v)

/**
 * Reads every MCP server in the text of a client's file: JSON with `mcpServers` (Claude, Cursor,
 * Windsurf, Gemini), `servers` and `inputs` (VS Code), `projects[…].mcpServers` (~/.claude.json),
 * or TOML with `[mcp_servers.<name>]` (Codex, chosen by the ".toml" name). Throws a plain Error
 * carrying a `hint` on text that does not parse.
 */
export function read(text: string, file: string): Found[] {
    const data = parseText(text, file)
    if (file.endsWith(".toml")) return table(data.mcp_servers, file, file, new Map(), codex)
    const inputs = readInputs(data.inputs)
    const found = [
        ...table(data.mcpServers, file, file, inputs, json),
        ...table(data.servers, file, file, inputs, json),
    ]
    // Gemini and VS Code settings may nest them under "mcp"
    if (isObj(data.mcp)) found.push(...table(data.mcp.servers, file, file, inputs, json))
    if (isObj(data.projects)) {
        for (const [path, p] of Object.entries(data.projects)) {
            if (isObj(p)) found.push(...table(p.mcpServers, file, `${file} projects[${JSON.stringify(path)}]`, inputs, json))
        }
    }
    return found
}

function parseText(text: string, file: string): Obj {
    let data: unknown
    try {
        data = file.endsWith(".toml") ? toml(text) : JSON.parse(stripBom(text))
    } catch (e) {
        throw config.hinted(`cannot parse ${file}: ${where(text, e)}`, file.endsWith(".toml") ? "fix the TOML, or import another file" : "fix the JSON (comments and trailing commas are not read), or import another file")
    }
    if (!isObj(data)) throw config.hinted(`${file} holds no settings object`, "a client's file is a JSON object with mcpServers (or servers)")
    return data
}

/**
 * Where the text stops parsing, as line and column. Never the parsers' own messages: V8 quotes the
 * JSON around the mistake and smol-toml the whole line, either of which may be a token.
 */
function where(text: string, e: unknown): string {
    const t = e as { line?: unknown; column?: unknown; message?: unknown }
    if (typeof t.line === "number" && typeof t.column === "number") return `invalid TOML at line ${t.line}, column ${t.column}`
    const at = /position (\d+)/.exec(String(t.message))
    if (!at) return "invalid JSON"
    const before = text.slice(0, Number(at[1])).split("\n")
    return `invalid JSON at line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`
}

function stripBom(s: string): string {
    return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s
}

function readInputs(v: unknown): Map<string, Input> {
    const m = new Map<string, Input>()
    if (!Array.isArray(v)) return m
    for (const i of v) {
        if (!isObj(i) || typeof i.id !== "string") continue
        m.set(i.id, { id: i.id, ...(typeof i.description === "string" ? { description: i.description } : {}), password: i.password === true })
    }
    return m
}

type Shape = (f: Found, s: Obj, file: string) => void

function table(v: unknown, file: string, source: string, inputs: Map<string, Input>, shape: Shape): Found[] {
    if (!isObj(v)) return []
    const found: Found[] = []
    for (const [name, s] of Object.entries(v)) {
        if (!isObj(s)) continue
        const f: Found = { name, source, args: [], env: {}, headers: {}, inputs, notes: [] }
        shape(f, s, file)
        found.push(f)
    }
    return found
}

/** The JSON clients: command/args/env/cwd, or url (serverUrl in Windsurf, httpUrl in Gemini) and headers. */
function json(f: Found, s: Obj, file: string): void {
    const url = [s.url, s.serverUrl, s.httpUrl].find(u => typeof u === "string")
    if (typeof s.command === "string") {
        f.command = s.command
        f.args = strings(s.args)
        f.env = map(s.env)
        if (typeof s.cwd === "string") f.cwd = isAbsolute(s.cwd) || s.cwd.startsWith("${") ? s.cwd : resolve(dirname(file), s.cwd)
    } else if (typeof url === "string") {
        f.url = url
        f.headers = map(s.headers)
    }
    if (s.disabled === true || s.enabled === false) f.notes.push("disabled in its client: imported all the same (remove it from config.yaml if unwanted)")
    if (typeof s.envFile === "string") f.notes.push(`envFile ${JSON.stringify(s.envFile)} is not read: add its variables to env, or store them with mcplexer secret put`)
}

/** Codex's TOML: command/args/env/cwd, or url with bearer_token_env_var and http headers. */
function codex(f: Found, s: Obj, file: string): void {
    json(f, s, file)
    if (typeof s.url !== "string") return
    Object.assign(f.headers, map(s.http_headers))
    for (const [h, name] of Object.entries(map(s.env_http_headers))) f.headers[h] = `\${env:${name}}`
    if (typeof s.bearer_token_env_var === "string") f.headers.Authorization = `Bearer \${env:${s.bearer_token_env_var}}`
}

function strings(v: unknown): string[] {
    return Array.isArray(v) ? v.map(x => typeof x === "string" ? x : String(x)) : []
}

function map(v: unknown): Record<string, string> {
    const out: Record<string, string> = {}
    if (!isObj(v)) return out
    for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = typeof x === "string" ? x : JSON.stringify(x)
    return out
}
