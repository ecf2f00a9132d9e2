import type { OAuth } from "./oauth.ts"

/** An auth scope: a named set of secrets, stored in the vault, never in the config. */
export interface Scope {
    name: string
    description?: string
    /** age public keys its secrets are also encrypted to, beside the local identity (teammates) */
    recipients?: string[]
    /** a file of more recipients, in age's -R format (one a line, # comments); absolute */
    recipientsFile?: string
    /** ms after which a value is old enough to be rotated (doctor, serve and the web UI warn) */
    rotateEvery?: number
}

interface ServerBase {
    name: string
    /** the default scope of this server's instances */
    scope?: string
    /** expose tools as server__tool (default true) */
    prefix: boolean
    /** ms an instance may sit unused before it is stopped (default 600000) */
    idleTimeout: number
    /** ms a request may take (default 60000) */
    timeout: number
    /** the user's switches: globs over the server's own tool names, `!glob` switching back on (the last match decides) */
    tools: { disabled: string[] }
    /** every tool withheld until a person approves it (`mcplexer tools approve`) */
    quarantine: boolean
}

/** A downstream started as a local process and spoken to over stdio. */
export interface StdioServer extends ServerBase {
    kind: "stdio"
    command: string
    /** may hold ${secret:…}/${env:…} references, see template */
    args: string[]
    /** may hold references */
    env: Record<string, string>
    /** absolute unless it starts with a reference; may hold references */
    cwd?: string
    /** bytes a line of its stdout may reach before the instance is restarted (unset: downstream's default, 64 MiB) */
    maxLine?: number
}

/** A downstream reached over Streamable HTTP. */
export interface RemoteServer extends ServerBase {
    kind: "remote"
    /** may hold references */
    url: string
    /** may hold references */
    headers: Record<string, string>
    /** "headers": every key of the scope is also sent as a header */
    inject: "none" | "headers"
    /** logs in with OAuth 2.1; its tokens live in the vault, in the server's scope */
    oauth?: OAuth
}

/** A configured downstream MCP server. */
export type Server = StdioServer | RemoteServer

/** Which server and scope serve the tools matching `tools` inside a workspace, and on what terms. */
export interface Route {
    /** picomatch globs over exposed tool names */
    tools: string[]
    server?: string
    scope?: string
    action: "allow" | "deny"
    approval: "none" | "write" | "all"
    /** ms an approval lasts (default 600000; 0 asks on every call) */
    lease: number
    /** ms to wait for an answer to an approval request (default 300000) */
    approvalTimeout: number
    /** other scopes whose keys secret:// arguments may read */
    scopes: string[]
}

/** Routes chosen by the client's root folder. */
export interface Workspace {
    name: string
    /** absolute, "~" expanded */
    root: string
    routes: Route[]
}

/** A validated config.yaml. */
export interface Config {
    /** absolute path of the file it was read from */
    file: string
    /** the file's text, as parsed (part of the key of serve's saved first answers) */
    text?: string
    scopes: Map<string, Scope>
    servers: Map<string, Server>
    workspaces: Map<string, Workspace>
    /** what happens to a tool no route names */
    default: "allow" | "deny"
    audit: { retentionDays: number }
    /** search mode: the model is shown two search tools (and what `always` names: globs over client-visible names) instead of every tool */
    toolSearch: {
        enabled: boolean
        always: string[]
        /** the tools `mcplexer__find_tools` returns join the finding session's own tools/list (default true) */
        addFound: boolean
    }
}
