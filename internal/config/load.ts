import { open } from "node:fs/promises"
import { homedir } from "node:os"
import { dirname, resolve } from "node:path"
import { TooDeep, document, preload, yaml } from "./yaml.ts"
import { ms } from "./checks.ts"
import { ConfigError, hinted } from "./error.ts"
import { glob } from "./glob.ts"
import * as guard from "./guard.ts"
import { Reader, label, q, type Entry } from "./reader.ts"
import { readScopes } from "./scopes.ts"
import { readServers } from "./servers.ts"
import type { Config } from "./types.ts"
import { readWorkspaces } from "./workspaces.ts"

const topKeys = ["auth_scopes", "servers", "workspaces", "default", "audit", "tool_search"]

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
