import * as config from "../config/index.ts"
import * as downstream from "../downstream/index.ts"
import * as gateway from "../gateway/index.ts"
import * as redact from "../redact/index.ts"
import * as secrets from "../secrets/index.ts"
import { browser } from "./auth.ts"
import { exit, message, type Output } from "./output.ts"
import { table } from "./secret.ts"
import { logger } from "./status.ts"

/** What `tools` and `tools refresh` need. */
export interface ToolsOptions { paths: config.Paths; json: boolean; all?: boolean }

/** A gateway for one CLI command, with what it was built from; `close` stops every server it started. */
export interface Session {
    config: config.Config
    vault: secrets.Vault
    registry: redact.Registry
    gw: gateway.Gateway
    close(): Promise<void>
}

/** Builds a gateway on the user's config and vault, as `serve` does, for a command that runs once. */
export async function open(paths: config.Paths, out: Output): Promise<Session> {
    const c = await config.load(paths.config)
    // a server that needs a login gets it here, in the browser, as `mcplexer auth login` would
    downstream.oauth.interactive(browser(out))
    const registry = redact.create()
    // a login stores tokens: with an oauth server, the key is created if this is the first secret
    const oauth = [...c.servers.values()].some(s => s.kind === "remote" && s.oauth !== undefined)
    const vault = secrets.open(paths, { actor: "cli", ...(oauth ? { create: true } : {}) })
    let gw: gateway.Gateway
    try {
        gw = gateway.create({ config: c, vault, registry, log: logger(out, registry), env: process.env })
    } catch (e) {
        vault.close()
        throw e
    }
    let closed: Promise<void> | undefined
    return {
        config: c, vault, registry, gw,
        close: () => closed ??= gw.close().finally(() => vault.close()),
    }
}

/**
 * The catalogs serve cached, read through a gateway that starts nothing (it is closed before this
 * returns), for the commands that judge what serve would show without starting a server.
 */
export async function cachedCatalogs(c: config.Config, vault: secrets.Vault, registry: redact.Registry, log: downstream.Logger): Promise<Map<string, downstream.Catalog>> {
    const probe = gateway.create({ config: c, vault, registry, log, env: process.env })
    try {
        const out = new Map<string, downstream.Catalog>()
        for (const name of c.servers.keys()) {
            const cat = probe.pool.cached(name)
            if (cat !== undefined) out.set(name, cat)
        }
        return out
    } finally {
        await probe.close()
    }
}

/** `c` with only the servers named in `names` (those with a cached catalog: a gateway over it starts nothing to list). */
export function only(c: config.Config, names: Iterable<string>): config.Config {
    return { ...c, servers: new Map([...names].map(n => [n, c.servers.get(n) as config.Server])) }
}

/**
 * Prints the catalog the client sees. A server with no cached catalog is started once to learn
 * it; every server started is stopped before this returns. Exit 1 when a server could not be
 * listed (its tools are missing from the output).
 */
export async function tools(o: ToolsOptions, out: Output): Promise<number> {
    const s = await open(o.paths, out)
    try {
        if (s.config.servers.size === 0) return none(s.config, o, out)
        const every = await s.gw.tools({ all: true })
        const list = o.all === true ? every : every.filter(t => t.state === "enabled")
        const failed = [...s.config.servers.keys()].filter(name => s.gw.pool.cached(name) === undefined)
        if (o.json) {
            out.out(JSON.stringify(list, null, 2) + "\n")
        } else if (list.length === 0) {
            out.info("no tools: the configured servers offer none")
        } else {
            out.out(o.all
                ? table(["NAME", "SERVER", "STATE", "DESCRIPTION"], list.map(t => [t.name, t.server, states[t.state], firstLine(t.description ?? "")]))
                : table(["NAME", "SERVER", "DESCRIPTION"], list.map(t => [t.name, t.server, firstLine(t.description ?? "")])))
        }
        for (const line of s.gw.collisions()) out.warn(line)
        if (!o.all && !o.json) hidden(every, out)
        if (failed.length) {
            out.error(`could not list the tools of ${failed.map(q).join(", ")}`)
            out.hint("the warnings above say why; mcplexer doctor shows each problem with its fix")
            return exit.error
        }
        return exit.ok
    } finally {
        await s.close()
    }
}

/**
 * Starts every server once with its default scope and relearns its catalog, one server after
 * another failing alone. Exit 1 when any server failed; the others are still refreshed.
 */
export async function refresh(o: ToolsOptions, out: Output): Promise<number> {
    const s = await open(o.paths, out)
    try {
        if (s.config.servers.size === 0) return none(s.config, o, out)
        const results = await Promise.all([...s.config.servers.keys()].map(async server => {
            try {
                const c = await s.gw.pool.catalog(server, { refresh: true })
                return { server, ok: true as const, tools: c.tools.length, prompts: c.prompts.length, resources: c.resources.length, templates: c.templates.length }
            } catch (e) {
                const error = s.registry.scrub(message(e))
                const hint = (e as { hint?: unknown }).hint
                return { server, ok: false as const, error, ...(typeof hint === "string" ? { hint: s.registry.scrub(hint) } : {}) }
            }
        }))
        if (o.json) {
            out.out(JSON.stringify(results, null, 2) + "\n")
        } else {
            const ok = results.filter(r => r.ok)
            if (ok.length) {
                out.out(table(["SERVER", "TOOLS", "PROMPTS", "RESOURCES", "TEMPLATES"],
                    ok.map(r => [r.server, String(r.tools), String(r.prompts), String(r.resources), String(r.templates)])))
            }
        }
        let code: number = exit.ok
        for (const r of results) {
            if (r.ok) continue
            code = exit.error
            out.error(r.error.includes(`server ${q(r.server)}`) ? r.error : `server ${q(r.server)}: ${r.error}`)
            if (r.hint) out.hint(r.hint)
        }
        return code
    } finally {
        await s.close()
    }
}

/**
 * Says which tools the plain listing left out: a changed or quarantined tool vanishes from the
 * client's list until approved, and a person who does not know why would look for it in vain.
 */
function hidden(every: Array<{ state: keyof typeof states }>, out: Output): void {
    const held = every.filter(t => t.state === "withheld" || t.state === "quarantined").length
    const off = every.filter(t => t.state === "disabled").length
    if (held > 0) out.info(`${held} tool${held === 1 ? " is" : "s are"} withheld until you approve ${held === 1 ? "it" : "them"} (changed, or on a quarantined server): mcplexer tools changed`)
    if (off > 0) out.info(`${off} tool${off === 1 ? " is" : "s are"} switched off: mcplexer tools --all lists ${off === 1 ? "it" : "them"}`)
}

// how `tools --all` names each state, as the commands that change it do
const states = { enabled: "on", disabled: "off", withheld: "changed", quarantined: "quarantined" } as const

function none(c: config.Config, o: ToolsOptions, out: Output): number {
    if (o.json) out.out("[]\n")
    out.info(`no servers configured in ${c.file}`)
    return exit.ok
}

function firstLine(s: string): string {
    const l = s.trim().split("\n")[0] ?? ""
    return l.length > 100 ? `${l.slice(0, 99)}…` : l
}

function q(s: string): string {
    return JSON.stringify(s)
}
