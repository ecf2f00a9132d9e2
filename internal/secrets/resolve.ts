import * as config from "../config/index.ts"
import { hinted, MissingSecretError } from "./errors.ts"
import type { Vault } from "./vault.ts"

/** What a downstream instance is started with. Values appear here and nowhere else. */
export interface Resolved {
    /** stdio: the safe base environment, then the server's env, then every key of the scope */
    env: Record<string, string>
    /** stdio: the arguments, references expanded */
    args: string[]
    /** stdio: the working folder, references expanded */
    cwd?: string
    /** remote: the URL, references expanded */
    url?: string
    /** remote: the headers, references expanded; with inject "headers", every key of the scope too */
    headers: Record<string, string>
    /** every decrypted value, for the redaction registry */
    values: string[]
}

/** The variables of mcplexer's own environment a stdio server inherits; nothing else leaks (never MCPLEXER_*). */
export const baseEnv = ["PATH", "HOME", "USER", "LOGNAME", "LANG", "TERM", "SHELL", "TMPDIR", "TZ"]

function base(env: NodeJS.ProcessEnv): Record<string, string> {
    const out: Record<string, string> = {}
    for (const [k, v] of Object.entries(env)) {
        if (v !== undefined && (baseEnv.includes(k) || k.startsWith("LC_"))) out[k] = v
    }
    return out
}

/**
 * Builds what a downstream instance of `server` for `scope` is started with: the secrets of
 * `scope` plus any ${secret:other/KEY}, each needed scope decrypted once (one audit row each,
 * with `reason`). References are replaced byte for byte; nothing else is expanded.
 */
export async function resolve(v: Vault, server: config.Server, scope: string | undefined, o: { env: NodeJS.ProcessEnv; reason: string }): Promise<Resolved> {
    const parse = parser(server)
    const injects = scope !== undefined && (server.kind === "stdio" || server.inject === "headers")
    const needed = needs(server, scope, injects, o.env, parse)

    const scopes = new Map<string, Map<string, string>>()
    for (const s of needed) scopes.set(s, await v.scope(s, { server: server.name, reason: o.reason }))

    const expand = (text: string): string => parse(text).map(p => {
        if (typeof p === "string") return p
        if ("env" in p) return o.env[p.env] ?? ""
        const s = p.secret.scope ?? scope ?? ""
        const value = scopes.get(s)?.get(p.secret.key)
        if (value === undefined) throw new MissingSecretError(server.name, s, p.secret.key)
        return value
    }).join("")
    const expandAll = (m: Record<string, string>): Record<string, string> =>
        Object.fromEntries(Object.entries(m).map(([k, text]) => [k, expand(text)]))
    // OAuth tokens share the scope but go only in the Authorization header of their own server
    const own = new Map([...(injects && scope !== undefined ? scopes.get(scope) ?? [] : [])].filter(([k]) => !config.isOAuthKey(k)))

    // a value staged beside a key (secret put --next) is never injected, but is scrubbed as the
    // current one is: it is usually live at its provider already
    const staged: string[] = []
    for (const s of needed) staged.push(...(await v.staged(s, { server: server.name, reason: o.reason })).values())
    const values = [...new Set([...[...scopes.values()].flatMap(m => [...m.values()]), ...staged])]
    if (server.kind === "stdio") {
        const out: Resolved = {
            env: { ...base(o.env), ...expandAll(server.env), ...Object.fromEntries(own) },
            args: server.args.map(expand),
            headers: {},
            values,
        }
        if (server.cwd !== undefined) out.cwd = expand(server.cwd)
        return out
    }
    return {
        env: {},
        args: [],
        url: expand(server.url),
        headers: { ...expandAll(server.headers), ...Object.fromEntries(own) },
        values,
    }
}

/** The parts of a server's texts, an error naming the server for a malformed reference. */
function parser(server: config.Server): (text: string) => config.Part[] {
    return text => {
        try {
            return config.template(text)
        } catch (e) {
            throw hinted(`server ${JSON.stringify(server.name)}: ${(e as Error).message}`, (e as { hint?: string }).hint ?? "", { cause: e })
        }
    }
}

/**
 * The scopes a server's start decrypts: its own when its keys are injected, and each named by a
 * ${secret:…}; checked before anything is decrypted (an ${env:…} that is not set, a
 * ${secret:KEY} without a scope, a ${secret:_oauth_…} naming a login's row).
 */
function needs(server: config.Server, scope: string | undefined, injects: boolean, env: NodeJS.ProcessEnv, parse: (text: string) => config.Part[]): Set<string> {
    const texts = server.kind === "stdio"
        ? [...Object.values(server.env), ...server.args, ...(server.cwd === undefined ? [] : [server.cwd])]
        : [server.url, ...Object.values(server.headers)]
    const needed = new Set<string>(injects && scope !== undefined ? [scope] : [])
    for (const text of texts) {
        for (const p of parse(text)) {
            if (typeof p === "string") continue
            if ("secret" in p) {
                if (config.isOAuthKey(p.secret.key)) {
                    // only the OAuth code reads a login's rows, and only for its own server
                    throw hinted(`server ${JSON.stringify(server.name)} refers to \${secret:${p.secret.scope === undefined ? "" : `${p.secret.scope}/`}${p.secret.key}}, which belongs to a server's login and is never given by name`,
                        "a login's tokens reach only their own server; refer to a key you stored yourself (mcplexer secret put <scope> <KEY>)")
                }
                const s = p.secret.scope ?? scope
                if (s === undefined) {
                    throw hinted(`server ${JSON.stringify(server.name)} refers to \${secret:${p.secret.key}} but has no scope`,
                        `give the server a scope, or name one: \${secret:<scope>/${p.secret.key}}`)
                }
                needed.add(s)
            } else if (env[p.env] === undefined) {
                throw hinted(`server ${JSON.stringify(server.name)} refers to \${env:${p.env}}, which is not set`,
                    `set ${p.env} in mcplexer's environment, or remove the reference`)
            }
        }
    }
    return needed
}
