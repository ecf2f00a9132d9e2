/** What the HTTP server is built from, and its bounds: one file that app.ts and its sub-apps share. */
import type * as config from "../config/index.ts"
import type * as gateway from "../gateway/index.ts"
import type * as redact from "../redact/index.ts"
import type * as secrets from "../secrets/index.ts"
import type { Approvals } from "./approvals.ts"
import type { Bind } from "./guard.ts"
import { limits as sessionLimits, type Limits as SessionLimits } from "./mcp.ts"

/** Where the API logs: the serve logger (it scrubs too). */
export type Logger = gateway.Logger

/** What the HTTP server is built from. */
export interface Options {
    gateway: gateway.Gateway
    /**
     * The vault the API writes to: its own connection (actor "api"), so the pool notices a write
     * through PRAGMA data_version exactly as it notices one from the CLI, and restarts what it must.
     */
    vault: secrets.Vault
    registry: redact.Registry
    /** The configuration as of now. */
    config(): config.Config
    /** The bearer token (`mcplexer token`). */
    token: string
    /** The address served, against which Host and Origin are checked. */
    bind: Bind
    /** More hostnames that may appear in Host and Origin (a name the machine is reached by). */
    hosts?: string[]
    /** The approval queue; absent, the API answers 501 and the UI says so. */
    approvals?: Approvals
    log: Logger
    limits?: Partial<Limits>
}

/** Size and session bounds. */
export interface Limits extends SessionLimits {
    /** largest `/mcp` request body, bytes */
    mcpBody: number
    /** largest body of any other request (API, forms, unknown paths), bytes */
    apiBody: number
    /** how long a web UI login lasts, ms */
    login: number
}

/** The defaults: a 4 MiB MCP message, a 64 KiB API request, a 12-hour login. */
export const limits: Limits = { ...sessionLimits, mcpBody: 4 * 1024 * 1024, apiBody: 64 * 1024, login: 12 * 60 * 60 * 1000 }

