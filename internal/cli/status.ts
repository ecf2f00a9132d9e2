import { existsSync } from "node:fs"
import * as config from "../config/index.ts"
import type * as downstream from "../downstream/index.ts"
import * as gateway from "../gateway/index.ts"
import * as redact from "../redact/index.ts"
import * as secrets from "../secrets/index.ts"
import * as store from "../store/index.ts"
import { message, type Output } from "./output.ts"
import { table } from "./secret.ts"

/** What `status` needs. */
export interface StatusOptions { paths: config.Paths; json: boolean }

/** One secret a server's definition needs, by scope and key. */
export interface Need { scope: string; key: string }

/** What a server's definition refers to, read from the config alone. */
export interface Refs {
    /** every ${secret:…} reference, with the scope it resolves in */
    secrets: Need[]
    /** every ${env:NAME} reference */
    env: string[]
    /** references that cannot resolve at all, each with its fix */
    problems: Array<{ message: string; hint: string }>
}

/** The strings of a server's definition that may hold references (DESIGN.md, Injection). */
export function texts(s: config.Server): string[] {
    return s.kind === "stdio"
        ? [...Object.values(s.env), ...s.args, ...(s.cwd === undefined ? [] : [s.cwd])]
        : [s.url, ...Object.values(s.headers)]
}

/** The references of a server's definition; never looks at a value. */
export function refs(s: config.Server): Refs {
    const out: Refs = { secrets: [], env: [], problems: [] }
    const seen = new Set<string>()
    for (const text of texts(s)) {
        let parts: config.Part[]
        try {
            parts = config.template(text)
        } catch (e) {
            out.problems.push({ message: `server ${q(s.name)}: ${message(e)}`, hint: (e as { hint?: string }).hint ?? "" })
            continue
        }
        for (const p of parts) {
            if (typeof p === "string") continue
            if ("env" in p) {
                if (!out.env.includes(p.env)) out.env.push(p.env)
                continue
            }
            const scope = p.secret.scope ?? s.scope
            if (scope === undefined) {
                out.problems.push({
                    message: `server ${q(s.name)} refers to \${secret:${p.secret.key}} but has no scope`,
                    hint: `give the server a scope, or name one: \${secret:<scope>/${p.secret.key}}`,
                })
                continue
            }
            const id = `${scope}/${p.secret.key}`
            if (seen.has(id)) continue
            seen.add(id)
            out.secrets.push({ scope, key: p.secret.key })
        }
    }
    return out
}

/** The referenced secrets of `s` that are not stored, judged from `stored` ("scope/key" names). */
export function missing(s: config.Server, stored: Set<string>): Need[] {
    return refs(s).secrets.filter(n => !stored.has(`${n.scope}/${n.key}`))
}

/** The "scope/key" names of every stored secret; never decrypts, never loads the key. */
export function storedNames(vault: secrets.Vault | undefined): Set<string> {
    return new Set(vault?.list().map(e => `${e.scope}/${e.key}`) ?? [])
}

/** The `oauth:` servers with no stored login (secrets.loginMissing), for doctor too. */
export const loginMissing = secrets.loginMissing

/** Whether a process with this pid exists (EPERM: it does, owned by someone else). */
export function alive(pid: number): boolean {
    try {
        process.kill(pid, 0)
        return true
    } catch (e) {
        return (e as NodeJS.ErrnoException).code === "EPERM"
    }
}

/** A logger for the short-lived gateways of the CLI: problems to stderr, scrubbed; the rest only with MCPLEXER_DEBUG. */
export function logger(out: Output, registry: redact.Registry): downstream.Logger {
    const debug = Boolean(process.env.MCPLEXER_DEBUG)
    const line = (m: string, f?: Record<string, unknown>) => registry.scrub(debug && f ? `${m} ${JSON.stringify(f)}` : m)
    return {
        debug: (m, f) => { if (debug) out.info(line(m, f)) },
        info: (m, f) => { if (debug) out.info(line(m, f)) },
        warn: (m, f) => { out.warn(line(m, f)) },
        error: (m, f) => { out.error(line(m, f)) },
    }
}

/** One instance as `status` shows it. */
interface Shown {
    scope?: string
    state: string
    pid?: number
    restarts: number
    lastError?: string
    since?: string
    updatedAt?: string
}

/** One server as `status --json` prints it. */
interface Row {
    name: string
    kind: "stdio" | "remote"
    scope?: string
    instances: Shown[]
    missing: Need[]
    problems: string[]
    /** an oauth: server's login: "missing" until mcplexer auth login */
    login?: "ok" | "missing"
}

/**
 * Shows every configured server: its kind and scope, the state of its instances as a running
 * `serve` recorded them, the secrets it refers to that are not stored, and the naming collisions
 * the cached catalogs show. Never decrypts and never starts anything.
 */
export async function status(o: StatusOptions, out: Output): Promise<void> {
    const c = await config.load(o.paths.config)
    // no database yet: nothing stored, nothing ran; opening it would create it
    const vault = existsSync(o.paths.db) ? secrets.open(o.paths, { actor: "cli" }) : undefined
    try {
        const stored = storedNames(vault)
        const rows = vault ? instanceRows(vault.store) : []
        const servers: Row[] = []
        const logins = loginMissing(c, stored)
        for (const s of c.servers.values()) {
            const r = refs(s)
            const own = rows.filter(x => x.server === s.name)
            const instances: Shown[] = own.length ? own.map(shown) : [{ ...(s.scope === undefined ? {} : { scope: s.scope }), state: "stopped", restarts: 0 }]
            servers.push({
                name: s.name,
                kind: s.kind,
                ...(s.scope === undefined ? {} : { scope: s.scope }),
                instances,
                missing: r.secrets.filter(n => !stored.has(`${n.scope}/${n.key}`)),
                problems: r.problems.map(p => p.message),
                ...(s.kind === "remote" && s.oauth !== undefined ? { login: logins.includes(s.name) ? "missing" as const : "ok" as const } : {}),
            })
        }
        const names = await collisions(c, vault, out)
        // rows a running serve keeps in memory while the database cannot take them (gateway/audit.ts)
        const audit = gateway.backlogs(o.paths.db)
        if (o.json) {
            out.out(JSON.stringify({ config: c.file, servers, collisions: names.known, unknown: names.unknown, audit }, null, 2) + "\n")
            return
        }
        if (servers.length === 0) {
            out.info(`no servers configured in ${c.file}`)
            out.hint("add one under servers:, e.g.\n  servers:\n    everything: { command: npx, args: [\"-y\", \"@modelcontextprotocol/server-everything\"] }")
            return
        }
        out.out(text(servers, names) + backlogText(audit))
    } finally {
        vault?.close()
    }
}

function text(servers: Row[], names: { known: string[] | null; unknown: string[] }): string {
    const lines: string[][] = []
    for (const s of servers) {
        for (const i of s.instances) {
            lines.push([
                s.name, s.kind, i.scope ?? "-", i.state, i.pid === undefined ? "-" : String(i.pid), String(i.restarts),
                i.since ?? "-", i.lastError === undefined ? "-" : firstLine(i.lastError, 80),
            ])
        }
    }
    let t = table(["SERVER", "KIND", "SCOPE", "STATE", "PID", "RESTARTS", "SINCE", "LAST ERROR"], lines)
    const needs = servers.flatMap(s => s.missing.map(n => ({ server: s.name, ...n })))
    const problems = servers.flatMap(s => s.problems)
    t += "\n"
    if (needs.length === 0 && problems.length === 0) {
        t += "missing secrets: none\n"
    } else {
        t += "missing secrets:\n"
        for (const n of needs) t += `  server ${q(n.server)} needs ${q(`${n.scope}/${n.key}`)}: mcplexer secret put ${n.scope} ${n.key}\n`
        for (const p of problems) t += `  ${p}\n`
    }
    const logins = servers.filter(s => s.login === "missing").map(s => s.name)
    t += logins.length ? `login missing:\n${logins.map(n => `  server ${q(n)}: mcplexer auth login ${n}\n`).join("")}` : ""
    if (names.known === null) {
        t += `naming collisions: unknown until \`mcplexer tools\` has learned the catalogs of ${names.unknown.map(q).join(", ")}\n`
    } else {
        if (names.known.length === 0) t += "naming collisions: none"
        else t += `naming collisions:\n${names.known.map(l => `  ${l}`).join("\n")}`
        t += names.unknown.length ? ` (among cached catalogs; not yet learned: ${names.unknown.map(q).join(", ")})\n` : "\n"
    }
    return t
}

/** The audit backlog of each running serve, or that there is none. */
function backlogText(all: gateway.Backlog[]): string {
    if (all.length === 0) return "audit queue: empty\n"
    let t = "audit queue:\n"
    for (const b of all) {
        const since = b.since === undefined ? "" : ` since ${new Date(b.since).toISOString()}`
        const last = b.lastError === undefined ? "" : `; last error${since}: ${firstLine(b.lastError, 120)}`
        t += `  serve ${b.pid}: ${b.queued} rows queued, ${b.dropped} dropped${last}\n`
    }
    return t
}

/** The instance rows a running `serve` (or a `call`/`tools` in progress) wrote. */
function instanceRows(s: store.Store): store.instances.Row[] {
    return store.instances.all(s)
}

function shown(r: store.instances.Row): Shown {
    // a row whose serve (or downstream) is gone was left by a serve that did not get to clean up
    const gone = (r.owner !== null && !alive(r.owner)) || (r.pid !== null && !alive(r.pid))
    if (gone) {
        return {
            ...(r.scope === "" ? {} : { scope: r.scope }),
            state: "stopped",
            restarts: r.restarts,
            ...(r.lastError === null ? {} : { lastError: r.lastError }),
            updatedAt: r.updatedAt.toISOString(),
        }
    }
    return {
        ...(r.scope === "" ? {} : { scope: r.scope }),
        state: r.state,
        ...(r.pid === null ? {} : { pid: r.pid }),
        restarts: r.restarts,
        ...(r.lastError === null ? {} : { lastError: r.lastError }),
        ...(r.startedAt === null ? {} : { since: r.startedAt.toISOString() }),
        updatedAt: r.updatedAt.toISOString(),
    }
}

/**
 * The naming collisions among the servers whose catalogs are cached, computed by a gateway that is
 * given only those servers, so nothing starts. `known` is null when no catalog is cached at all.
 */
async function collisions(c: config.Config, vault: secrets.Vault | undefined, out: Output): Promise<{ known: string[] | null; unknown: string[] }> {
    const all = [...c.servers.keys()]
    if (vault === undefined || all.length === 0) return { known: all.length ? null : [], unknown: all }
    const registry = redact.create()
    const log = logger(out, registry)
    const probe = gateway.create({ config: c, vault, registry, log, env: process.env })
    let cached: string[]
    try {
        cached = all.filter(name => probe.pool.cached(name) !== undefined)
    } finally {
        await probe.close()
    }
    const unknown = all.filter(n => !cached.includes(n))
    if (cached.length === 0) return { known: null, unknown }
    const only: config.Config = { ...c, servers: new Map(cached.map(n => [n, c.servers.get(n) as config.Server])) }
    const gw = gateway.create({ config: only, vault, registry, log, env: process.env })
    try {
        await gw.tools()
        return { known: gw.collisions(), unknown }
    } finally {
        await gw.close()
    }
}

function firstLine(s: string, max: number): string {
    const l = s.split("\n")[0] ?? ""
    return l.length > max ? `${l.slice(0, max - 1)}…` : l
}

function q(s: string): string {
    return JSON.stringify(s)
}
