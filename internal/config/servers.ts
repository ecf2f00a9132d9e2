import { resolve } from "node:path"
import type { Node } from "yaml"
import { bytes, declared, maxTimer, ms, references, type Known } from "./checks.ts"
import { glob } from "./glob.ts"
import { readOAuth } from "./oauth.ts"
import { expand } from "./paths.ts"
import { label, q, type Entry, type Item, type Reader } from "./reader.ts"
import { template } from "./template.ts"
import type { RemoteServer, Server, StdioServer } from "./types.ts"

const serverKeys = ["command", "args", "env", "cwd", "max_line", "url", "headers", "inject", "oauth", "scope", "prefix", "idle_timeout", "timeout", "tools", "quarantine"]
const stdioKeys = ["args", "env", "cwd", "max_line"]
const remoteKeys = ["headers", "inject", "oauth"]

const envName = /^[A-Za-z_][A-Za-z0-9_]*$/
// a name that assigning to a plain object would silently drop (it sets the prototype instead)
const reserved = "__proto__"

const headerName = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

const hints = {
    servers: "servers are keyed by name, e.g.\n  servers:\n    github: { command: npx, args: [\"-y\", \"@modelcontextprotocol/server-github\"] }",
    kind: "use \"command\" (with args, env, cwd) for a local stdio server, or \"url\" (with headers) for a remote one",
    args: "one item per argument, no shell splitting: args: [\"-y\", \"@scope/package\"]",
    env: "a map of variable names to values: env: { LOG_LEVEL: debug }",
    headers: "a map of header names to values: headers: { Authorization: \"Bearer ${secret:TOKEN}\" }",
}

/** The `servers` section: each server checked against the scopes declared before it. */
export function readServers(r: Reader, e: Entry | undefined, k: Omit<Known, "servers">): Map<string, Server> {
    const servers = new Map<string, Server>()
    for (const s of r.entries(e?.value, q("servers"), hints.servers)) {
        r.name("server", s)
        servers.set(s.name, readServer(r, s, k))
    }
    return servers
}

/** What every server has (its kind, scope, prefix and timeouts), then its kind's own fields. */
function readServer(r: Reader, s: Entry, k: Omit<Known, "servers">): Server {
    const where = `server ${q(s.name)}`
    const f = r.fields(s.value, where, serverKeys, hints.kind)
    const command = f.get("command")
    const url = f.get("url")
    if (command && url) {
        const second = start(command.key) > start(url.key) ? command : url
        r.fail(second.key, `${where} has both "command" and "url"`, hints.kind)
    }
    if (!command && !url) r.fail(s.key, `${where} needs "command" or "url"`, hints.kind)
    for (const key of command ? remoteKeys : stdioKeys) {
        const x = f.get(key)
        if (!x) continue
        if (command) r.fail(x.key, `${where}: ${q(key)} applies only to remote servers (with "url")`, key === "inject" ? "a stdio server gets every key of its scope as an environment variable" : "pass values to a stdio server through env or args")
        r.fail(x.key, `${where}: ${q(key)} applies only to stdio servers (with "command")`, "pass values to a remote server through headers")
    }

    const scopeEntry = f.get("scope")
    const scope = scopeEntry && r.string(scopeEntry, label(where, "scope"))
    if (scopeEntry && scope !== undefined) declared(r, scopeEntry.at, `${where}: scope ${q(scope)} is not declared`, scope, k.scopes, "auth_scopes")
    const prefix = f.get("prefix")
    const quarantine = f.get("quarantine")
    const idle = f.get("idle_timeout")
    const timeout = f.get("timeout")
    const base: Base = {
        name: s.name,
        ...(scope === undefined ? {} : { scope }),
        prefix: prefix ? r.bool(prefix, label(where, "prefix")) : true,
        idleTimeout: idle ? ms(r, idle, label(where, idle.name), { max: maxTimer }) : 600_000,
        timeout: timeout ? ms(r, timeout, label(where, timeout.name), { max: maxTimer }) : 60_000,
        tools: readTools(r, f.get("tools"), where),
        quarantine: quarantine ? r.bool(quarantine, label(where, "quarantine")) : false,
    }
    const refs: Refs = (at, text) => references(r, at, text, where, k.scopes)
    return command ? readStdio(r, f, command, where, base, refs, k) : readRemote(r, f, url as Entry, where, base, refs)
}

/** The fields every server has, whichever its kind. */
type Base = Pick<Server, "name" | "scope" | "prefix" | "idleTimeout" | "timeout" | "tools" | "quarantine">

/** Checks the references in one text of a server's (`at` is where the text is). */
type Refs = (at: Item, text: string) => void

function readStdio(r: Reader, f: Map<string, Entry>, command: Entry, where: string, base: Base, refs: Refs, k: Omit<Known, "servers">): StdioServer {
    const cmd = r.string(command, label(where, "command"))
    if (!cmd.trim()) r.fail(command.at, `${where}: "command" is empty`, "name the program to run, e.g. command: npx")
    let parts: ReturnType<typeof template> | undefined
    try {
        parts = template(cmd)
    } catch {
        // a malformed reference ("${secret:x" unclosed) is a reference all the same
    }
    if (parts === undefined || parts.some(p => typeof p !== "string")) {
        r.fail(command.at, `${where}: "command" cannot hold references`, "put ${secret:…} and ${env:…} references in args or env")
    }
    const max = f.get("max_line")
    const server: StdioServer = { ...base, kind: "stdio", command: cmd, args: [], env: {}, ...(max ? { maxLine: bytes(r, max, label(where, "max_line")) } : {}) }
    const args = f.get("args")
    if (args) {
        for (const item of r.items(args, label(where, "args"), hints.args)) {
            const a = r.text(item, `${where}: each of "args"`, hints.args)
            refs(item, a)
            server.args.push(a)
        }
    }
    for (const v of r.entries(f.get("env")?.value, label(where, "env"), hints.env)) {
        if (!envName.test(v.name)) r.fail(v.key, `${where}: invalid environment variable name ${q(v.name)}`, "a variable name is letters, digits or \"_\", not starting with a digit")
        if (v.name === reserved) r.fail(v.key, `${where}: environment variable name ${q(v.name)} is reserved`, "mcplexer cannot pass a variable of that name: rename it, or set it in a wrapper script")
        const value = r.text(v, label(where, `env.${v.name}`), `write "" for an empty value, or \${env:${v.name}} to pass on mcplexer's own variable`)
        refs(v, value)
        server.env[v.name] = value
    }
    const cwd = f.get("cwd")
    if (cwd) {
        const dir = r.string(cwd, label(where, "cwd"))
        refs(cwd, dir)
        // a path that starts with a reference is only known once resolved
        server.cwd = dir.startsWith("${") ? dir : resolve(k.folder, expand(dir, k.home))
    }
    return server
}

function readRemote(r: Reader, f: Map<string, Entry>, u: Entry, where: string, base: Base, refs: Refs): RemoteServer {
    const address = r.string(u, label(where, "url"))
    refs(u, address)
    const plain = template(address).map(p => (typeof p === "string" ? p : "x")).join("")
    const parsed = URL.canParse(plain) ? new URL(plain) : undefined
    if (parsed?.protocol !== "http:" && parsed?.protocol !== "https:") {
        r.fail(u.at, `${where}: invalid url ${q(address)}`, "a remote server's url is http:// or https:// followed by host and path, e.g. https://mcp.linear.app/mcp")
    }
    const server: RemoteServer = { ...base, kind: "remote", url: address, headers: {}, inject: "none" }
    for (const h of r.entries(f.get("headers")?.value, label(where, "headers"), hints.headers)) {
        if (!headerName.test(h.name)) r.fail(h.key, `${where}: invalid header name ${q(h.name)}`, "a header name is letters, digits and !#$%&'*+.^_`|~- only")
        if (h.name === reserved) r.fail(h.key, `${where}: header name ${q(h.name)} is reserved`, "mcplexer cannot send a header of that name: rename it")
        const value = r.text(h, label(where, `headers.${h.name}`), "write \"\" for an empty value")
        if (/[\r\n\0]/.test(value)) r.fail(h.at, `${where}: header ${q(h.name)} contains a line break`, "a header value is a single line")
        refs(h, value)
        server.headers[h.name] = value
    }
    const inject = f.get("inject")
    if (inject) server.inject = r.choice(inject, label(where, "inject"), ["none", "headers"])
    const oauth = f.get("oauth")
    if (oauth) server.oauth = readOAuth(r, oauth, where, base.scope, refs)
    return server
}

/** A server's `tools: { disabled: [globs] }`. */
function readTools(r: Reader, e: Entry | undefined, where: string): Server["tools"] {
    if (e === undefined) return { disabled: [] }
    const hint = "tools: { disabled: [\"delete_*\", \"push_files\"] } (globs over the server's own tool names; \"!name\" switches one back on)"
    const f = r.fields(e.value, label(where, "tools"), ["disabled"], hint)
    const disabled = f.get("disabled")
    return { disabled: disabled ? r.items(disabled, label(where, "tools.disabled"), hint).map(t => glob(r, t, where)) : [] }
}

function start(n: Node): number {
    return n.range?.[0] ?? 0
}
