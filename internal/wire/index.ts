/**
 * Package wire owns JSON-RPC 2.0 framing: the version string, the four message shapes and their
 * constructors, what counts as an id, and the one error shape (`RpcError`) every way out uses.
 * It is a leaf: it imports no other internal module, does no I/O and knows nothing of MCP beyond
 * the SDK's message types it hands back, so the stdio edge, the HTTP endpoint and the downstream
 * side all frame a message the same way.
 */
export { type Failure, type Id, type Notification, type Request, type Result, failure, isId, kind, notification, request, result, version } from "./message.ts"
export { type RpcError, codes, error, of } from "./error.ts"
