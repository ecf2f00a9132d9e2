import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import type * as config from "../config/index.ts"
import type * as redact from "../redact/index.ts"
import * as secrets from "../secrets/index.ts"
import * as oauth from "./oauth.ts"
import * as remote from "./remote.ts"

/** What `mcplexer auth` works on: one `oauth:` server in one scope. */
export interface Target {
    server: config.RemoteServer
    /** default: the server's own scope */
    scope?: string
    vault: secrets.Vault
    registry: redact.Registry
    env: NodeJS.ProcessEnv
    timeout?: number
}

/** The provider of a target, its URL and headers resolved (their secrets registered for redaction). */
export async function provider(t: Target, present?: oauth.Present): Promise<{ provider: oauth.Provider; headers: Record<string, string> }> {
    const scope = t.scope ?? t.server.scope ?? ""
    const r = await secrets.resolve(t.vault, t.server, scope, { env: t.env, reason: "login" })
    t.registry.add(...r.values)
    const url = r.url ?? t.server.url
    const p = await new oauth.Provider({ server: t.server, scope, vault: t.vault, registry: t.registry, url,
        ...(t.timeout === undefined ? {} : { timeout: t.timeout }),
        ...(present === undefined ? {} : { present: () => present }),
    }).prepare()
    return { provider: p, headers: r.headers }
}

/**
 * Logs in as a session would: connects to the server, so that discovery starts from its 401
 * (WWW-Authenticate's resource_metadata and scope), runs the login through `present`, and
 * connects again with the new token. False when the stored login still worked (nothing asked).
 */
export async function login(t: Target, present: oauth.Present): Promise<boolean> {
    let asked = false
    const { provider: p, headers } = await provider(t, async (url, server, at) => {
        asked = true
        await present(url, server, at)
    })
    const make = () => new Client({ name: "mcplexer", version: "0.1.0" }, { capabilities: {} })
    const r = await remote.connect(make, p.url, headers, Math.max(t.server.timeout, 60_000), p)
    await remote.close(r)
    // a server that lets a session start unauthenticated (and asks only for some calls) gets its
    // login now, from its metadata alone
    if (!asked && await p.tokens() === undefined) await p.login()
    return asked
}
