import type { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js"
import { StreamableHTTPClientTransport, StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js"
import { fetcher } from "./fetch.ts"
import * as oauth from "./oauth.ts"

/** A connected remote server: the client and the transport it speaks over. */
export interface Remote { client: Client; transport: Transport; kind: "http" | "sse" }

/**
 * Connects `make()` clients to `url`: Streamable HTTP first, and the older HTTP+SSE transport when
 * the server answers the Streamable HTTP POST with a client error other than 401/403 (what an
 * SSE-only server does). `headers` (the resolved ones, secrets included) go with every request.
 * With `auth`, the SDK's transport sends its token, refreshes it on a 401, and when it cannot
 * without the user, one login is run (or LoginNeeded thrown) and the connection tried again.
 */
export async function connect(make: () => Client, url: string, headers: Record<string, string>, timeout: number, auth?: oauth.Provider): Promise<Remote> {
    try {
        return await once(make, url, headers, timeout, auth)
    } catch (e) {
        if (auth === undefined) throw e
        if (!oauth.unauthorized(e)) throw oauth.unusable(e, auth.name)
    }
    try {
        await auth.login()
    } catch (e) {
        throw oauth.unusable(e, auth.name)
    }
    try {
        return await once(make, url, headers, timeout, auth)
    } catch (e) {
        throw oauth.unauthorized(e) ? auth.needed("the server refused the new login") : oauth.unusable(e, auth.name)
    }
}

async function once(make: () => Client, url: string, headers: Record<string, string>, timeout: number, authProvider: oauth.Provider | undefined): Promise<Remote> {
    const u = new URL(url)
    const http = make()
    // the transport runs the SDK's discovery and token requests with its own fetch, adding `headers`
    // to them: oauth's caps them and keeps those headers to the server's own origin
    const opts = { requestInit: { headers }, ...(authProvider === undefined ? {} : { authProvider, fetch: fetcher(url, headers) }) }
    const t = new StreamableHTTPClientTransport(u, opts)
    try {
        await http.connect(t, { timeout })
        return { client: http, transport: t, kind: "http" }
    } catch (e) {
        await http.close().catch(() => {})
        if (!(e instanceof StreamableHTTPError) || !fallback(e.code)) throw e
    }
    const sse = make()
    const s = new SSEClientTransport(u, opts)
    try {
        await sse.connect(s, { timeout })
    } catch (e) {
        await sse.close().catch(() => {})
        throw e
    }
    return { client: sse, transport: s, kind: "sse" }
}

function fallback(code: number | undefined): boolean {
    return code !== undefined && code >= 400 && code < 500 && code !== 401 && code !== 403
}

/** Whether a failed request means the server forgot our session (404; some servers say 400): reconnect. */
export function expired(e: unknown, r: Remote): boolean {
    return r.kind === "http" && e instanceof StreamableHTTPError && (e.code === 404 || e.code === 400)
}

/** Ends the session politely (DELETE) and closes the transport. */
export async function close(r: Remote): Promise<void> {
    if (r.transport instanceof StreamableHTTPClientTransport) await r.transport.terminateSession().catch(() => {})
    await r.client.close().catch(() => {})
}
