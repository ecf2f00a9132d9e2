/** The error object of a JSON-RPC error response: the one shape, wherever an error is framed. */
export interface RpcError {
    code: number
    message: string
    data?: unknown
}

/** The codes JSON-RPC 2.0 defines, and the two MCP adds that mcplexer answers with itself. */
export const codes = {
    parse: -32700,
    invalidRequest: -32600,
    methodNotFound: -32601,
    invalidParams: -32602,
    internal: -32603,
    /** MCP: the connection (for HTTP, the server or its session) cannot take the request */
    closed: -32000,
    /** MCP: a request timed out; the SDK's clients also use it for "session not found" and "unauthorized" */
    timeout: -32001,
} as const

/** An error object; `data` only when there is some, so the JSON carries no `"data": undefined`. */
export function error(code: number, message: string, data?: unknown): RpcError {
    return data === undefined ? { code, message } : { code, message, data }
}

/**
 * The error object for anything a request failed with, as the SDK's Server makes it for the
 * methods it handles: the thrown error's own numeric code (an McpError's, a downstream Failure's),
 * message and data, else an internal error with the message.
 */
export function of(e: unknown): RpcError {
    const x = (e instanceof Error ? e : new Error(String(e))) as Error & { code?: unknown; data?: unknown }
    return error(typeof x.code === "number" && Number.isSafeInteger(x.code) ? x.code : codes.internal, x.message, x.data)
}
