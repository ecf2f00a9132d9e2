import * as config from "../config/index.ts"
import type * as redact from "../redact/index.ts"
import * as secrets from "../secrets/index.ts"
import type { Trail } from "./audit.ts"
import type * as policy from "./policy.ts"

/** What a tool-call argument starts with to be replaced by a stored secret. */
export const prefix = "secret://"

/** True when some string inside `v` starts with secret:// (the cheap check on every call). */
export function has(v: unknown): boolean {
    if (typeof v === "string") return v.startsWith(prefix)
    if (Array.isArray(v)) return v.some(has)
    if (v !== null && typeof v === "object") return Object.values(v).some(has)
    return false
}

/** A secret:// argument that cannot be given: the tool error says which and how to fix it. */
export class RefError extends config.Hinted {}

function q(s: string): string {
    return JSON.stringify(s)
}

interface Context {
    vault: secrets.Vault
    registry: redact.Registry
    trail: Trail
    decision: policy.Decision
    client: string
}

/**
 * Replaces every string that is exactly secret://KEY (from the routed scope) or
 * secret://scope/KEY (a scope the route names in `scopes`, or the routed one) with the stored
 * value, registers each value for redaction and audits each read. A login's own rows
 * (config.isOAuthKey) are never given by name. Throws RefError naming the key and the fix.
 */
export async function resolve(v: unknown, c: Context): Promise<unknown> {
    if (typeof v === "string") return v.startsWith(prefix) ? one(v, c) : v
    if (Array.isArray(v)) return Promise.all(v.map(x => resolve(x, c)))
    if (v !== null && typeof v === "object") {
        const out: Record<string, unknown> = {}
        for (const [k, x] of Object.entries(v)) out[k] = await resolve(x, c)
        return out
    }
    return v
}

async function one(ref: string, c: Context): Promise<string> {
    const d = c.decision
    const body = ref.slice(prefix.length)
    const slash = body.indexOf("/")
    const scope = slash < 0 ? d.scope : body.slice(0, slash)
    const key = slash < 0 ? body : body.slice(slash + 1)
    const row = { action: "secret", actor: c.client, tool: d.tool, server: d.server, workspace: d.workspace, route: d.route, key }
    const valid = config.names.key.test(key) && (slash < 0 || config.names.scope.test(scope ?? ""))
    if (!valid) {
        throw new RefError(`argument ${q(ref)} is not a valid secret reference`, "write secret://KEY (the tool's scope) or secret://scope/KEY")
    }
    if (config.isOAuthKey(key)) {
        // a login's tokens and client registration go only to their own server, by the OAuth code
        c.trail.add({ ...row, ...(scope === undefined ? {} : { scope }), status: "denied", detail: { reason: "login row" } })
        throw new RefError(`secret ${q(key)} belongs to a server's login and is never given to a tool`,
            "a login's tokens reach only their own server; for a value a tool may read, store your own key: mcplexer secret put <scope> <KEY>")
    }
    if (scope === undefined) {
        c.trail.add({ ...row, status: "denied", detail: { reason: "no scope" } })
        throw new RefError(`secret ${q(key)} has no scope to come from: tool ${q(d.tool)} runs without one`,
            "write secret://scope/KEY, with a scope the route lists under \"scopes\"")
    }
    if (scope !== d.scope && !d.scopes.includes(scope)) {
        c.trail.add({ ...row, scope, status: "denied", detail: { reason: "scope not allowed" } })
        const where = d.route === "default" ? "a workspace route for this tool" : `route ${d.route.slice(d.route.lastIndexOf("#") + 1)} of workspace ${q(d.workspace)}`
        throw new RefError(`secret "${scope}/${key}" is not available to tool ${q(d.tool)}: it runs with ${d.scope === undefined ? "no scope" : `scope ${q(d.scope)}`}`,
            `to allow it, add the scope to ${where}: scopes: [${scope}]`)
    }
    let value: string
    try {
        value = await c.vault.get(scope, key)
    } catch (e) {
        if (e instanceof secrets.NotFoundError) {
            c.trail.add({ ...row, scope, status: "missing" })
            throw new RefError(`secret "${scope}/${key}" is not stored`, `store it with: mcplexer secret put ${scope} ${key}`)
        }
        c.trail.add({ ...row, scope, status: "error" })
        throw new RefError(`secret "${scope}/${key}" cannot be read: ${e instanceof Error ? e.message : String(e)}`,
            (e as { hint?: string }).hint ?? "run mcplexer doctor")
    }
    c.registry.add(value)
    c.trail.add({ ...row, scope, status: "ok", detail: { reason: "secret:// argument" } })
    return value
}
