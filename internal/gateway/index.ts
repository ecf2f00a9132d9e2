/**
 * Package gateway is the MCP server the client sees (`mcplexer serve`): it aggregates the tools,
 * prompts, resources and templates of every configured server under names every client accepts,
 * routes each request to the owning server through the downstream pool, and relays progress,
 * cancellation, logging, list changes, resource updates and the downstreams' own requests
 * (sampling, elicitation, roots) in both directions. Everything bound for the client is scrubbed
 * by the redaction registry first. It never logs a value.
 *
 * It also applies the policy: the session's roots (else serve's working directory) select a chain
 * of workspaces whose routes decide each tool's server, scope, deny and approval; approvals wait
 * on elicitation or on a pending row any `mcplexer approve` answers, and grant leases; secret://
 * arguments are resolved at dispatch; every call is audited (argument names only) in batches.
 */
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js"
import type { Tool } from "@modelcontextprotocol/sdk/types.js"
import type * as config from "../config/index.ts"
import * as downstream from "../downstream/index.ts"
import type * as redact from "../redact/index.ts"
import type * as secrets from "../secrets/index.ts"
import type * as front from "./front.ts"
import { Core } from "./gateway.ts"

export * as policy from "./policy.ts"
export { Stdio } from "./stdio.ts"
export { file as answers, type Replay } from "./front.ts"
/** Where the gateway, its pool and the HTTP API log: every message and field arrives scrubbed. */
export type Logger = downstream.Logger
export { type Approval, type Lease, answer, approval, approvals, leases, revoke } from "./approve.ts"

/** A running gateway: one pool of downstream instances shared by every client connection. */
export interface Gateway {
    /**
     * Serves one client over `t` (stdio: one; Streamable HTTP: one per session, each with its own
     * SDK Server). `replay`: what serve's front took first; `answers`: where to save the answers
     * to initialize and the lists for the next front.
     */
    connect(t: Transport, o?: { root?: string; replay?: front.Replay; answers?: string }): Promise<void>
    /** The downstream instances behind the gateway. */
    pool: downstream.Pool
    /** The catalog the client sees, each tool with its server and original name (for `mcplexer tools`). */
    tools(): Promise<Array<Tool & { server: string; original: string }>>
    /** Naming collisions and how they were resolved, as of the last listing (for `mcplexer status`). */
    collisions(): string[]
    /** Takes a reloaded configuration (passes it to the pool) and tells clients the lists may have moved. */
    configure(c: config.Config): void
    /** Closes every client connection, then every downstream instance. */
    close(): Promise<void>
}

/** Builds a gateway and its pool; nothing starts until a client asks. */
export function create(o: {
    config: config.Config; vault: secrets.Vault; registry: redact.Registry; log: Logger; env: NodeJS.ProcessEnv
    /** the session root of clients that offer no roots (default: the process's working directory) */
    cwd?: string
}): Gateway {
    const core = new Core({ config: o.config, registry: o.registry, log: o.log, vault: o.vault, cwd: o.cwd ?? process.cwd() })
    core.attach(downstream.pool({ config: o.config, vault: o.vault, registry: o.registry, log: o.log, env: o.env, hooks: core.hooks }))
    core.retain()
    return core
}
