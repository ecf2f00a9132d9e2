import type {
    ClientCapabilities, Prompt, Resource, ResourceTemplate, ServerCapabilities, Tool,
} from "@modelcontextprotocol/sdk/types.js"
import type * as config from "../config/index.ts"
import type * as redact from "../redact/index.ts"
import type * as secrets from "../secrets/index.ts"

/** Which instance: a server with the scope whose secrets it runs with (undefined: none). */
export interface Key { server: string; scope: string | undefined }

/** Where the pool reports. Messages and fields arrive unscrubbed: the log writer scrubs, once, where it writes. */
export interface Logger {
    debug(msg: string, f?: Record<string, unknown>): void
    info(msg: string, f?: Record<string, unknown>): void
    warn(msg: string, f?: Record<string, unknown>): void
    error(msg: string, f?: Record<string, unknown>): void
}

/** What the pool asks of its owner (the gateway): the real client's side of the conversation. */
export interface Hooks {
    /** What to declare downstream: what the gateway can relay to its clients (sampling, elicitation, roots), the same for every instance. */
    capabilities(): ClientCapabilities
    /** A downstream notification other than progress of a pending request (logging, list_changed, resources/updated …), as sent. */
    notification(key: Key, n: { method: string; params?: Record<string, unknown> }): void
    /** A downstream request for the client (sampling, elicitation, roots), as sent; aborted when the downstream cancels it. */
    request(key: Key, r: { method: string; params?: Record<string, unknown> }, signal: AbortSignal): Promise<Record<string, unknown>>
    /** The server's catalog moved (restart, list_changed, relearned). */
    changed?(server: string): void
    /** An instance connected, first or again: what clients set up on it before (subscriptions, the log level) is made again. */
    started?(key: Key): void
    /** Whether clients still need an instance with no call in flight (they subscribed to one of its resources): it is not stopped as idle. */
    held?(key: Key): boolean
    /**
     * An instance's process was spawned: the stream that scrubs what it writes to the log (stderr,
     * stdout lines that are not JSON-RPC). A value it began there may go on in an answer, whose
     * scrubber takes over the stream's held start (never its text: none of it goes to a client).
     */
    logged?(key: Key, stream: redact.Stream): void
}

/** What a server offers. From the cache, `capabilities` is inferred from the lists until the server has run once. */
export interface Catalog {
    tools: Tool[]
    prompts: Prompt[]
    resources: Resource[]
    templates: ResourceTemplate[]
    capabilities: ServerCapabilities
    instructions?: string
}

/** One instance's state, as `mcplexer status` shows it. */
export interface Status {
    server: string
    scope?: string
    state: "stopped" | "starting" | "running" | "backoff" | "failed"
    pid?: number
    restarts: number
    lastError?: string
    since?: Date
}

/** Progress of one request, as the downstream sent it (without its token). */
export interface Progress { progress: number; total?: number; message?: string }

/**
 * What cancels a request: an AbortSignal, or any lighter object with these members (an
 * AbortSignal per call costs the gateway's hot path a few µs). Listeners are objects, so the pool
 * needs no closure per request.
 */
export interface Signal {
    readonly aborted: boolean
    readonly reason: unknown
    addEventListener(type: "abort", listener: { handleEvent(): void }): void
    removeEventListener(type: "abort", listener: { handleEvent(): void }): void
}

/** Options of one request. */
export interface RequestOptions {
    /** aborting cancels exactly this downstream request (notifications/cancelled) */
    signal?: Signal
    /** called synchronously from the transport for each progress notification of this request */
    onprogress?: (p: Progress) => void
}

/** What a pool is made of. */
export interface PoolOptions {
    config: config.Config
    vault: secrets.Vault
    registry: redact.Registry
    log: Logger
    /** mcplexer's own environment, for ${env:NAME} references and the base of stdio environments */
    env: NodeJS.ProcessEnv
    hooks: Hooks
}

/** Every downstream instance of a process. */
export interface Pool {
    /**
     * One request to the (server, scope) instance, started lazily. onprogress is called synchronously
     * from the transport's onmessage with the downstream's progress params (token already stripped),
     * so none is lost (DESIGN decision 8). The result is returned as the downstream sent it; errors
     * are Failures (failure.ts), unscrubbed, or secrets.MissingSecretError.
     */
    request(key: Key, method: string, params: Record<string, unknown> | undefined, o?: RequestOptions): Promise<Record<string, unknown>>
    /** Sends a notification to every live instance (roots/list_changed). */
    notify(method: string, params?: Record<string, unknown>): Promise<void>
    /** The server's catalog from memory or SQLite; never starts anything, never decrypts. */
    cached(server: string): Catalog | undefined
    /** The cached catalog, else starts the server with its default scope once, learns it and stores it. */
    catalog(server: string, o?: { refresh?: boolean }): Promise<Catalog>
    /** Every instance, and every configured server without one (as "stopped"). */
    status(): Status[]
    /** Restarts the live instances that read `scope`: resolve the new values, stop the old, start the new (DESIGN decision 5). */
    restartScope(scope: string): Promise<void>
    /** Stops the (server, scope) instance if it runs (its lease was revoked); the next request starts it again. */
    stop(key: Key, why: string): Promise<void>
    /** Takes a reloaded config: instances of removed or changed servers stop and start again on demand. */
    configure(c: config.Config): void
    /** Stops every instance (stdin, SIGTERM, SIGKILL of each process group) and clears this process's status rows. */
    close(): Promise<void>
}
