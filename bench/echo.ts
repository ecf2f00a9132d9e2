/**
 * The bench's client side of an HTTP front, shared by bench/http.ts and its client processes
 * (bench/caller.ts): how to reach a front, one checked echo call, and what the bench and a caller
 * say to each other.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { z } from "zod"

const EchoResult = z.looseObject({ content: z.array(z.looseObject({ type: z.string(), text: z.string().optional() })) })

/**
 * The clients' fetch: a POST goes without the transport's shared abort signal. The SDK's HTTP
 * client transports hand one AbortSignal to every fetch, undici adds a listener to it per request
 * and drops it only when that request is garbage-collected, and Node's EventTarget walks every
 * listener on each add: the client's own CPU per call grew through a run (868 µs per call at the
 * end of 10 000, 682 µs without; thousands of MaxListenersExceeded warnings) and capped every
 * front alike. The GET streams keep theirs, so closing a client still ends them.
 */
const fetchPost = (url: string | URL, init?: RequestInit): Promise<Response> => fetch(url, init?.method === "POST" ? { ...init, signal: null } : init)

/** Where a client reaches a front: Streamable HTTP, or the older SSE transport (mcp-hub). */
export interface Link {
    url: string
    sse?: boolean
    headers?: Record<string, string>
}

/** A client transport for `l`. */
export function transport(l: Link): StreamableHTTPClientTransport | SSEClientTransport {
    const url = new URL(l.url)
    return l.sse === true ? new SSEClientTransport(url, { fetch: fetchPost }) : new StreamableHTTPClientTransport(url, { requestInit: { headers: l.headers ?? {} }, fetch: fetchPost })
}

/** One call of the echo tool, its answer checked. */
export async function echo(c: Client, message: string, tool = "everything__echo"): Promise<void> {
    const r = await c.request({ method: "tools/call", params: { name: tool, arguments: { message } } }, EchoResult)
    if (r.content[0]?.text !== `Echo: ${message}`) throw new Error(`unexpected echo result ${JSON.stringify(r)}`)
}

/**
 * One echo call; sent once more when the connection it went out on was an idle keep-alive one
 * the server closed meanwhile (the peers close them after 5 s, and a front waits longer than that
 * while the others are measured). Returns how many calls were sent again: 0 or 1.
 */
export async function call(c: Client, tool: string, message: string): Promise<number> {
    try {
        await echo(c, message, tool)
        return 0
    } catch (e) {
        if (!(e instanceof TypeError && /fetch failed/.test(e.message))) throw e
        await echo(c, message, tool)
        return 1
    }
}

/** What the bench sends a caller: the front to reach, or a burst. */
export type Order = { link: Link; tool: string } | { total: number; inflight: number }

/** What a caller answers: connected, or a burst done (with the calls it sent twice). */
export type Answer = "ready" | { done: true; retried: number }
