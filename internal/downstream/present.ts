/**
 * Who is shown a login link: the terminal of a one-shot command (call, tools, auth login), or the
 * client of `serve` through URL-mode elicitation; and the error when nobody can be.
 */
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js"
import { ErrorCode } from "@modelcontextprotocol/sdk/types.js"
import * as config from "../config/index.ts"
import { Failure } from "./failure.ts"
import { nonce } from "./loopback.ts"
import type { Hooks, Key } from "./types.ts"

/**
 * Shows a login link to the person (a browser, an elicitation); rejects when they decline. `at` is
 * the origin of the authorization server the link leads to, since the link itself is the login's
 * start link on 127.0.0.1.
 */
export type Present = (url: URL, server: string, at?: string) => Promise<void>

/** How long a login may wait for the browser to come back. */
export const loginTimeout = 300_000
/** A server that needs its user to log in; the gateway hands the message to the client as it is. */
export class LoginNeeded extends Failure {
    readonly server: string
    readonly hint: string
    constructor(server: string, why?: string) {
        const hint = `mcplexer auth login ${server}`
        super(ErrorCode.InternalError, "", { login: hint })
        this.name = "LoginNeeded"
        this.server = server
        this.hint = `log in with: ${hint}`
        this.message = `server ${JSON.stringify(server)} needs a login${why === undefined ? "" : ` (${why})`}: run ${hint}`
    }
}

/**
 * Whether a link may be opened or printed for a login: https, or http to this machine (127.0.0.0/8,
 * ::1, localhost). Any other scheme (file:, vscode:, javascript:, a custom handler) would hand
 * whatever an authorization server names to the platform's opener.
 */
export function openable(url: URL): boolean {
    if (url.protocol === "https:") return true
    if (url.protocol !== "http:") return false
    // URL has already normalised 127.1, 0x7f.0.0.1 and the like to dotted decimal
    const h = url.hostname
    return h === "localhost" || h === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
}

/** Refuses a login link that is not `openable`, naming its scheme; nothing is opened or printed then. */
export function checkLink(url: URL, server: string): void {
    if (openable(url)) return
    const scheme = url.protocol.replace(/:$/, "")
    const host = url.protocol === "http:" ? ` to host ${JSON.stringify(url.hostname)}` : ""
    throw config.hinted(
        `the authorization server of server ${JSON.stringify(server)} gave a login link with scheme ${JSON.stringify(scheme)}${host}; only https links (and http ones to this machine) are opened`,
        `nothing was opened; the authorization_endpoint in its OAuth metadata must be an https URL: ask the server's operator, or remove oauth: from server ${JSON.stringify(server)}`,
        { kind: "unavailable" },
    )
}

// Set by the CLI's one-shot commands (call, tools, auth login): a login then opens the browser in
// the terminal's session. A process-wide setting, so the gateway that owns the pool need not know.
let terminal: Present | undefined

/** Makes logins of this process interactive (the browser, the URL printed), or not again with undefined. */
export function interactive(p: Present | undefined): void {
    terminal = p
}

/** Whether a request failed because the server wants a login the SDK could not get without the user. */
export function unauthorized(e: unknown): boolean {
    return e instanceof UnauthorizedError
}

/**
 * Who can be shown a login link for an instance: the terminal of a one-shot command, else the
 * client of serve through URL-mode elicitation (2025-11-25) when it declared it, else nobody.
 */
export function presenter(hooks: Hooks, key: Key): () => Present | undefined {
    return () => {
        if (terminal !== undefined) return terminal
        // the gateway asks the client whose call this is, if it declared URL-mode elicitation
        return async (url, server, at) => {
            const elicitationId = nonce()
            let r: Record<string, unknown>
            try {
                r = await hooks.request(key, {
                    method: "elicitation/create",
                    params: { mode: "url", elicitationId, url: url.href, message: `server ${JSON.stringify(server)} needs you to log in${at === undefined ? "" : ` at ${at}`}; mcplexer keeps the tokens encrypted` },
                }, AbortSignal.timeout(loginTimeout))
            } catch (e) {
                if (e instanceof Failure && e.code === (ErrorCode.MethodNotFound as number)) throw new LoginNeeded(server)
                throw e
            }
            if (r.action !== "accept") throw new LoginNeeded(server, "the login link was declined")
        }
    }
}
