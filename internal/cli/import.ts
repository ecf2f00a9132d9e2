import { existsSync } from "node:fs"
import { mkdir, readFile } from "node:fs/promises"
import { dirname, resolve } from "node:path"
import * as clients from "../clients/index.ts"
import * as atomic from "../config/atomic.ts"
import * as config from "../config/index.ts"
import * as secrets from "../secrets/index.ts"
import { exit, one, UsageError, type Output } from "./output.ts"

/** What `mcplexer import` reads and how far it goes. */
export interface ImportOptions {
    paths: config.Paths
    /** a client's name or a file; all clients found when undefined */
    source?: string
    dryRun: boolean
    yes: boolean
    force: boolean
    where: clients.Where
}

/** One server's fate in this import. */
interface Step {
    plan: clients.Plan
    client: string
    file: string
    /** new, same (already imported), clash (another definition exists), replace (clash with --force), skip */
    status: "new" | "same" | "clash" | "replace" | "skip" | "twice"
    why?: string
}

/**
 * Moves the MCP servers of AI clients' files into config.yaml and their plaintext credentials
 * into the vault, one scope per server. The dry run shows every decision, values masked, and
 * writes and asks nothing; otherwise every command is shown and confirmed (unless `yes`).
 */
export async function run(o: ImportOptions, out: Output): Promise<number> {
    const files = await sources(o)
    if (files.length === 0) {
        out.info("found no AI client configuration")
        out.hint(`looked for: ${clients.names.flatMap(c => clients.places(c, o.where).map(p => p.file)).join(", ")}`)
        return exit.ok
    }
    const text = existsSync(o.paths.config) ? await readFile(o.paths.config, "utf8") : config.starter
    // a config that does not load is reported where it is wrong, before anything is planned
    config.parse(text, o.paths.config)
    const steps = await decide(o, files, text)
    for (const f of files) show(f, steps.filter(s => s.file === f.file), out)
    const todo = steps.filter(s => s.status === "new" || s.status === "replace")
    const count = `${todo.length} server${todo.length === 1 ? "" : "s"} and ${todo.reduce((n, s) => n + s.plan.secrets.length, 0)} secret(s)`
    if (o.dryRun) {
        out.info(`dry run: would import ${count} into ${o.paths.config}; nothing written`)
        return exit.ok
    }
    if (todo.length === 0) {
        const same = steps.filter(s => s.status === "same" || s.status === "twice").length
        out.info(`nothing to do: ${same} server(s) already imported${steps.length > same ? `, ${steps.length - same} clashing or skipped` : ""}`)
        return steps.some(s => s.status === "clash") ? exit.error : exit.ok
    }
    if (!o.yes && !(await confirm(`import ${count} into ${o.paths.config}?`, out))) {
        out.info("nothing imported")
        return exit.error
    }
    await prompts(todo, out)
    await write(o, text, todo)
    report(o, todo, out)
    return steps.some(s => s.status === "clash") ? exit.error : exit.ok
}

interface File {
    client: string
    file: string
    text: string
    /** why it cannot be read, when looking through every client (one broken file stops no other) */
    error?: string
}

/** The files to read: a client's (user and project), a file given by path, or every client's found. */
async function sources(o: ImportOptions): Promise<File[]> {
    const s = o.source
    const places = s === undefined ? clients.names.flatMap(c => clients.places(c, o.where))
        : clients.known(s) ? clients.places(s, o.where)
        : existsSync(s) ? [{ client: "file", file: resolve(s), level: "project" as const }]
        : undefined
    if (places === undefined) {
        throw new UsageError(`no client or file named "${s}"`, `name a client (${clients.names.join(", ")}) or a file that exists`)
    }
    const found = places.filter(p => existsSync(p.file))
    if (s !== undefined && clients.known(s) && found.length === 0) {
        throw config.hinted(`no ${s} configuration found`, `looked for: ${places.map(p => p.file).join(", ")}`)
    }
    return Promise.all(found.map(async p => {
        const f: File = { client: p.client, file: p.file, text: await readFile(p.file, "utf8") }
        if (s !== undefined) return f
        try {
            clients.read(f.text, f.file)
        } catch (e) {
            f.error = (e as Error).message
        }
        return f
    }))
}

/** Plans every server and compares it with config.yaml and the vault. */
async function decide(o: ImportOptions, files: File[], text: string): Promise<Step[]> {
    const have = config.entries(text)
    const steps: Step[] = []
    const vault = existsSync(o.paths.db) ? secrets.open(o.paths, { actor: "import" }) : undefined
    try {
        for (const f of files.filter(x => x.error === undefined)) {
            for (const found of clients.read(f.text, f.file)) {
                const plan = clients.plan(found)
                const step: Step = { plan, client: f.client, file: f.file, ...await status(plan, steps, have, vault, o.force) }
                if (step.status === "new" || step.status === "replace") fits(step, text, o.paths.config)
                steps.push(step)
            }
        }
    } finally {
        vault?.close()
    }
    return steps
}

async function status(p: clients.Plan, earlier: Step[], have: ReturnType<typeof config.entries>, vault: secrets.Vault | undefined, force: boolean): Promise<Omit<Step, "plan" | "client" | "file">> {
    if (p.skip) return { status: "skip", why: p.skip }
    const first = earlier.find(s => s.plan.name === p.name && s.status !== "skip")
    if (first) {
        return same(first.plan, p) ? { status: "twice", why: `the same as in ${first.plan.source}` }
            : { status: "clash", why: `another "${p.name}" comes first, from ${first.plan.source}` }
    }
    const existing = have.servers.get(p.name)
    if (existing === undefined) {
        const taken = await overwrites(p, vault)
        if (taken.length === 0) return { status: "new" }
        return force ? { status: "replace", why: `replaces ${taken.join(", ")} in the vault (--force)` }
            : { status: "clash", why: `the vault already holds ${taken.join(", ")} with another value: --force replaces it` }
    }
    if (stable(existing) === stable(p.entry) && await stored(p, vault)) return { status: "same" }
    return force ? { status: "replace", why: `replaces the "${p.name}" of config.yaml (--force)` }
        : { status: "clash", why: `config.yaml has another "${p.name}": rename one, or --force to replace it` }
}

/** Skips a server whose entry config.yaml would refuse (a variable or header name it cannot take), saying why. */
function fits(s: Step, text: string, file: string): void {
    try {
        config.add(text, file, { scopes: s.plan.scope ? { [s.plan.scope]: "" } : {}, servers: { [s.plan.name]: s.plan.entry } })
    } catch (e) {
        s.status = "skip"
        s.why = `config.yaml cannot take it: ${(e as Error).message}`
    }
}

/** The scope/KEY names the vault already holds with another value than the plan's (one decryption, only if any exists). */
async function overwrites(p: clients.Plan, vault: secrets.Vault | undefined): Promise<string[]> {
    if (p.scope === undefined || vault === undefined || p.secrets.length === 0) return []
    const keys = new Set(vault.list(p.scope).map(e => e.key))
    if (!p.secrets.some(s => keys.has(s.key))) return []
    const values = await vault.scope(p.scope, { server: p.name, reason: "import compares" })
    return p.secrets.filter(s => values.has(s.key) && values.get(s.key) !== s.value).map(s => `${p.scope}/${s.key}`)
}

/** True when every secret of the plan is already in the vault with the same value (one decryption of the scope). */
async function stored(p: clients.Plan, vault: secrets.Vault | undefined): Promise<boolean> {
    if (p.scope === undefined || p.secrets.length === 0) return true
    if (vault === undefined) return false
    const keys = new Set(vault.list(p.scope).map(e => e.key))
    if (!p.secrets.every(s => keys.has(s.key))) return false
    const values = await vault.scope(p.scope, { server: p.name, reason: "import compares" })
    return p.secrets.every(s => values.get(s.key) === s.value)
}

function same(a: clients.Plan, b: clients.Plan): boolean {
    return stable(a.entry) === stable(b.entry) && stable(a.secrets.map(s => [s.key, s.value])) === stable(b.secrets.map(s => [s.key, s.value]))
}

/** JSON with sorted keys, to compare entries whatever their key order. */
function stable(v: unknown): string {
    return JSON.stringify(v, (_, x: unknown) => typeof x === "object" && x !== null && !Array.isArray(x)
        ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)) : x)
}

const marks = { new: "+", replace: "~", same: "=", twice: "=", clash: "!", skip: "-" }

/**
 * Prints one file's servers with every decision; values masked. Everything read from the file
 * is shown one line per value (`one`), so a newline or a carriage return in it cannot fake a line
 * of the plan, and Output escapes what remains.
 */
function show(f: File, steps: Step[], out: Output): void {
    out.out(`${f.client}  ${one(f.file)}\n`)
    if (f.error !== undefined) out.out(`  (skipped: ${one(f.error)})\n`)
    else if (steps.length === 0) out.out("  (no MCP servers)\n")
    for (const s of steps) {
        const p = s.plan
        const state = s.status === "new" ? "" : s.status === "same" ? "  already imported" : `  ${s.status}: ${one(s.why ?? "")}`
        out.out(`  ${marks[s.status]} ${one(p.name)}${state}\n`)
        if (s.status === "skip" || s.status === "same" || s.status === "twice") continue
        out.out(`      ${command(p.entry)}\n`)
        for (const [k, v] of Object.entries(p.entry.env ?? {})) out.out(`      env ${one(k)}=${one(String(v))}\n`)
        for (const x of p.secrets) out.out(`      secret ${p.scope}/${x.key} ← ${one(x.where)} (${one(x.why)}): ${one(clients.mask(x.value))}\n`)
        for (const x of p.prompts) out.out(`      ask    ${p.scope}/${x.key} ← \${input:${one(x.input)}}${x.description ? ` (${one(x.description)})` : ""}\n`)
        for (const n of p.notes) out.out(`      note   ${one(n)}\n`)
    }
}

/**
 * The command line or URL of an entry, in full (references, never values). A word holding a
 * character a terminal would act on is written in the shell's $'…' form with that character
 * escaped, which is both what the word is and safe to show.
 */
function command(e: Record<string, unknown>): string {
    if (typeof e.url === "string") return one([e.url, ...Object.entries(e.headers ?? {}).map(([k, v]) => `${k}: ${String(v)}`)].join("  "))
    const words = [String(e.command), ...(Array.isArray(e.args) ? e.args.map(String) : [])]
    return words.map(word).join(" ")
}

function word(w: string): string {
    if (/^[\w@%+=:,./-]+$/.test(w)) return w
    if (one(w) !== w) return `$'${one(w.replace(/\\/g, "\\\\").replace(/'/g, "\\'"))}'`
    return `'${w.replace(/'/g, "'\\''")}'`
}

/** Asks yes or no on the terminal; without one, says how to go on. */
async function confirm(question: string, out: Output): Promise<boolean> {
    if (!process.stdin.isTTY) {
        throw config.hinted("import needs a confirmation, and there is no terminal to ask on", "check the commands above, then run again with --yes (or see the plan only with --dry-run)")
    }
    const { read } = await import("read")
    const answer = await read({ prompt: `${question} [y/N] `, output: process.stderr })
    out.info("")
    return /^y(es)?$/i.test(answer.trim())
}

/** Asks for the values a client asked its user for, on a terminal; without one they stay to do. */
async function prompts(steps: Step[], out: Output): Promise<void> {
    if (!process.stdin.isTTY) return
    const { read } = await import("read")
    for (const s of steps) {
        for (const x of s.plan.prompts) {
            const label = `${s.plan.scope}/${x.key}${x.description ? ` (${one(x.description)})` : ""}, empty to skip`
            const value = await read({ prompt: `${label}: `, silent: x.password, replace: "", output: process.stderr })
            if (value) s.plan.secrets.push({ key: x.key, value, where: `\${input:${x.input}}`, why: "asked" })
        }
    }
    out.info("")
}

/**
 * Makes (and validates) the new config first, then stores the secrets, then writes config.yaml:
 * the config never names a value not stored, and a config that would not load is never written.
 */
async function write(o: ImportOptions, text: string, steps: Step[]): Promise<void> {
    const scopes: Record<string, string> = {}
    const servers: Record<string, Record<string, unknown>> = {}
    for (const s of steps) {
        if (s.plan.scope !== undefined) scopes[s.plan.scope] = `imported from ${s.client}`
        servers[s.plan.name] = s.plan.entry
    }
    const next = config.add(text, o.paths.config, { scopes, servers })
    await mkdir(o.paths.home, { recursive: true, mode: 0o700 })
    const vault = secrets.open(o.paths, { actor: "import", create: true })
    try {
        for (const s of steps) for (const x of s.plan.secrets) await vault.put(s.plan.scope ?? s.plan.name, x.key, x.value)
    } finally {
        vault.close()
    }
    await mkdir(dirname(o.paths.config), { recursive: true, mode: 0o700 })
    atomic.write(o.paths.config, next)
}

function report(o: ImportOptions, steps: Step[], out: Output): void {
    const stored = steps.reduce((n, s) => n + s.plan.secrets.length, 0)
    out.info(`imported ${steps.length} server(s) into ${o.paths.config}, ${stored} secret(s) into the vault`)
    const missing = steps.flatMap(s => s.plan.prompts.filter(x => !s.plan.secrets.some(y => y.key === x.key)).map(x => `mcplexer secret put ${s.plan.scope} ${x.key}`))
    if (missing.length) out.hint(`values the client asked for are still to store:\n${missing.map(m => `  ${m}`).join("\n")}`)
    const from = [...new Set(steps.map(s => s.client).filter(clients.known))]
    out.hint(`then make mcplexer each client's one server: ${from.length ? from.map(c => `mcplexer install ${c}`).join(", ") : "mcplexer install <client>"}`)
}
