/**
 * Every OAuth request's way out (discovery, registration, tokens): answers capped at `maxBody`
 * while they stream, a time limit, a back-off from an origin that failed, and a server's own
 * headers kept to its origin. The server's MCP traffic passes untouched.
 */
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js"
import * as config from "../config/index.ts"

/** The most an authorization server's answer (metadata, registration, tokens) may hold: 1 MiB. */
export const maxBody = 1 << 20
/** How long one OAuth request may take, its body included. */
export const requestTimeout = 30_000
/** The first wait after an OAuth request to a server failed expensively; it doubles with each failure in a row. */
export const backoffFirst = 5_000
/** The longest wait; a server that has failed is remembered until its wait ends. */
export const backoffMost = 600_000

// per origin: a document over the cap or a timeout costs time and memory each time it is asked,
// and serve asks on every request that meets a 401; one map for the process, since providers
// come and go with their instances
const failing = new Map<string, { fails: number; until: number; why: string }>()

/**
 * The fetch of one server's OAuth requests, given to the SDK's auth() and to its transports (which
 * send the server's own MCP requests through it too: those, to the server's own origin and
 * recognisably MCP, go straight through). Every other answer is read as it streams and cut off,
 * the connection closed, past maxBody; a request may take requestTimeout; and after such a
 * failure that origin is not asked again for a while (backoffFirst, doubling up to backoffMost).
 *
 * `configured` are the server's own headers (secrets resolved), which the SDK's transports add to
 * their OAuth requests too: they are taken off those that go to another origin (an authorization
 * server the resource server named), unless the SDK set a header of that name itself.
 */
export function fetcher(server: string, configured: Record<string, string> = {}): FetchLike {
    const home = new URL(server)
    const own = Object.entries(configured)
    return (input, init) => {
        const url = new URL(input)
        if (mcp(home, url, init)) return fetch(url, init)
        if (own.length === 0 || url.origin === home.origin || init?.headers === undefined) return guarded(url, init)
        const headers = new Headers(init.headers)
        for (const [k, v] of own) if (headers.get(k) === v) headers.delete(k)
        return guarded(url, { ...init, headers })
    }
}

/**
 * Whether a request is the server's own MCP traffic (a JSON-RPC POST, its event stream, the
 * session's DELETE), told by what it is rather than where it goes: metadata may name the MCP
 * endpoint itself as its token or registration endpoint, and those answers are capped like any.
 */
function mcp(home: URL, url: URL, init: RequestInit | undefined): boolean {
    if (url.origin !== home.origin) return false
    // a JSON-RPC message; the legacy SSE transport posts them to the endpoint its server names
    if (typeof init?.body === "string" && init.body.includes('"jsonrpc"')) return true
    const method = (init?.method ?? "GET").toUpperCase()
    if (method === "DELETE" && url.pathname === home.pathname) return true
    return method === "GET" && (new Headers(init?.headers).get("accept") ?? "").includes("text/event-stream")
}

async function guarded(url: URL, init: RequestInit | undefined): Promise<Response> {
    const origin = url.origin
    const f = failing.get(origin)
    if (f !== undefined && Date.now() < f.until) {
        throw config.hinted(`not asking ${origin} again for ${Math.ceil((f.until - Date.now()) / 1000)}s: ${f.why}`,
            "its OAuth documents failed a moment ago; mcplexer waits longer after each failure in a row", { kind: "unavailable" })
    }
    const where = `${origin}${url.pathname}`
    const fail = (why: string): Error => {
        const fails = (failing.get(origin)?.fails ?? 0) + 1
        const wait = Math.min(backoffMost, backoffFirst * 2 ** (fails - 1))
        failing.set(origin, { fails, until: Date.now() + wait, why })
        return config.hinted(`the authorization server's answer from ${where} ${why}`,
            `mcplexer stopped reading it and will not ask ${origin} again for ${Math.round(wait / 1000)}s; ask the server's operator`, { kind: "unavailable" })
    }
    const tooBig = `is larger than ${maxBody / (1 << 20)} MiB, the most mcplexer reads`
    const stop = new AbortController()
    const timer = AbortSignal.timeout(requestTimeout)
    const signal = AbortSignal.any([stop.signal, timer, ...(init?.signal ? [init.signal] : [])])
    let res: Response
    try {
        res = await fetch(url, { ...init, signal })
    } catch (e) {
        if (timer.aborted) throw fail(`took longer than ${requestTimeout / 1000}s`)
        throw e
    }
    if (Number(res.headers.get("content-length") ?? 0) > maxBody) {
        stop.abort()
        throw fail(tooBig)
    }
    // a body-less status cannot be rebuilt with a body; there is nothing to cap
    if (res.body === null || [101, 103, 204, 205, 304].includes(res.status)) return res
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    let seen = 0
    const body = new ReadableStream<Uint8Array>({
        async pull(c) {
            let r: Awaited<ReturnType<typeof reader.read>>
            try {
                r = await reader.read()
            } catch (e) {
                c.error(timer.aborted ? fail(`took longer than ${requestTimeout / 1000}s`) : e)
                return
            }
            if (r.done) {
                failing.delete(origin)
                c.close()
                return
            }
            seen += r.value.byteLength
            if (seen > maxBody) {
                // aborting closes the connection: the rest is never received
                stop.abort()
                c.error(fail(tooBig))
                return
            }
            c.enqueue(r.value)
        },
        cancel(why) {
            return reader.cancel(why)
        },
    })
    const out = new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers })
    Object.defineProperty(out, "url", { value: res.url })
    return out
}
