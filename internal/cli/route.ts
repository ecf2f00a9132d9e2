import { existsSync } from "node:fs"
import * as config from "../config/index.ts"
import * as gateway from "../gateway/index.ts"
import * as redact from "../redact/index.ts"
import * as secrets from "../secrets/index.ts"
import { exit, type Output } from "./output.ts"
import { logger } from "./status.ts"
import { cachedCatalogs, only } from "./tools.ts"

/** What `mcplexer route` needs. */
export interface RouteOptions {
    paths: config.Paths
    /** the name the client sees, e.g. github__create_issue */
    tool: string
    /** the session root to decide for (default: the working directory) */
    root?: string
    json: boolean
}

interface Found { server: string; readOnly?: boolean }

/**
 * The server behind an exposed tool name, as `serve` decides it: the gateway's own naming tables,
 * built from the catalogs it has cached (nothing starts, nothing is decrypted). A name in the
 * namespace of a prefixed server whose catalog is not cached yet is that server's: no other
 * server may take a name there, so `serve` would find it at that server too once it had listed it.
 */
async function find(c: config.Config, paths: config.Paths, tool: string, out: Output): Promise<Found | undefined> {
    const at = tool.indexOf("__")
    const owner = at < 0 ? undefined : c.servers.get(tool.slice(0, at))
    const unlisted = (cached: string[]): Found | undefined =>
        owner?.prefix === true && !cached.includes(owner.name) ? { server: owner.name } : undefined
    // A bare name may be claimed, or pushed to a hashed name, by any prefix-less server; a name in a
    // namespace only by the server of that name. When such a server's tools are not learned yet
    // (serve learns them at its start), the answer could name another server and scope than serve
    // uses, so none is given.
    const known = (cached: string[]) => {
        const could = at < 0 ? [...c.servers.values()].filter(s => !s.prefix) : owner !== undefined && !owner.prefix ? [owner] : []
        const unknown = could.filter(s => !cached.includes(s.name)).map(s => s.name)
        if (unknown.length === 0) return
        throw config.hinted(`which server serves tool ${q(tool)} depends on the tools of ${unknown.map(q).join(", ")}, not learned yet (prefix: false)`,
            "learn them with: mcplexer tools refresh (it starts each server once), then ask again")
    }
    if (c.servers.size === 0) return unlisted([])
    if (!existsSync(paths.db)) {
        known([])
        return unlisted([])
    }
    const vault = secrets.open(paths, { actor: "route" })
    try {
        const registry = redact.create()
        const log = logger(out, registry)
        const cached = [...(await cachedCatalogs(c, vault, registry, log)).keys()]
        known(cached)
        if (cached.length === 0) return unlisted(cached)
        const gw = gateway.create({ config: only(c, cached), vault, registry, log, env: process.env })
        try {
            const t = (await gw.tools()).find(x => x.name === tool)
            if (t !== undefined) return { server: t.server, readOnly: t.annotations?.readOnlyHint === true }
        } finally {
            await gw.close()
        }
        return unlisted(cached)
    } finally {
        vault.close()
    }
}

function q(s: string): string {
    return JSON.stringify(s)
}

function human(ms: number): string {
    if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`
    if (ms % 60_000 === 0) return `${ms / 60_000}m`
    if (ms % 1000 === 0) return `${ms / 1000}s`
    return `${ms}ms`
}

/**
 * Explains how a tool call would be decided for a session rooted at `root`: the chain of
 * workspaces, the route that matched (and why the ones before it did not), the server, the scope
 * and whether a person must approve. Reads the config and the cached catalog only.
 */
export async function route(o: RouteOptions, out: Output): Promise<number> {
    const c = await config.load(o.paths.config)
    // where the folder really is, as serve takes a client's root
    const root = gateway.policy.real(o.root ?? process.cwd())
    const found = await find(c, o.paths, o.tool, out)
    if (found === undefined) {
        const prefixed = [...c.servers.values()].filter(s => s.prefix).map(s => `${s.name}__…`)
        throw config.hinted(`no server exposes tool ${q(o.tool)}`, prefixed.length > 0 ? `tool names start with their server's name: ${prefixed.join(", ")}\nsee every tool with: mcplexer tools` : "see every tool with: mcplexer tools")
    }
    const chain = gateway.policy.chain(c, [root])
    const d = gateway.policy.decide(c, chain, { name: o.tool, server: found.server, readOnly: found.readOnly === true })
    const route = c.workspaces.get(d.workspace)?.routes[Number(d.route.slice(d.route.lastIndexOf("#") + 1)) - 1]
    if (o.json) {
        out.out(JSON.stringify({ ...d, root, readOnly: found.readOnly ?? null, mode: route?.approval ?? "none" }, null, 2) + "\n")
        return exit.ok
    }
    const lines: Array<[string, string]> = [
        ["tool", o.tool],
        ["root", root],
        ["chain", chain.length === 0 ? "(no workspace contains this folder)" : chain.map(w => `${w.name} (${w.root})`).join(", ")],
        ["decision", d.action],
        ["by", gateway.policy.origin(d)],
    ]
    if (d.action === "allow") {
        lines.push(["server", d.server === found.server ? d.server : `${d.server} (the route sends it there; ${found.server} exposes it)`])
        lines.push(["scope", d.scope ?? "(none)"])
        const kind = found.readOnly === undefined ? "not in the cached catalog: counted as a write" : found.readOnly ? "read-only (readOnlyHint)" : "a write (no readOnlyHint)"
        const mode = route?.approval ?? "none"
        lines.push(["approval", d.approval
            ? `asks (approval: ${mode}; the tool is ${kind}), then a lease of ${d.lease > 0 ? human(d.lease) : "none (asks every call)"}, waits ${human(d.approvalTimeout)}`
            : mode === "none" ? "none" : `none (approval: ${mode}; the tool is ${kind})`])
        if (d.scopes.length > 0) lines.push(["secret://", `may also read scopes ${d.scopes.join(", ")}`])
    } else {
        lines.push(["listed", "no: the session does not see this tool"])
    }
    const width = Math.max(...lines.map(([k]) => k.length))
    let text = lines.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n") + "\nwhy:\n"
    text += d.trace.map(t => `  ${t}`).join("\n") + "\n"
    out.out(text)
    return exit.ok
}
