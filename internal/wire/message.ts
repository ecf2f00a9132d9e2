import type { JSONRPCErrorResponse, JSONRPCNotification, JSONRPCRequest, JSONRPCResultResponse } from "@modelcontextprotocol/sdk/types.js"
import type { RpcError } from "./error.ts"

/** The `jsonrpc` field of every message. */
export const version = "2.0"

/** A request id: JSON-RPC allows a string or a number (null only in an error about no request). */
export type Id = string | number

/** A request: it gets exactly one answer with its id. */
export type Request = JSONRPCRequest
/** A notification: no id, no answer. */
export type Notification = JSONRPCNotification
/** A successful answer. */
export type Result = JSONRPCResultResponse
/** An error answer; `id: null` when the request could not be read far enough to know its id. */
export type Failure = Omit<JSONRPCErrorResponse, "id"> & { id: Id | null }

/** True for a value JSON-RPC accepts as a request id. */
export function isId(v: unknown): v is Id {
    return typeof v === "string" || typeof v === "number"
}

/** A request. */
export function request(id: Id, method: string, params?: Request["params"]): Request {
    return params === undefined ? { jsonrpc: version, id, method } : { jsonrpc: version, id, method, params }
}

/** A notification. */
export function notification(method: string, params?: Notification["params"]): Notification {
    return params === undefined ? { jsonrpc: version, method } : { jsonrpc: version, method, params }
}

/** A successful answer to request `id`. */
export function result(id: Id, value: Result["result"]): Result {
    return { jsonrpc: version, id, result: value }
}

/** An error answer to request `id` (null: no request could be named). */
export function failure(id: Id | null, e: RpcError): Failure {
    return { jsonrpc: version, id, error: e }
}

/**
 * What a parsed value is as a JSON-RPC message, by its shape alone (params and results are not
 * looked into): "request", "notification", "response" (a result with an id, or an error), or
 * undefined when it is none of these.
 */
export function kind(m: unknown): "request" | "notification" | "response" | undefined {
    if (typeof m !== "object" || m === null || Array.isArray(m)) return undefined
    const o = m as { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown; result?: unknown; error?: unknown }
    if (o.jsonrpc !== version) return undefined
    if (typeof o.method === "string") {
        if (o.params !== undefined && !object(o.params)) return undefined
        if (o.id === undefined) return "notification"
        return isId(o.id) ? "request" : undefined
    }
    if ("result" in o) return "error" in o || !isId(o.id) || !object(o.result) ? undefined : "response"
    // an error about a request the client could not read names no id
    if (!isId(o.id) && o.id !== undefined && o.id !== null) return undefined
    const e = o.error
    return object(e) && Number.isInteger(e.code) && typeof e.message === "string" ? "response" : undefined
}

function object(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v)
}
