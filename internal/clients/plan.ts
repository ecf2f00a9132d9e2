import { judge, named, ordinary, param, prefix, webhook } from "./judge.ts"
import type { Found } from "./read.ts"

/** A plaintext credential found in a client's file, to be stored in the vault. */
export interface Secret {
    key: string
    value: string
    /** where it was: "env GITHUB_TOKEN", "header Authorization", "argument 3" */
    where: string
    /** why it counts as one */
    why: string
}

/** A value the client asked its user for (${input:id}): mcplexer asks too, or leaves it to secret put. */
export interface Prompt { key: string; input: string; description?: string; password: boolean }

/** What importing one server does: its config entry (holding only references) and what moves into the vault. */
export interface Plan {
    /** the config-safe name */
    name: string
    /** the name in the client's file */
    original: string
    source: string
    /** the scope its secrets go to (its name), when it has any */
    scope?: string
    /** the servers.<name> entry of config.yaml */
    entry: Record<string, unknown>
    secrets: Secret[]
    prompts: Prompt[]
    /** indirections kept (${env:…}) and anything changed, for the user */
    notes: string[]
    /** why it cannot be imported, when it cannot */
    skip?: string
}

const envName = /^[A-Za-z_][A-Za-z0-9_]*$/

// variables VS Code and Cursor fill in themselves: not environment variables, nothing mcplexer can know
const editor = new Set(["workspaceFolder", "workspaceFolderBasename", "workspaceRoot", "userHome", "cwd", "file", "fileDirname",
    "fileBasename", "relativeFile", "pathSeparator", "execPath", "defaultBuildTask", "lineNumber", "selectedText"])

/** A server name the config accepts: letters, digits and "-", at most 32. */
export function safe(name: string): string {
    const s = name.replace(/[^A-Za-z0-9-]+/g, "-").replace(/^-+/, "").slice(0, 32).replace(/-+$/, "")
    return s || "server"
}

/** A key name the vault accepts, made from a variable, header, flag or input name. */
export function keyOf(name: string): string {
    const k = name.replace(/^-+/, "").replace(/[^A-Za-z0-9_]+/g, "_").toUpperCase().slice(0, 127)
    return /^[A-Za-z_]/.test(k) ? k : `_${k}`
}

class Skip extends Error {}

/** Decides how one found server becomes a config entry plus vault rows. Never throws. */
export function plan(f: Found): Plan {
    const name = safe(f.name)
    const p: Plan = { name, original: f.name, source: f.source, entry: {}, secrets: [], prompts: [], notes: [...f.notes] }
    if (name !== f.name) p.notes.push(`renamed from ${JSON.stringify(f.name)}: a server name is letters, digits and "-"`)
    try {
        if (f.command !== undefined) stdio(p, f)
        else if (f.url !== undefined) remote(p, f)
        else throw new Skip("it has neither a command nor a url")
    } catch (e) {
        if (!(e instanceof Skip)) throw e
        p.skip = e.message
        p.secrets = []
        p.prompts = []
    }
    if (p.secrets.length || p.prompts.length) {
        p.scope = name
        p.entry.scope = name
    }
    return p
}

function stdio(p: Plan, f: Found): void {
    const args: string[] = []
    for (let i = 0; i < f.args.length; i++) {
        const a = f.args[i] ?? ""
        const next = f.args[i + 1]
        const flag = /^(--?[A-Za-z][\w-]*)(=)(.*)$/.exec(a)
        if (has(a)) args.push(convert(p, f, a))
        else if (flag?.[1] && flag[3] && named(flag[1])) args.push(`${flag[1]}=${store(p, keyOf(flag[1]), flag[3], `argument ${flag[1]}`, `flag ${flag[1]}`)}`)
        else if (flag?.[1] && flag[3]) args.push(`${flag[1]}=${within(p, flag[3], `argument ${flag[1]}`, keyOf(flag[1])) ?? flag[3]}`)
        else if (secretFlag(a, next) && next !== undefined) {
            args.push(a, store(p, a === "-p" ? "PASSWORD" : keyOf(a), next, `argument after ${a}`, `flag ${a}`))
            i++
        } else if (joinedPassword(a)) args.push(`-p${store(p, "PASSWORD", a.slice(2), `argument ${i + 1}`, "flag -p, its value joined (mysql -pPASS)")}`)
        else args.push(assignment(p, a, `argument ${i + 1}`) ?? within(p, a, `argument ${i + 1}`) ?? a)
    }
    const env: Record<string, string> = {}
    for (const [k, v] of Object.entries(f.env)) {
        const why = has(v) ? undefined : judge(k, v)
        env[k] = has(v) ? convert(p, f, v) : why ? store(p, envName.test(k) ? k : keyOf(k), v, `env ${k}`, why) : within(p, v, `env ${k}`, keyOf(k)) ?? v
    }
    p.entry.command = f.command
    if (args.length) p.entry.args = args
    if (Object.keys(env).length) p.entry.env = env
    if (f.cwd !== undefined) p.entry.cwd = has(f.cwd) ? convert(p, f, f.cwd) : f.cwd
}

/**
 * True when `a` is a flag whose next argument is its credential: a name that says so
 * (`--api-key`, `--pass`), or `-p` as mysql, mongo and many more take a password, unless what
 * follows is ordinary (`-p 8080` is a port).
 */
function secretFlag(a: string, next: string | undefined): boolean {
    if (next === undefined || next === "" || next.startsWith("-") || has(next)) return false
    if (a === "-p") return !ordinary(next)
    return /^--?[A-Za-z][\w-]*$/.test(a) && named(a)
}

/**
 * `-pPASS`, the password joined to its flag as mysql and mariadb take it; not a number (`-p8080`),
 * an ordinary value, nor a short cluster of switches (`-pv`).
 */
function joinedPassword(a: string): boolean {
    if (!a.startsWith("-p") || a.length < 6 || a.includes("=") || has(a)) return false
    return !ordinary(a.slice(2))
}

/** An argument `NAME=value` (as `env API_KEY=… node server.js` passes it) whose name or value says it is a credential: the value moves. */
function assignment(p: Plan, a: string, where: string): string | undefined {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.+)$/s.exec(a)
    if (!m?.[1] || m[2] === undefined || has(m[2])) return undefined
    const why = judge(m[1], m[2])
    return why ? `${m[1]}=${store(p, keyOf(m[1]), m[2], `${where} ${m[1]}=`, why)}` : undefined
}

/**
 * A value whose credential sits inside it, the credential moved and the rest kept: a known token
 * or a webhook URL (whole), a URL's password or credential query parameter, a header line
 * (`Authorization: Bearer …`, as `--header` takes it), or a connection string's password
 * (`Server=…;Password=…`). `key` names what it was stored under (an env name or a flag), for
 * the vault keys. Undefined when it holds none.
 */
function within(p: Plan, v: string, where: string, key?: string): string | undefined {
    const token = prefix(v)
    if (token) return store(p, key ?? "ARG_TOKEN", v, where, token)
    const hook = webhook(v)
    if (hook) return store(p, key ?? "WEBHOOK_URL", v, where, hook)
    return url(p, v, where, key) ?? header(p, v, where) ?? connection(p, v, where, key)
}

/** An argument that is a URL with a password or a credential in its query, its credentials moved. */
function url(p: Plan, a: string, where: string, key?: string): string | undefined {
    // a scheme, or several as JDBC writes them (jdbc:mysql://…)
    if (!/^(?:[a-z][a-z0-9+.-]*:)+\/\//i.test(a)) return undefined
    let out = a
    const pw = /^((?:[a-z][a-z0-9+.-]*:)+\/\/[^/?#@:]*:)([^@/?#]+)@/i.exec(out)
    if (pw?.[1] && pw[2]) out = pw[1] + store(p, key ? `${key}_PASSWORD` : "URL_PASSWORD", pw[2], `${where} password`, "a URL's password") + out.slice(pw[0].length - 1)
    out = out.replace(/([?&])([^=&#]+)=([^&#]*)/g, (all, sep: string, k: string, v: string) =>
        v && param(k) && !has(v) ? `${sep}${k}=${store(p, keyOf(k), v, `${where} query ${k}`, `a URL's ${k}= parameter`)}` : all)
    return out === a ? undefined : out
}

/** A header line (`Authorization: Bearer …`) whose name says it is a credential: the scheme stays, the credential moves. */
function header(p: Plan, a: string, where: string): string | undefined {
    const h = /^([A-Za-z][\w-]*):(?!\/\/)(\s*)(.+)$/.exec(a)
    if (!h?.[1] || h[3] === undefined) return undefined
    const scheme = /^(Bearer|Basic|Token|Bot)(\s+)(\S+)$/i.exec(h[3])
    const cred = scheme?.[3] ?? h[3]
    const why = judge(h[1], cred)
    if (!why || !named(h[1])) return undefined
    return `${h[1]}:${h[2] ?? ""}${scheme ? `${scheme[1]}${scheme[2]}` : ""}${store(p, keyOf(h[1]), cred, `${where} header ${h[1]}`, why)}`
}

// the keys of a connection string (ADO.NET, ODBC, JDBC, Azure) that hold a credential
const connectionSecret = /^(password|pwd|passwd|pass|account ?key|shared ?access ?key|shared ?access ?signature|secret|client ?secret|token|api ?key|access ?key)$/i

/** A connection string (`Server=…;User Id=…;Password=…`) with each credential's value moved. */
function connection(p: Plan, v: string, where: string, key?: string): string | undefined {
    // libpq's keyword/value form separates its pairs by spaces (`host=db user=u password=…`)
    const spaced = !v.includes(";") && /^\s*[A-Za-z_]\w*\s*=\s*\S*(\s+[A-Za-z_]\w*\s*=\s*\S*)+\s*$/.test(v)
    if (!v.includes(";") && !spaced) return undefined
    let moved = false
    const split = spaced ? v.split(/(?<=\S)(?=\s+[A-Za-z_]\w*\s*=)/) : v.split(";")
    const parts = split.map(part => {
        const kv = /^(\s*)([^=]+?)(\s*=\s*)(.*)$/s.exec(part)
        if (!kv?.[2] || !kv[4] || has(kv[4]) || !connectionSecret.test(kv[2].trim())) return part
        moved = true
        const k = key ? `${key}_${keyOf(kv[2])}` : keyOf(kv[2])
        return `${kv[1] ?? ""}${kv[2]}${kv[3] ?? ""}${store(p, k, kv[4], `${where} ${kv[2].trim()}=`, "a connection string's credential")}`
    })
    return moved ? parts.join(spaced ? "" : ";") : undefined
}

function remote(p: Plan, f: Found): void {
    const u = f.url ?? ""
    p.entry.url = has(u) ? convert(p, f, u) : url(p, u, "url") ?? u
    const headers: Record<string, string> = {}
    for (const [h, v] of Object.entries(f.headers)) {
        if (has(v)) {
            headers[h] = convert(p, f, v)
            continue
        }
        const scheme = /^(Bearer|Basic|Token|Bot|bearer|token|basic)\s+(\S+)$/.exec(v)
        const cred = scheme?.[2] ?? v
        const why = judge(h, cred)
        headers[h] = !why ? v : `${scheme ? `${scheme[1]} ` : ""}${store(p, keyOf(h), cred, `header ${h}`, why)}`
    }
    if (Object.keys(headers).length) p.entry.headers = headers
}

function has(v: string): boolean {
    return v.includes("${")
}

/** Records a secret under `key` (another name if the key holds another value) and returns its reference. */
function store(p: Plan, key: string, value: string, where: string, why: string): string {
    const same = p.secrets.find(s => s.value === value)
    if (same) return `\${secret:${same.key}}`
    let k = key
    for (let n = 2; p.secrets.some(s => s.key === k) || p.prompts.some(s => s.key === k); n++) k = `${key}_${n}`
    p.secrets.push({ key: k, value, where, why })
    return `\${secret:${k}}`
}

/**
 * Rewrites a value's indirections into references mcplexer resolves: ${env:X} stays, ${VAR} and
 * ${VAR:-default} become ${env:VAR}, ${input:id} becomes ${secret:ID} to be prompted for. Anything
 * else cannot be carried over without resolving it, so the server is skipped.
 */
function convert(p: Plan, f: Found, v: string): string {
    return v.replace(/\$\{([^}]*)\}/g, (ref, inner: string) => {
        const env = /^env:([A-Za-z_][A-Za-z0-9_]*)$/.exec(inner)
        if (env) return ref
        if (/^secret:[A-Za-z0-9_./-]+$/.test(inner)) return ref
        const input = /^input:(.+)$/.exec(inner)
        if (input?.[1]) return ask(p, f, input[1])
        const bare = /^([A-Za-z_][A-Za-z0-9_]*)(:-(.*))?$/.exec(inner)
        if (bare?.[1] && !editor.has(bare[1])) {
            if (bare[2] !== undefined) p.notes.push(`\${${bare[1]}:-…}: its default is not kept (mcplexer has no defaults): set ${bare[1]} in mcplexer's environment`)
            return `\${env:${bare[1]}}`
        }
        throw new Skip(`it uses ${ref}, which only its client can resolve`)
    })
}

function ask(p: Plan, f: Found, id: string): string {
    const key = keyOf(id)
    if (!p.prompts.some(x => x.key === key)) {
        const i = f.inputs.get(id)
        p.prompts.push({ key, input: id, password: i?.password ?? true, ...(i?.description ? { description: i.description } : {}) })
    }
    return `\${secret:${key}}`
}
