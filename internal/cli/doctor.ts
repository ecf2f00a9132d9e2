import { accessSync, constants, existsSync, lstatSync, statSync } from "node:fs"
import { delimiter, isAbsolute, join, resolve } from "node:path"
import * as config from "../config/index.ts"
import type * as downstream from "../downstream/index.ts"
import * as gateway from "../gateway/index.ts"
import * as redact from "../redact/index.ts"
import * as secrets from "../secrets/index.ts"
import * as store from "../store/index.ts"
import { exit, message, type Output } from "./output.ts"
import { loginMissing, refs, storedNames } from "./status.ts"
import { cachedCatalogs, only } from "./tools.ts"

/** What `doctor` needs. */
export interface DoctorOptions { paths: config.Paths; json?: boolean }

/** One problem and how to fix it. */
export interface Finding { level: "error" | "warning"; message: string; fix: string }

/**
 * Checks the setup without starting a server or decrypting anything: the config, the key file
 * and its permissions, the database, the secrets the servers refer to, the commands of stdio
 * servers and the URLs of remote ones. Prints each finding with its fix; exit 1 when any is an error.
 */
export async function doctor(o: DoctorOptions, out: Output): Promise<number> {
    const findings: Finding[] = []
    const ok: string[] = []
    const c = checkFiles(o.paths, findings, ok) ? await loadConfig(o.paths, findings, ok) : undefined
    const vault = openDatabase(o.paths, findings, ok)
    try {
        await checkKey(o.paths, vault, findings, ok)
        await checkShort(vault, findings)
        if (c) checkServers(c, vault, findings, ok)
        if (c) checkLogins(c, vault, findings)
        if (c) checkArgs(c, findings)
        if (c && vault) {
            const quiet = () => { /* nothing is started; what the tables refuse comes back as findings */ }
            const log = { debug: quiet, info: quiet, warn: quiet, error: quiet }
            const registry = redact.create()
            const catalogs = await cachedCatalogs(c, vault, registry, log)
            await checkNames(c, vault, catalogs, registry, log, findings)
            checkFlags(c, catalogs, findings)
        }
        if (c && vault) checkShares(c, vault, findings)
        if (vault) checkExpiry(c, vault, findings)
        if (c) await checkReach(c, findings)
    } finally {
        vault?.close()
    }
    const errors = findings.filter(f => f.level === "error").length
    if (o.json) {
        out.out(`${JSON.stringify({ ok, findings, errors, warnings: findings.length - errors })}\n`)
        return errors ? exit.error : exit.ok
    }
    for (const line of ok) out.info(`ok: ${line}`)
    for (const f of findings) {
        if (f.level === "error") out.error(f.message)
        else out.warn(f.message)
        if (f.fix) out.hint(f.fix)
    }
    const warnings = findings.length - errors
    if (findings.length === 0) out.info("no problems found")
    else out.info(`${count(errors, "error")}, ${count(warnings, "warning")}`)
    return errors ? exit.error : exit.ok
}

/**
 * The home folder and the config file, as every other command checks them before it starts:
 * false when the config cannot be trusted, so that it is not loaded.
 */
function checkFiles(paths: config.Paths, findings: Finding[], ok: string[]): boolean {
    const problems = config.guard.problems(paths)
    for (const p of problems) findings.push({ level: "error", message: p.message, fix: p.hint })
    if (!problems.length && existsSync(paths.home)) ok.push(`home folder ${paths.home} (mode ${octal(statSync(paths.home).mode & 0o777)})`)
    return problems.length === 0
}

/**
 * A secret in a command's arguments works, but every local user can read a process's arguments
 * (ps, /proc/PID/cmdline): say so for each one, and point to env, which only the owner can read.
 */
function checkArgs(c: config.Config, findings: Finding[]): void {
    for (const s of c.servers.values()) {
        if (s.kind !== "stdio") continue
        s.args.forEach((arg, i) => {
            let parts: config.Part[]
            try {
                parts = config.template(arg)
            } catch {
                return // reported with the references
            }
            for (const p of parts) {
                if (typeof p === "string" || !("secret" in p)) continue
                const ref = `\${secret:${p.secret.scope === undefined ? "" : `${p.secret.scope}/`}${p.secret.key}}`
                findings.push({
                    level: "warning",
                    message: `server ${q(s.name)}: argument ${i + 1} holds ${ref}, which every local user can read in ps while it runs`,
                    fix: `pass it in env instead, if the server reads it from there: env: { ${p.secret.key}: "${ref}" }`,
                })
            }
        })
    }
}

/**
 * A prefix-less server that lists a name in another server's namespace (`github__emit`): serve
 * leaves it out, since a route for `github__*` would hand that server github's scope. Told from
 * the gateway's own naming tables over the catalogs serve cached: nothing starts, nothing is
 * decrypted, and a server never listed yet is not judged.
 */
async function checkNames(c: config.Config, vault: secrets.Vault, catalogs: Map<string, downstream.Catalog>, registry: redact.Registry, log: downstream.Logger, findings: Finding[]): Promise<void> {
    // not judged is not "fine": a prefix-less server squatting another's names shows only once listed
    for (const s of c.servers.values()) {
        if (s.prefix || catalogs.has(s.name)) continue
        findings.push({
            level: "warning", message: `the tool names of server ${JSON.stringify(s.name)} (prefix: false) are not checked: its tools were never listed`,
            fix: "list them with: mcplexer tools refresh (it starts each server once), then run doctor again",
        })
    }
    if (![...catalogs.keys()].some(n => c.servers.get(n)?.prefix === false)) return
    const gw = gateway.create({ config: only(c, catalogs.keys()), vault, registry, log, env: process.env })
    try {
        await gw.tools()
        for (const line of gw.collisions()) {
            const m = / of server ("[^"]+") is left out: /.exec(line)
            if (m === null) continue
            findings.push({
                level: "error", message: line,
                fix: `set prefix: true on server ${m[1] ?? ""} in ${c.file} (its tools become <server>__<name>), or have the server rename the tool`,
            })
        }
    } finally {
        await gw.close()
    }
}

/**
 * Poisoning markers in the tools serve last listed (hidden characters, text aimed at the model:
 * gateway/flags.ts), from the catalog cache: nothing starts. A flag warns; pins and switches act.
 */
function checkFlags(c: config.Config, catalogs: Map<string, downstream.Catalog>, findings: Finding[]): void {
    for (const [server, cat] of catalogs) {
        const s = c.servers.get(server)
        for (const t of cat.tools) {
            const name = s?.prefix === false ? t.name : `${server}__${t.name}`
            for (const f of gateway.flags(t)) {
                findings.push({
                    level: "warning", message: `tool ${q(name)} of server ${q(server)} has ${f.found} in its ${f.field}`,
                    fix: `read it with: mcplexer tools --json; switch it off with: mcplexer tools disable ${name}`,
                })
            }
        }
    }
}

/** Scopes whose rows are not encrypted to the recipients the config declares (from the index: nothing is decrypted). */
function checkShares(c: config.Config, vault: secrets.Vault, findings: Finding[]): void {
    let drift: secrets.share.Drift[]
    try {
        drift = secrets.share.drift(c, vault)
    } catch (e) {
        findings.push({ level: "error", message: message(e), fix: hint(e) ?? "fix the scope's recipients" })
        return
    }
    for (const d of drift) {
        const rows = d.rows === 0 ? "" : ` (${count(d.rows, "secret")} not sealed for them)`
        const want = d.want.length === 0 ? "your key alone" : `your key and ${count(d.want.length, "recipient")}`
        const have = d.have.length === 0 ? "your key alone" : `your key and ${count(d.have.length, "recipient")}`
        findings.push({ level: "warning", message: `the secrets of scope ${q(d.scope)} are encrypted to ${have}, but its config declares ${want}${rows}`, fix: `mcplexer secret reencrypt ${d.scope}` })
    }
}

/** Values expired, expiring within 14 days, or older than their scope's rotate_every (secrets.health). */
function checkExpiry(c: config.Config | undefined, vault: secrets.Vault, findings: Finding[]): void {
    for (const w of secrets.health(vault, c)) findings.push({ level: "warning", message: w.message, fix: w.hint })
}

/** How long doctor waits for a remote server to answer. */
const reachTimeout = 5000

/**
 * Each remote server's URL must answer: any HTTP status will do (401 or 405 included), since it
 * shows the address is right and something listens. A URL with references is left out: doctor
 * never decrypts. A warning, not an error: the network may be down for a moment.
 */
async function checkReach(c: config.Config, findings: Finding[]): Promise<void> {
    const remotes = [...c.servers.values()].filter(s => s.kind === "remote" && !s.url.includes("${"))
    await Promise.all(remotes.map(async s => {
        const url = (s as config.RemoteServer).url
        try {
            const r = await fetch(url, { method: "GET", redirect: "manual", signal: AbortSignal.timeout(reachTimeout) })
            await r.body?.cancel()
        } catch (e) {
            const cause = (e as { cause?: { code?: string } }).cause?.code
            const why = (e as Error).name === "TimeoutError" ? `no answer within ${reachTimeout / 1000} s` : cause ?? message(e)
            findings.push({ level: "warning", message: `server ${q(s.name)}: url ${q(url)} does not answer (${why})`, fix: `check the address and your network, or that the server runs` })
        }
    }))
}

async function loadConfig(paths: config.Paths, findings: Finding[], ok: string[]): Promise<config.Config | undefined> {
    try {
        const c = await config.load(paths.config)
        ok.push(`config ${c.file} loads (${count(c.servers.size, "server")}, ${count(c.scopes.size, "scope")})`)
        return c
    } catch (e) {
        const where = e instanceof config.ConfigError && e.line > 0 ? `${e.file}:${e.line}:${e.col}: ` : ""
        findings.push({ level: "error", message: `${where}${message(e)}`, fix: hint(e) ?? `fix ${paths.config}, or run mcplexer init to write a starter config` })
        return undefined
    }
}

function openDatabase(paths: config.Paths, findings: Finding[], ok: string[]): secrets.Vault | undefined {
    if (!existsSync(paths.db)) {
        findings.push({ level: "warning", message: `database ${paths.db} does not exist yet`, fix: "mcplexer init (or the first mcplexer secret put) creates it" })
        return undefined
    }
    let vault: secrets.Vault
    try {
        vault = secrets.open(paths, { actor: "doctor" })
    } catch (e) {
        findings.push({ level: "error", message: `database ${paths.db} cannot be opened: ${message(e)}`, fix: hint(e) ?? `check its owner and permissions (ls -l ${paths.db}); a damaged file can be moved away and the secrets put again` })
        return undefined
    }
    try {
        const check = store.check(vault.store)
        if (check !== "ok") {
            findings.push({ level: "error", message: `database ${paths.db} is damaged: ${String(check)}`, fix: `restore it from a backup, or move it away and put the secrets again` })
            return vault
        }
        const n = vault.list().length
        ok.push(`database ${paths.db} opens (${count(n, "secret")} stored)`)
    } catch (e) {
        findings.push({ level: "error", message: `database ${paths.db} cannot be read: ${message(e)}`, fix: hint(e) ?? `check its owner and permissions (ls -l ${paths.db})` })
        vault.close()
        return undefined
    }
    const mode = statSync(paths.db).mode & 0o777
    if (mode & 0o077) {
        findings.push({ level: "warning", message: `database ${paths.db} is readable by others (mode ${octal(mode)})`, fix: `chmod 600 ${paths.db}` })
    }
    return vault
}

async function checkKey(paths: config.Paths, vault: secrets.Vault | undefined, findings: Finding[], ok: string[]): Promise<void> {
    const stored = vault?.list() ?? []
    let st
    try {
        st = lstatSync(paths.key)
    } catch {
        if (paths.keyExplicit) {
            findings.push({ level: "error", message: `key file ${paths.key} named by MCPLEXER_AGE_KEY does not exist`, fix: `create it with: age-keygen -o ${paths.key}\nor unset MCPLEXER_AGE_KEY to use the key in the mcplexer home folder` })
        } else if (stored.length) {
            findings.push({ level: "error", message: `key file ${paths.key} does not exist, but ${count(stored.length, "secret")} are stored`, fix: `put the key file they were encrypted to back at ${paths.key}, or set MCPLEXER_AGE_KEY to it` })
        } else {
            findings.push({ level: "warning", message: `key file ${paths.key} does not exist yet`, fix: "mcplexer init (or the first mcplexer secret put) creates it" })
        }
        return
    }
    if (st.isSymbolicLink()) {
        findings.push({ level: "error", message: `key file ${paths.key} is a symbolic link`, fix: `replace the link with the file itself, or set MCPLEXER_AGE_KEY to the real path` })
        return
    }
    const mode = st.mode & 0o777
    if (mode & 0o077) {
        findings.push({ level: "error", message: `key file ${paths.key} is readable by others (mode ${octal(mode)})`, fix: `chmod 600 ${paths.key}` })
        return
    }
    let recipient: string
    try {
        // the file exists, so this only reads and checks it; it never creates or decrypts anything
        recipient = (await secrets.init(paths)).recipient
    } catch (e) {
        findings.push({ level: "error", message: message(e), fix: hint(e) ?? `check ${paths.key}` })
        return
    }
    const others = [...new Set(stored.map(e => e.recipient).filter(r => r !== recipient))]
    if (others.length) {
        const n = stored.filter(e => e.recipient !== recipient).length
        findings.push({
            level: "error",
            message: `${count(n, "secret")} in ${paths.db} are encrypted to ${others.join(", ")}, not to the key file ${paths.key} (${recipient})`,
            fix: `set MCPLEXER_AGE_KEY to the key file of ${others[0] ?? ""}`,
        })
        return
    }
    ok.push(`key file ${paths.key} (mode ${octal(mode)}, ${recipient})`)
}

/**
 * Values shorter than redact.minLength are never masked in output: each is named (scope/key), never
 * shown. The only check that decrypts; a value that cannot be decrypted is the key check's finding.
 */
async function checkShort(vault: secrets.Vault | undefined, findings: Finding[]): Promise<void> {
    for (const scope of new Set(vault?.list().map(e => e.scope))) {
        let values: Map<string, string>
        try {
            values = await vault!.scope(scope, { reason: "doctor: value lengths" })
        } catch {
            continue
        }
        for (const [key, value] of values) {
            if (!redact.tooShort(value)) continue
            findings.push({ level: "warning", message: `secret ${q(`${scope}/${key}`)} is shorter than ${redact.minLength} characters, so it is never masked in output`, fix: `if it is a secret, store the full value: mcplexer secret put ${scope} ${key}` })
        }
    }
}

function checkServers(c: config.Config, vault: secrets.Vault | undefined, findings: Finding[], ok: string[]): void {
    const stored = storedNames(vault)
    const scopes = new Set([...stored].map(n => n.slice(0, n.indexOf("/"))))
    // a missing secret is one finding, naming every server that needs it
    const needs = new Map<string, { scope: string; key: string; servers: string[] }>()
    const empty = new Map<string, string[]>()
    let clean = 0
    for (const s of c.servers.values()) {
        const before = findings.length
        const r = refs(s)
        for (const p of r.problems) findings.push({ level: "error", message: p.message, fix: p.hint || `fix server ${q(s.name)} in ${c.file}` })
        for (const n of r.secrets) {
            if (!c.scopes.has(n.scope)) {
                findings.push({ level: "error", message: `server ${q(s.name)} uses scope ${q(n.scope)}, which is not declared`, fix: `add it under auth_scopes in ${c.file}` })
                continue
            }
            if (stored.has(`${n.scope}/${n.key}`)) continue
            const id = `${n.scope}/${n.key}`
            const need = needs.get(id) ?? { scope: n.scope, key: n.key, servers: [] }
            need.servers.push(s.name)
            needs.set(id, need)
        }
        // a scope whose every key is injected: nothing stored is no error, but is rarely meant
        const injects = s.kind === "stdio" || s.inject === "headers"
        if (s.scope !== undefined && injects && !scopes.has(s.scope)) {
            const l = empty.get(s.scope) ?? []
            l.push(s.name)
            empty.set(s.scope, l)
        }
        for (const name of r.env) {
            if (process.env[name] !== undefined) continue
            findings.push({ level: "warning", message: `server ${q(s.name)} refers to \${env:${name}}, which is not set here`, fix: `set ${name} in the environment mcplexer serve runs in (your AI client's config), or remove the reference` })
        }
        if (s.kind === "stdio") checkCommand(s, c.file, findings)
        else checkUrl(s, c.file, findings)
        if (findings.length === before) clean++
    }
    for (const n of needs.values()) {
        findings.push({
            level: "error",
            message: `secret ${q(`${n.scope}/${n.key}`)} is not stored (needed by ${n.servers.length > 1 ? "servers" : "server"} ${n.servers.map(q).join(", ")})`,
            fix: `mcplexer secret put ${n.scope} ${n.key}`,
        })
    }
    for (const [scope, servers] of empty) {
        // the missing secret of that scope is already reported, with its exact fix
        if ([...needs.values()].some(n => n.scope === scope)) continue
        findings.push({
            level: "warning",
            message: `scope ${q(scope)} has no stored keys, but ${servers.length > 1 ? "servers" : "server"} ${servers.map(q).join(", ")} ${servers.length > 1 ? "use" : "uses"} it`,
            fix: `store what the server needs with: mcplexer secret put ${scope} <KEY>`,
        })
    }
    if (clean === c.servers.size && clean > 0 && needs.size === 0 && empty.size === 0) ok.push(`${count(clean, "server")} ${clean > 1 ? "look" : "looks"} right`)
}

/** An oauth: server nobody has logged in to yet: its calls fail until someone does. */
function checkLogins(c: config.Config, vault: secrets.Vault | undefined, findings: Finding[]): void {
    for (const name of loginMissing(c, storedNames(vault))) {
        findings.push({ level: "warning", message: `server ${q(name)} needs a login (oauth), and none is stored`, fix: `mcplexer auth login ${name}` })
    }
}

/** A stdio command must be found the way spawn finds it: on the server's PATH, or at its path. */
function checkCommand(s: config.StdioServer, file: string, findings: Finding[]): void {
    const cmd = s.command
    const fix = `install it, or give its absolute path as the command of server ${q(s.name)} in ${file}`
    if (cmd.includes("/")) {
        const cwd = s.cwd !== undefined && !s.cwd.includes("${") ? s.cwd : process.cwd()
        const full = isAbsolute(cmd) ? cmd : resolve(cwd, cmd)
        const why = runnable(full)
        if (why) findings.push({ level: "error", message: `server ${q(s.name)}: command ${q(cmd)} ${why}`, fix })
    } else {
        const path = plain(s.env.PATH) ?? process.env.PATH ?? ""
        const found = path.split(delimiter).filter(Boolean).some(dir => runnable(join(dir, cmd)) === undefined)
        if (!found) findings.push({ level: "error", message: `server ${q(s.name)}: command ${q(cmd)} is not found on PATH`, fix })
    }
    if (s.cwd !== undefined && !s.cwd.includes("${")) {
        let dir = false
        try {
            dir = statSync(s.cwd).isDirectory()
        } catch {
            dir = false
        }
        if (!dir) findings.push({ level: "error", message: `server ${q(s.name)}: working folder ${q(s.cwd)} does not exist`, fix: `create it, or fix the cwd of server ${q(s.name)} in ${file}` })
    }
}

/** Why a path cannot be run, or undefined when it can. */
function runnable(path: string): string | undefined {
    let st
    try {
        st = statSync(path)
    } catch {
        return "does not exist"
    }
    if (!st.isFile()) return "is not a file"
    try {
        accessSync(path, constants.X_OK)
    } catch {
        return "is not executable"
    }
    return undefined
}

/** A remote url must parse once its references are filled in, and speak http(s). */
function checkUrl(s: config.RemoteServer, file: string, findings: Finding[]): void {
    let text: string
    try {
        // placeholders stand in for references: only the shape of the url is checked, never a value
        text = config.template(s.url).map(p => typeof p === "string" ? p : "x").join("")
    } catch {
        return // reported with the references
    }
    let u: URL | undefined
    try {
        u = new URL(text)
    } catch {
        u = undefined
    }
    if (u === undefined || (u.protocol !== "http:" && u.protocol !== "https:")) {
        findings.push({ level: "error", message: `server ${q(s.name)}: url ${q(s.url)} is not an http(s) URL`, fix: `write the full URL of its MCP endpoint in ${file}, e.g. https://example.com/mcp` })
    }
}

/** A value with no references, as it reaches the child. */
function plain(v: string | undefined): string | undefined {
    return v === undefined || v.includes("${") ? undefined : v
}

function hint(e: unknown): string | undefined {
    const h = (e as { hint?: unknown }).hint
    return typeof h === "string" && h ? h : undefined
}

function count(n: number, word: string): string {
    return `${n} ${word}${n === 1 ? "" : "s"}`
}

function octal(mode: number): string {
    return mode.toString(8).padStart(4, "0")
}

function q(s: string): string {
    return JSON.stringify(s)
}
