import { open } from "node:fs/promises"
import { createRequire } from "node:module"
import { homedir } from "node:os"
import { dirname, resolve } from "node:path"
import type picomatch from "picomatch"
import type { Node } from "yaml"
import { TooDeep, document, preload, yaml } from "./yaml.ts"
import { duration, durations } from "./duration.ts"
import { ConfigError, hinted } from "./error.ts"
import * as guard from "./guard.ts"
import { expand } from "./paths.ts"
import { isOAuthKey, readOAuth } from "./oauth.ts"
import { Reader, label, q, type Entry, type Item } from "./reader.ts"
import { size, sizes } from "./size.ts"
import { suggest } from "./suggest.ts"
import { template } from "./template.ts"
import type { Config, RemoteServer, Route, Scope, Server, StdioServer, Workspace } from "./types.ts"

const topKeys = ["auth_scopes", "servers", "workspaces", "default", "audit", "tool_search"]
const scopeKeys = ["description", "recipients", "recipients_file", "rotate_every"]
const serverKeys = ["command", "args", "env", "cwd", "max_line", "url", "headers", "inject", "oauth", "scope", "prefix", "idle_timeout", "timeout", "tools", "quarantine"]
const stdioKeys = ["args", "env", "cwd", "max_line"]
const remoteKeys = ["headers", "inject", "oauth"]
const workspaceKeys = ["root", "routes"]
const routeKeys = ["tools", "server", "scope", "scopes", "action", "approval", "lease", "approval_timeout"]

// Node timers fire at once (with a warning) past 2^31-1 ms, so longer timeouts would do the opposite
const maxTimer = 2 ** 31 - 1

const envName = /^[A-Za-z_][A-Za-z0-9_]*$/
// a name that assigning to a plain object would silently drop (it sets the prototype instead)
const reserved = "__proto__"

// picomatch compiles nested extglobs in time that grows with the square of their depth (+( 5,000
// deep took 175 s): a tool pattern matches names of at most 64 characters, so these bounds take
// nothing a route needs, and keep the worst pattern under about 0.1 s to compile
const maxPattern = 1024
const maxNesting = 8
const headerName = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

const hints = {
    scopes: "auth scopes are keyed by name, e.g.\n  auth_scopes:\n    github: { description: my GitHub token }",
    servers: "servers are keyed by name, e.g.\n  servers:\n    github: { command: npx, args: [\"-y\", \"@modelcontextprotocol/server-github\"] }",
    workspaces: "workspaces are keyed by name, e.g.\n  workspaces:\n    acme: { root: ~/work/acme, routes: [] }",
    kind: "use \"command\" (with args, env, cwd) for a local stdio server, or \"url\" (with headers) for a remote one",
    args: "one item per argument, no shell splitting: args: [\"-y\", \"@scope/package\"]",
    env: "a map of variable names to values: env: { LOG_LEVEL: debug }",
    headers: "a map of header names to values: headers: { Authorization: \"Bearer ${secret:TOKEN}\" }",
    tools: "list the tool name patterns it covers: tools: [\"github__*\"]",
}

// picomatch costs ~9 ms to import and only routes need it: load it on first use
const require = createRequire(import.meta.url)
let pm: typeof picomatch | undefined

/**
 * Parses and validates the text of a config file. Throws a ConfigError at the position of the
 * first mistake. `~` in workspace roots means the HOME of `o.env` (default: this user's home);
 * relative roots are resolved against the folder of `file`.
 */
export function parse(text: string, file: string, o: { env?: NodeJS.ProcessEnv } = {}): Config {
    const path = resolve(file)
    const lines = new (yaml().LineCounter)()
    // yaml's own duplicate-key check compares each key with every earlier one (quadratic: 40k
    // scopes took 12 s); Reader.entries checks with a Set instead (0.9 s)
    let doc
    try {
        doc = document(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false })
    } catch (e) {
        if (!(e instanceof TooDeep)) throw e
        const { line, col } = lines.linePos(e.offset)
        throw new ConfigError(e.message, { file: path, line, col }, "close the [ and { lists that are left open: a config nests a few levels, never dozens")
    }
    const r = new Reader(path, doc, lines)
    const bad = doc.errors[0] ?? doc.warnings[0]
    if (bad) r.syntax(bad)
    r.aliases()

    const top = r.fields(doc.contents, "the config", topKeys, "the config is a map of settings: auth_scopes, servers, workspaces, default, audit, tool_search")
    const home = o.env?.HOME || homedir()
    const folder = dirname(path)
    const scopes = readScopes(r, top.get("auth_scopes"), folder, home)
    const servers = readServers(r, top.get("servers"), { scopes, home, folder })
    const workspaces = readWorkspaces(r, top.get("workspaces"), { scopes, servers, home, folder })
    const def = top.get("default")
    const audit = top.get("audit")
    return {
        file: path,
        text,
        scopes,
        servers,
        workspaces,
        default: def ? r.choice(def, q("default"), ["allow", "deny"]) : "allow",
        audit: { retentionDays: readRetention(r, audit) },
        toolSearch: readToolSearch(r, top.get("tool_search")),
    }
}

/** `tool_search: true`, or `{ enabled: true, always: [globs over client-visible names], add_found: true }`. */
function readToolSearch(r: Reader, e: Entry | undefined): Config["toolSearch"] {
    if (e === undefined) return { enabled: false, always: [], addFound: true }
    const hint = "tool_search: true, or tool_search: { enabled: true, always: [\"github__get_*\"], add_found: false }"
    if (!yaml().isMap(r.node(e.value))) return { enabled: r.bool(e, q("tool_search")), always: [], addFound: true }
    const f = r.fields(e.value, q("tool_search"), ["enabled", "always", "add_found"], hint)
    const enabled = f.get("enabled")
    const always = f.get("always")
    const addFound = f.get("add_found")
    return {
        enabled: enabled ? r.bool(enabled, label(q("tool_search"), "enabled")) : true,
        always: always ? r.items(always, label(q("tool_search"), "always"), hint).map(t => glob(r, t, q("tool_search"))) : [],
        addFound: addFound ? r.bool(addFound, label(q("tool_search"), "add_found")) : true,
    }
}

/** A server's `tools: { disabled: [globs] }`. */
function readTools(r: Reader, e: Entry | undefined, where: string): Server["tools"] {
    if (e === undefined) return { disabled: [] }
    const hint = "tools: { disabled: [\"delete_*\", \"push_files\"] } (globs over the server's own tool names; \"!name\" switches one back on)"
    const f = r.fields(e.value, label(where, "tools"), ["disabled"], hint)
    const disabled = f.get("disabled")
    return { disabled: disabled ? r.items(disabled, label(where, "tools.disabled"), hint).map(t => glob(r, t, where)) : [] }
}

/**
 * Reads and parses a config file; a missing or unreadable file is a ConfigError at line 0. One
 * that others can change (see guard.loose), checked on the descriptor that is read, is refused
 * with an error carrying its `hint`.
 */
export async function load(file: string, o: { env?: NodeJS.ProcessEnv } = {}): Promise<Config> {
    const path = resolve(file)
    let text: string
    try {
        [text] = await Promise.all([read(path), preload()])
    } catch (e) {
        if (!(e as NodeJS.ErrnoException).code) throw e // a loose file, refused by read
        const code = (e as NodeJS.ErrnoException).code
        const at = { file: path, line: 0, col: 0 }
        if (code === "ENOENT") throw new ConfigError("config file not found", at, "run \"mcplexer init\" to create it, or point --config or MCPLEXER_CONFIG at another file")
        if (code === "EISDIR") throw new ConfigError("config path is a folder, not a file", at, "point --config or MCPLEXER_CONFIG at a YAML file")
        throw new ConfigError(`cannot read config file: ${(e as Error).message}`, at, "check the file's permissions")
    }
    return parse(text, path, o)
}

async function read(path: string): Promise<string> {
    const fh = await open(path, "r")
    try {
        const [problem] = guard.file(path, await fh.stat())
        if (problem) throw hinted(problem.message, problem.hint)
        return await fh.readFile("utf8")
    } finally {
        await fh.close()
    }
}

function readScopes(r: Reader, e: Entry | undefined, folder: string, home: string): Map<string, Scope> {
    const scopes = new Map<string, Scope>()
    for (const s of r.entries(e?.value, q("auth_scopes"), hints.scopes)) {
        r.name("scope", s)
        const where = `scope ${q(s.name)}`
        const f = r.fields(s.value, where, scopeKeys, "a scope is a map with an optional description, recipients, recipients_file and rotate_every, or empty: github: {}")
        const d = f.get("description")
        const scope: Scope = d?.value ? { name: s.name, description: r.string(d, label(where, d.name)) } : { name: s.name }
        const list = f.get("recipients")
        if (list) {
            const hint = "recipients is a list of age public keys: recipients: [age1…] (a teammate's, from age-keygen -y)"
            scope.recipients = r.items(list, label(where, "recipients"), hint).map(i => {
                const v = r.string(i, `${where}: each of "recipients"`, hint).trim()
                if (!ageRecipient.test(v)) r.fail(i.at, `${where}: ${q(v)} is not an age public key`, hint)
                return v
            })
        }
        const file = f.get("recipients_file")
        if (file) scope.recipientsFile = resolve(folder, expand(r.string(file, label(where, "recipients_file")), home))
        const every = f.get("rotate_every")
        if (every) scope.rotateEvery = ms(r, every, label(where, "rotate_every"), {})
        scopes.set(s.name, scope)
    }
    return scopes
}

// an age public key: X25519 (age1…) or post-quantum (age1pq1…), bech32's lowercase alphabet
const ageRecipient = /^age1(?:pq1)?[02-9ac-hj-np-z]{20,}$/

function readServers(r: Reader, e: Entry | undefined, k: Omit<Known, "servers">): Map<string, Server> {
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

interface Known { scopes: Map<string, Scope>; servers: Map<string, Server>; home: string; folder: string }

function readWorkspaces(r: Reader, e: Entry | undefined, k: Known): Map<string, Workspace> {
    const workspaces = new Map<string, Workspace>()
    const roots = new Map<string, string>()
    for (const w of r.entries(e?.value, q("workspaces"), hints.workspaces)) {
        r.name("workspace", w)
        const where = `workspace ${q(w.name)}`
        const f = r.fields(w.value, where, workspaceKeys, "a workspace has a root folder and routes")
        const rootEntry = f.get("root")
        if (!rootEntry) r.fail(w.key, `${where} needs a "root" folder`, "the client's root folder selects the workspace, e.g. root: ~/work/acme")
        const raw = r.string(rootEntry, label(where, "root"), "name a folder, e.g. root: ~/work/acme (a bare ~ is YAML's null: write \"~\")")
        if (!raw.trim()) r.fail(rootEntry.at, `${where}: "root" is empty`, "name a folder, e.g. root: ~/work/acme")
        if (/^~[^/]/.test(raw)) r.fail(rootEntry.at, `${where}: only "~" and "~/" are expanded in "root"`, "write the folder as ~/… or as an absolute path")
        const root = resolve(k.folder, expand(raw, k.home))
        const other = roots.get(root)
        if (other !== undefined) {
            r.fail(rootEntry.at, `${where} has the same root as workspace ${q(other)}`, "a folder selects one workspace: merge their routes, or give one a more specific root")
        }
        roots.set(root, w.name)

        const routes: Route[] = []
        const list = f.get("routes")
        const items = list ? r.items(list, label(where, "routes"), "routes is a list: routes: [{ tools: [\"github__*\"], scope: github-acme }]") : []
        items.forEach((item, i) => routes.push(readRoute(r, item, `route ${i + 1} of ${where}`, k)))
        workspaces.set(w.name, { name: w.name, root, routes })
    }
    return workspaces
}

function readRoute(r: Reader, item: Item, where: string, k: Known): Route {
    const f = r.fields(item.value, where, routeKeys, "a route is a map, e.g. { tools: [\"github__*\"], scope: github-acme }")
    const tools = f.get("tools")
    if (!tools) r.fail(item.at, `${where} needs "tools"`, hints.tools)
    const patterns = r.items(tools, label(where, "tools"), hints.tools).map(t => glob(r, t, where))
    if (!patterns.length) r.fail(tools.at, `${where}: "tools" is empty`, hints.tools)

    const route: Route = { tools: patterns, action: "allow", approval: "none", lease: 600_000, approvalTimeout: 300_000, scopes: [] }
    const server = f.get("server")
    if (server) {
        route.server = r.string(server, label(where, "server"))
        declared(r, server.at, `${where}: server ${q(route.server)} is not declared`, route.server, k.servers, "servers")
    }
    const scope = f.get("scope")
    if (scope) {
        route.scope = r.string(scope, label(where, "scope"))
        declared(r, scope.at, `${where}: scope ${q(route.scope)} is not declared`, route.scope, k.scopes, "auth_scopes")
    }
    const scopes = f.get("scopes")
    if (scopes) {
        for (const s of r.items(scopes, label(where, "scopes"), "scopes is a list of scope names: scopes: [github-acme]")) {
            const name = r.string(s, `${where}: each of "scopes"`)
            declared(r, s.at, `${where}: scope ${q(name)} is not declared`, name, k.scopes, "auth_scopes")
            route.scopes.push(name)
        }
    }
    const action = f.get("action")
    if (action) route.action = r.choice(action, label(where, "action"), ["allow", "deny"])
    const approval = f.get("approval")
    if (approval) route.approval = r.choice(approval, label(where, "approval"), ["none", "write", "all"])
    const lease = f.get("lease")
    if (lease) route.lease = ms(r, lease, label(where, "lease"), { zero: true })
    const timeout = f.get("approval_timeout")
    if (timeout) route.approvalTimeout = ms(r, timeout, label(where, "approval_timeout"), { max: maxTimer })
    return route
}

function readRetention(r: Reader, e: Entry | undefined): number {
    const f = r.fields(e?.value, q("audit"), ["retention"], "audit: { retention: 90d }")
    const retention = f.get("retention")
    if (!retention) return 90
    const v = yaml().isScalar(retention.value) ? retention.value.value : undefined
    // a bare number would count seconds, as in every other duration: surely not what was meant here
    if (typeof v === "number" || (typeof v === "string" && /^\s*\d+(\.\d+)?\s*$/.test(v))) {
        r.fail(retention.at, `"audit": "retention" needs a unit`, `write days with a "d", e.g. retention: ${String(v).trim()}d`)
    }
    return ms(r, retention, label(q("audit"), "retention"), {}) / 86_400_000
}

/** A duration setting in ms: more than zero unless `zero`, at most `max`. */
function ms(r: Reader, e: Entry, what: string, o: { zero?: boolean; max?: number }): number {
    const v = yaml().isScalar(e.value) ? e.value.value : undefined
    let n: number | undefined
    let hint = durations
    if (typeof v === "string" || typeof v === "number") {
        try {
            n = duration(v)
        } catch (err) {
            hint = (err as Error & { hint: string }).hint
        }
    }
    if (n === undefined) r.fail(e.at, `${what} must be a duration`, hint)
    if (n === 0 && !o.zero) r.fail(e.at, `${what} must be more than zero`, durations)
    if (o.max !== undefined && n > o.max) r.fail(e.at, `${what} is too long`, "at most 24d (Node timers cannot wait longer)")
    return n
}

/** A size setting in bytes. */
function bytes(r: Reader, e: Entry, what: string): number {
    const v = yaml().isScalar(e.value) ? e.value.value : undefined
    try {
        if (typeof v === "string" || typeof v === "number") return size(v)
    } catch (err) {
        r.fail(e.at, `${what} must be a size`, (err as Error & { hint: string }).hint)
    }
    r.fail(e.at, `${what} must be a size`, sizes)
}

/** Checks every reference in `text`: well formed, and naming only declared scopes. */
function references(r: Reader, at: Item, text: string, where: string, scopes: Map<string, Scope>): void {
    let parts
    try {
        parts = template(text)
    } catch (err) {
        r.fail(at.at, `${where}: ${(err as Error).message}`, (err as Error & { hint: string }).hint)
    }
    for (const p of parts) {
        if (typeof p !== "string" && "secret" in p && isOAuthKey(p.secret.key)) {
            r.fail(at.at, `${where}: ${q(p.secret.key)} belongs to a server's login and is never given by name`,
                "a login's tokens reach only their own server; refer to a key you stored yourself (mcplexer secret put <scope> <KEY>)")
        }
        if (typeof p === "string" || !("secret" in p) || p.secret.scope === undefined) continue
        const ref = `\${secret:${p.secret.scope}/${p.secret.key}}`
        declared(r, at.at, `${where}: scope ${q(p.secret.scope)} in ${q(ref)} is not declared`, p.secret.scope, scopes, "auth_scopes")
    }
}

/** Fails unless `name` is a key of `known`, with a hint naming the closest and all declared ones. */
function declared(r: Reader, at: Node, message: string, name: string, known: Map<string, unknown>, section: "auth_scopes" | "servers"): void {
    if (known.has(name)) return
    const noun = section === "servers" ? "servers" : "scopes"
    const near = suggest(name, known.keys())
    const hint = [
        ...(near ? [`did you mean ${q(near)}?`] : []),
        known.size ? `declared ${noun}: ${[...known.keys()].join(", ")}` : `no ${noun} are declared`,
        `declare it under ${section}`,
    ]
    r.fail(at, message, hint.join("\n"))
}

/** A tool pattern, checked to be small enough and to compile. */
function glob(r: Reader, item: Item, where: string): string {
    const pattern = r.string(item, `${where}: each of "tools"`, hints.tools)
    if (!pattern) r.fail(item.at, `${where}: a tool pattern is empty`, hints.tools)
    if (pattern.length > maxPattern) {
        r.fail(item.at, `${where}: a tool pattern is longer than ${maxPattern} characters`, "split it into several patterns of the \"tools\" list")
    }
    if (nesting(pattern) > maxNesting) {
        r.fail(item.at, `${where}: tool pattern ${q(pattern)} nests groups more than ${maxNesting} deep`, "flatten it: write alternatives as several patterns of the \"tools\" list")
    }
    // an anchored list of patterns shared by many routes is compiled once
    if (compiled.has(pattern)) return pattern
    pm ??= require("picomatch") as typeof picomatch
    try {
        // strictBrackets and debug make picomatch throw instead of quietly matching nothing
        pm.makeRe(pattern, { strictBrackets: true, debug: true })
    } catch (err) {
        r.fail(item.at, `${where}: invalid tool pattern ${q(pattern)}`, (err as Error).message.replace(/^[A-Z]/, c => c.toLowerCase()))
    }
    if (compiled.size >= 10_000) compiled.clear()
    compiled.add(pattern)
    return pattern
}

// patterns known to compile, for the process's lifetime (bounded)
const compiled = new Set<string>()

/** How deep groups ( ), { } and [ ] nest in a pattern, a backslash escaping the next character. */
function nesting(pattern: string): number {
    let depth = 0, most = 0
    for (let i = 0; i < pattern.length; i++) {
        const c = pattern[i]
        if (c === "\\") i++
        else if (c === "(" || c === "{" || c === "[") most = Math.max(most, ++depth)
        else if ((c === ")" || c === "}" || c === "]") && depth > 0) depth--
    }
    return most
}

function start(n: Node): number {
    return n.range?.[0] ?? 0
}
