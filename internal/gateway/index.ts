/**
 * Package gateway is the MCP server the client sees (`mcplexer serve`): it aggregates the tools,
 * prompts, resources and templates of every configured server under names every client accepts,
 * routes each request to the owning server through the downstream pool, and relays progress,
 * cancellation, logging, list changes, resource updates and the downstreams' own requests
 * (sampling, elicitation, roots) in both directions. It never logs a value.
 *
 * Where things happen, by file: edge.ts is the one writer to each client connection, and the
 * place where output is scrubbed; route.ts decides where a call goes (server, scope, policy,
 * approval, secret:// arguments); relay.ts takes it downstream (where downstream/instance.ts
 * starts an instance and decrypts its scope) and brings back what the servers send unasked;
 * lists.ts builds what clients list from the catalog cache; session.ts holds one client's folders
 * (its roots: no decision before they are known) and what it set up; hub.ts wires them.
 */
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js"
import type { Tool } from "@modelcontextprotocol/sdk/types.js"
import type * as config from "../config/index.ts"
import * as downstream from "../downstream/index.ts"
import type * as redact from "../redact/index.ts"
import type * as secrets from "../secrets/index.ts"
import { Hub } from "./hub.ts"
import type { State } from "./shape.ts"
import type * as store from "../store/index.ts"

export * as policy from "./policy.ts"
export { type State, hash as toolHash } from "./shape.ts"
export { flags, type Flag } from "./flags.ts"
export * as switches from "./switch.ts"
export { change } from "./diff.ts"
export { type Observer, observe } from "./observe.ts"
export { Stdio } from "./stdio.ts"
// the HTTP API keeps its requests in flight in one too (httpapi/lane.ts), and may not import downstream
export { Ids } from "../downstream/index.ts"
/** Where the gateway, its pool and the HTTP API log: the logger scrubs, once, where it writes. */
export type Logger = downstream.Logger
export { type Approval, type Lease, answer, approval, approvals, leases, revoke } from "./approve.ts"
export { type Backlog, backlogs } from "./audit.ts"

/** A running gateway: one pool of downstream instances shared by every client connection. */
export interface Gateway {
    /**
     * Serves one client over `t` (stdio: one; Streamable HTTP: one per session), through its own
     * edge and SDK Server. `root`: the folder of a client that offers no roots (default: serve's).
     */
    connect(t: Transport, o?: { root?: string }): Promise<void>
    /** The downstream instances behind the gateway. */
    pool: downstream.Pool
    /**
     * The catalog the client may be shown, each tool with its server, original name and state
     * (with `all`, switched off, withheld and quarantined tools too); unscrubbed, for the caller's own way out.
     */
    tools(o?: { all?: boolean }): Promise<Array<Tool & { server: string; original: string; state: State["state"] }>>
    /** Accepts the definition a withheld or quarantined tool presents now; false when nothing was waiting. */
    approve(server: string, tool: string, by: string): boolean
    /** A tool's pin (approved and last seen definitions), by its server and original name. */
    pin(server: string, tool: string): store.pins.Pin | undefined
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
    const hub = new Hub({ config: o.config, registry: o.registry, log: o.log, vault: o.vault, cwd: o.cwd ?? process.cwd() })
    hub.attach(downstream.pool({ config: o.config, vault: o.vault, registry: o.registry, log: o.log, env: o.env, hooks: hub.relay.hooks }))
    hub.retain()
    // decryptions for a call (secret:// arguments, an instance's scope) are audited through the
    // trail, which never makes the call wait for the database's lock
    o.vault.divert(row => { hub.trail.add(row) })
    return hub
}
