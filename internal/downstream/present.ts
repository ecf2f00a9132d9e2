/**
 * Who is shown a login link: the terminal of a one-shot command (call, tools, auth login), or the
 * client of `serve` through URL-mode elicitation; and the error when nobody can be.
 */
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js"
import { ErrorCode } from "@modelcontextprotocol/sdk/types.js"
import { Failure } from "./failure.ts"
import { nonce } from "./loopback.ts"
import type { Hooks, Key } from "./types.ts"

/** Shows the authorization URL to the person (a browser, an elicitation); rejects when they decline. */
export type Present = (url: URL, server: string) => Promise<void>

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
        return async (url, server) => {
            const elicitationId = nonce()
            let r: Record<string, unknown>
            try {
                r = await hooks.request(key, {
                    method: "elicitation/create",
                    params: { mode: "url", elicitationId, url: url.href, message: `server ${JSON.stringify(server)} needs you to log in; mcplexer keeps the tokens encrypted` },
                }, AbortSignal.timeout(loginTimeout))
            } catch (e) {
                if (e instanceof Failure && e.code === (ErrorCode.MethodNotFound as number)) throw new LoginNeeded(server)
                throw e
            }
            if (r.action !== "accept") throw new LoginNeeded(server, "the login link was declined")
        }
    }
}
