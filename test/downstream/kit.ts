/** Helpers of the downstream tests: a real vault in a fresh home, fixture servers, a recording logger and hooks. */
import { execFileSync } from "node:child_process"
import { createHash } from "node:crypto"
import { existsSync, readFileSync } from "node:fs"
import { join, resolve } from "node:path"
import type { ClientCapabilities } from "@modelcontextprotocol/sdk/types.js"
import * as config from "../../internal/config/index.ts"
import * as downstream from "../../internal/downstream/index.ts"
import * as redact from "../../internal/redact/index.ts"
import * as secrets from "../../internal/secrets/index.ts"
import * as helpers from "../helpers.ts"

export const root = resolve(import.meta.dirname, "..", "..")
export const fixture = join(root, "test", "fixtures", "ds-server.ts")
/** tsx by absolute URL, so a fixture runs whatever its working folder */
export const tsx = import.meta.resolve("tsx")
export const everything = join(root, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js")

/** A new, empty folder to serve as MCPLEXER_HOME. */
export function fresh(): Promise<string> {
    return helpers.fresh(null)
}

/** The environment mcplexer itself runs with in these tests: with things that must not leak. */
export function hostEnv(home: string): NodeJS.ProcessEnv {
    return {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: home,
        LANG: "C.UTF-8",
        MCPLEXER_HOME: home,
        MCPLEXER_AGE_KEY: join(home, "age.key"),
        AWS_SECRET_ACCESS_KEY: "host-secret-that-must-not-leak",
    }
}

/** A real vault in `home`, its key created on first need. */
export function vault(home: string): secrets.Vault {
    return secrets.open(config.paths({ HOME: home, MCPLEXER_HOME: home }), { actor: "test", create: true })
}

/** A stdio server definition running the ds-server fixture. */
export function stdio(name: string, o: Partial<config.StdioServer> & { fixtureEnv?: Record<string, string> } = {}): config.StdioServer {
    const { fixtureEnv, ...rest } = o
    return {
        name,
        kind: "stdio",
        command: process.execPath,
        args: ["--import", tsx, fixture],
        env: { ...fixtureEnv },
        prefix: true,
        idleTimeout: 600_000,
        timeout: 60_000,
        tools: { disabled: [] },
        quarantine: false,
        ...rest,
    }
}

/** A config holding `servers` and the scopes they name. */
export function cfg(...servers: config.Server[]): config.Config {
    const scopes = new Map<string, config.Scope>()
    for (const s of servers) if (s.scope) scopes.set(s.scope, { name: s.scope })
    return {
        file: "/nonexistent/config.yaml",
        scopes,
        servers: new Map(servers.map(s => [s.name, s])),
        workspaces: new Map(),
        default: "allow",
        audit: { retentionDays: 90 },
        toolSearch: { enabled: false, always: [], addFound: true },
    }
}

/** One log call, as the pool made it. */
export interface Entry { level: "debug" | "info" | "warn" | "error"; msg: string; f?: Record<string, unknown> }

/** A logger that keeps every entry, scrubbed by `registry` as serve's log writer does; `DS_LOG=1` also prints them. */
export function recorder(registry?: redact.Registry): downstream.Logger & { entries: Entry[]; text(): string } {
    const entries: Entry[] = []
    const at = (level: Entry["level"]) => (raw: string, fields?: Record<string, unknown>) => {
        const msg = registry === undefined ? raw : registry.scrub(raw)
        const f = registry === undefined || fields === undefined ? fields : registry.scrubObject(fields)
        entries.push(f === undefined ? { level, msg } : { level, msg, f })
        if (process.env.DS_LOG) console.error(`[${level}] ${msg} ${f ? JSON.stringify(f) : ""}`)
    }
    return {
        entries,
        text: () => entries.map(e => `${e.level} ${e.msg} ${e.f ? JSON.stringify(e.f) : ""}`).join("\n"),
        debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error"),
    }
}

/** Hooks that record what the pool hands them. */
export interface Recorded extends downstream.Hooks {
    notifications: Array<{ key: downstream.Key; method: string; params?: Record<string, unknown> }>
    requests: Array<{ key: downstream.Key; method: string; params?: Record<string, unknown> }>
    changes: string[]
}

export function hooks(caps: ClientCapabilities = { sampling: {} }): Recorded {
    const h: Recorded = {
        notifications: [],
        requests: [],
        changes: [],
        capabilities: () => caps,
        notification: (key, n) => { h.notifications.push({ key, ...n }) },
        request: (key, r) => {
            h.requests.push({ key, ...r })
            return Promise.resolve({ role: "assistant", model: "test", content: { type: "text", text: "sampled" } })
        },
        changed: server => { h.changes.push(server) },
    }
    return h
}

/** Everything a test needs: home, vault, registry, logger, hooks and the pool over `servers`. */
export async function setup(...servers: config.Server[]) {
    const home = await fresh()
    const v = vault(home)
    const registry = redact.create()
    const log = recorder(registry)
    const h = hooks()
    const env = hostEnv(home)
    const p = downstream.pool({ config: cfg(...servers), vault: v, registry, log, env, hooks: h })
    return { home, vault: v, registry, log, hooks: h, env, pool: p, config: cfg(...servers) }
}

/** The text of the first content item of a tools/call result. */
export function text(r: Record<string, unknown>): string {
    const c = (r.content as Array<{ text?: string }> | undefined)?.[0]
    return c?.text ?? ""
}

/** Calls a fixture tool through the pool. */
export async function call(p: downstream.Pool, key: downstream.Key, name: string, args: Record<string, unknown> = {}, o?: downstream.RequestOptions): Promise<string> {
    return text(await p.request(key, "tools/call", { name, arguments: args }, o))
}

export function sha256(s: string): string {
    return createHash("sha256").update(s).digest("hex")
}

/** Whether a process exists (a zombie counts as gone). */
export function alive(pid: number): boolean {
    try {
        process.kill(pid, 0)
    } catch {
        return false
    }
    try {
        return !/^Z/.test(execFileSync("ps", ["-o", "stat=", "-p", String(pid)], { encoding: "utf8" }).trim())
    } catch {
        return false
    }
}

/** The live processes of a process group, by `ps` (zombies, dead but not yet reaped, left out). */
export function group(pgid: number): number[] {
    try {
        return execFileSync("ps", ["-o", "pid=,stat=", "-g", String(pgid)], { encoding: "utf8" })
            .split("\n").map(l => l.trim().split(/\s+/)).filter(([, stat]) => stat !== undefined && !stat.startsWith("Z"))
            .map(([pid]) => Number(pid)).filter(n => n > 0)
    } catch {
        return [] // ps exits 1 when it finds nothing
    }
}

/** The pids a DS_START_LOG file recorded, one per start. */
export function starts(file: string): number[] {
    if (!existsSync(file)) return []
    return readFileSync(file, "utf8").split("\n").filter(Boolean).map(Number)
}

export const sleep = (ms: number): Promise<void> => new Promise(done => setTimeout(done, ms))

/** Waits until `f` holds, polling; fails after `ms`. */
export async function until(f: () => boolean, ms = 5000, what = "condition"): Promise<void> {
    const end = Date.now() + ms
    while (!f()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
        await sleep(20)
    }
}
