/**
 * Package httpapi serves mcplexer over HTTP with hono: MCP over Streamable HTTP at `/mcp` (one
 * gateway connection per client session), the REST API at `/api/v1` and the web UI at `/`.
 * It guards every request (Host and Origin against the bound address, a body cap, the bearer
 * token for `/mcp` and the REST API; for the UI a login's random address and the cookie scoped
 * to it, CSRF on its writes) and never answers with a secret
 * value: the vault is only written, deleted and listed here, and every REST and UI answer
 * leaves through one scrubbing responder (reply.ts). The client's Authorization
 * header stops here: nothing of the HTTP request reaches a downstream server.
 */
export { type Api, type Env, type Limits, type Logger, type Options, cookie, create, limits } from "./app.ts"
export { type Approvals, type Pending, fromStore } from "./approvals.ts"
export { type Bind, hosts, loopback } from "./guard.ts"
export { type Listening, RemoteBindError, listen } from "./listen.ts"
export { rotate, same, token, tokenPath } from "./token.ts"
