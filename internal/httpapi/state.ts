import * as config from "../config/index.ts"
import type * as gateway from "../gateway/index.ts"
import * as secrets from "../secrets/index.ts"

/** One key of a scope as the API and UI show it: whether a value is set, never the value. */
export interface Key {
    key: string
    set: boolean
    updatedAt?: Date
    /** servers whose configuration references it */
    servers: string[]
    /** the reference to paste into the config */
    reference: string
}

/** A scope with every key the config references or the store holds. */
export interface Scope { scope: string; description?: string; declared: boolean; keys: Key[] }

function texts(s: config.Server): string[] {
    return s.kind === "stdio"
        ? [...Object.values(s.env), ...s.args, ...(s.cwd === undefined ? [] : [s.cwd])]
        : [s.url, ...Object.values(s.headers)]
}

/** Every (scope, key) the configuration references, with the servers that reference it. */
function referenced(c: config.Config): Map<string, Map<string, Set<string>>> {
    const out = new Map<string, Map<string, Set<string>>>()
    const add = (scope: string, key: string, server: string) => {
        let keys = out.get(scope)
        if (keys === undefined) out.set(scope, keys = new Map<string, Set<string>>())
        let by = keys.get(key)
        if (by === undefined) keys.set(key, by = new Set())
        by.add(server)
    }
    // a workspace route may run a server in another scope, where its unscoped references resolve too
    const routed = new Map<string, Set<string>>()
    for (const w of c.workspaces.values()) {
        for (const r of w.routes) {
            if (r.server === undefined || r.scope === undefined) continue
            let set = routed.get(r.server)
            if (set === undefined) routed.set(r.server, set = new Set())
            set.add(r.scope)
        }
    }
    for (const s of c.servers.values()) {
        for (const text of texts(s)) {
            let parts: config.Part[]
            try {
                parts = config.template(text)
            } catch {
                continue // the config loader reports it
            }
            for (const p of parts) {
                if (typeof p === "string" || !("secret" in p)) continue
                if (p.secret.scope !== undefined) {
                    add(p.secret.scope, p.secret.key, s.name)
                    continue
                }
                for (const scope of [s.scope, ...(routed.get(s.name) ?? [])]) if (scope !== undefined) add(scope, p.secret.key, s.name)
            }
        }
    }
    return out
}

/** The scopes of the config and the store, each key marked set or missing. */
export function scopes(c: config.Config, entries: secrets.Entry[]): Scope[] {
    const refs = referenced(c)
    const stored = new Map<string, Map<string, secrets.Entry>>()
    for (const e of entries) {
        let m = stored.get(e.scope)
        if (m === undefined) stored.set(e.scope, m = new Map<string, secrets.Entry>())
        m.set(e.key, e)
    }
    const names = [...new Set([...c.scopes.keys(), ...refs.keys(), ...stored.keys()])].sort()
    return names.map(scope => {
        const r = refs.get(scope) ?? new Map<string, Set<string>>()
        const s = stored.get(scope) ?? new Map<string, secrets.Entry>()
        const keys = [...new Set([...r.keys(), ...s.keys()])].sort().map(key => {
            const e = s.get(key)
            return {
                key, set: e !== undefined, ...(e === undefined ? {} : { updatedAt: e.updatedAt }),
                servers: [...(r.get(key) ?? [])].sort(), reference: `\${secret:${scope}/${key}}`,
            }
        })
        const description = c.scopes.get(scope)?.description
        return { scope, ...(description === undefined ? {} : { description }), declared: c.scopes.has(scope), keys }
    })
}

/** A configured server with the state of its instances. */
export interface Server {
    name: string
    kind: "stdio" | "remote"
    scope?: string
    instances: ReturnType<gateway.Gateway["pool"]["status"]>
    /** an `oauth:` server with no login stored: the command that logs in */
    login?: string
}

/** Every configured server and its instances. */
export function servers(c: config.Config, gw: gateway.Gateway, vault: secrets.Vault): Server[] {
    const st = gw.pool.status()
    const missing = new Set(secrets.loginMissing(c, new Set(vault.list().map(e => `${e.scope}/${e.key}`))))
    return [...c.servers.values()].sort((a, b) => a.name.localeCompare(b.name)).map(s => ({
        name: s.name, kind: s.kind, ...(s.scope === undefined ? {} : { scope: s.scope }),
        instances: st.filter(i => i.server === s.name),
        ...(missing.has(s.name) ? { login: `mcplexer auth login ${s.name}` } : {}),
    }))
}

/** A server as the servers page shows it: its instances, tools, what it waits for, its last error. */
export interface Detail extends Server {
    /** an `oauth:` server: logged in or not */
    oauth: boolean
    quarantine: boolean
    /** tools the client is shown, and all it offers */
    tools: { enabled: number; total: number }
    /** tools withheld until a person approves them (changed, or quarantined) */
    pending: number
    /** keys its configuration references that hold no value */
    missing: Array<{ scope: string; key: string }>
    /** the last error of an instance that is not running now, with when it began */
    error?: { text: string; at?: Date }
}

/** Every configured server with what the servers page shows of it. */
export async function details(c: config.Config, gw: gateway.Gateway, vault: secrets.Vault): Promise<Detail[]> {
    const tools = await gw.tools({ all: true }).catch(() => [])
    const unset = scopes(c, vault.list()).flatMap(s => s.keys.filter(k => !k.set).map(k => ({ scope: s.scope, key: k.key, servers: k.servers })))
    return servers(c, gw, vault).map(s => {
        const mine = tools.filter(t => t.server === s.name)
        const conf = c.servers.get(s.name)
        // an error stays shown while it applies: a running instance has got past it
        const failed = s.instances.find(i => i.lastError !== undefined && i.state !== "running")
        return {
            ...s, oauth: conf?.kind === "remote" && conf.oauth !== undefined, quarantine: conf?.quarantine === true,
            tools: { enabled: mine.filter(t => t.state === "enabled").length, total: mine.length },
            pending: mine.filter(t => t.state === "withheld" || t.state === "quarantined").length,
            missing: unset.filter(k => k.servers.includes(s.name) && !config.isOAuthKey(k.key)).map(({ scope, key }) => ({ scope, key })),
            ...(failed === undefined ? {} : { error: { text: failed.lastError!, ...(failed.since === undefined ? {} : { at: failed.since }) } }),
        }
    })
}
