/**
 * The HTTP boundary: random requests to the app, in process (hono's app.request, a web Request)
 * and over a socket (node:http, which sends a forged Host as given): methods, paths, Host,
 * Origin, Authorization, cookies, content types, bodies of every size around the caps. What must
 * hold for every one: never a 5xx; without the token (or a live UI login) nothing but a refusal,
 * the login page or a redirect to it; and never the planted secret in anything that comes back.
 */
import { request } from "node:http"
import { randomUUID } from "node:crypto"
import * as fc from "fast-check"
import * as httpapi from "../../internal/httpapi/index.ts"
import { dsConfig, start, type Kit } from "../httpapi/kit.ts"
import type { Property } from "./kit.ts"

const planted = "pl4nted-FUZZ-http-3b9d0e"
const limits = { mcpBody: 4096, apiBody: 1024, sessions: 1_000_000 }

interface App { k: Kit; port: number; host: string }
let shared: Promise<App> | undefined
// the app lives as long as runs use it: closed once none has for a while, so the process can end
let idle: NodeJS.Timeout | undefined

/** Runs `f` with the shared app, started on first need, closed once no run has used it for a while. */
async function use<T>(f: (a: App) => Promise<T>): Promise<T> {
    shared ??= (async () => {
        const k = await start(dsConfig(), { wire: true, limits, secrets: { gh: { TOKEN: planted } } })
        const port = Number(new URL((await k.req("/api/v1/health")).url).port)
        return { k, port, host: `127.0.0.1:${port}` }
    })()
    if (idle !== undefined) clearTimeout(idle)
    const held = shared
    try {
        return await f(await held)
    } finally {
        idle = setTimeout(() => {
            if (shared !== held) return
            shared = undefined
            void held.then(a => a.k.close())
        }, 1500)
    }
}

interface Req {
    socket: boolean
    method: string
    path: string
    host: string | undefined
    origin: string | undefined
    auth: "none" | "token" | "lower" | "wrong" | "basic" | "garbage" | "padded"
    cookie: string | undefined
    type: string | undefined
    accept: string | undefined
    session: "none" | "random"
    body: string | undefined
}

const paths = fc.oneof(
    fc.constantFrom("/mcp", "/mcp?x=1", "/mcp/", "/api/v1/health", "/api/v1/scopes", "/api/v1/scopes/gh/secrets/TOKEN", "/api/v1/scopes/gh/secrets/OTHER",
        "/api/v1/audit?limit=5", "/api/v1/servers", "/api/v1/catalog", "/api/v1/approvals", "/api/v1/approvals/1/approve", "/api/v1/servers/ds/restart",
        "/api/nowhere", "/", "/login", "/secrets", "/audit", "/approvals", "/ui/secrets", "/ui/restart", "/logout", "/nowhere", "//mcp", "/%2e%2e/api/v1/scopes"),
    fc.string({ maxLength: 12 }).map(s => `/s/${encodeURIComponent(s) || "x"}/secrets`),
    fc.webPath().filter(p => p.startsWith("/")),
)

const rpc = fc.oneof(
    fc.constantFrom(
        { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "fuzz", version: "1" } } },
        { jsonrpc: "2.0", id: 2, method: "tools/list" },
        { jsonrpc: "2.0", method: "notifications/initialized" },
        { jsonrpc: "2.0", id: 3, result: {} },
        { jsonrpc: "2.0", id: 4, error: { code: 1, message: "x" } },
    ),
    fc.record({ jsonrpc: fc.constantFrom("2.0", "1.0", 2), id: fc.oneof(fc.integer(), fc.string(), fc.constant(null)), method: fc.oneof(fc.string(), fc.integer()), params: fc.anything() }, { requiredKeys: [] }),
)

const bodies = fc.oneof(
    fc.constant(undefined),
    fc.string({ maxLength: 200 }),
    rpc.map(m => JSON.stringify(m)),
    fc.array(rpc, { maxLength: 4 }).map(a => JSON.stringify(a)),
    fc.constantFrom(`{"value":"v-1234"}`, "scope=gh&key=TOKEN&value=v-1234&_csrf=x", "token=mcp_wrong", "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--b--\r\n"),
    fc.integer({ min: 900, max: 6000 }).map(n => JSON.stringify({ jsonrpc: "2.0", id: 5, method: "ping", params: { pad: "x".repeat(n) } })),
)

const requests: fc.Arbitrary<Req> = fc.record({
    socket: fc.boolean(),
    method: fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"),
    path: paths,
    host: fc.constantFrom(undefined, "good", "localhost:1", "[::1]", "evil.example.com", "127.0.0.1.nip.io", "a b", ""),
    origin: fc.constantFrom(undefined, "good", "http://localhost:3000", "http://evil.example.com", "null", "file://", "garbage"),
    auth: fc.constantFrom("none", "token", "lower", "wrong", "basic", "garbage", "padded"),
    cookie: fc.oneof(fc.constant(undefined), fc.string({ maxLength: 40 }).map(s => `${httpapi.cookie}=${encodeURIComponent(s)}`)),
    type: fc.constantFrom(undefined, "application/json", "application/json; charset=utf-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=b", "multipart/form-data", "text/plain"),
    accept: fc.constantFrom(undefined, "application/json, text/event-stream", "text/event-stream", "application/json", "*/*"),
    session: fc.constantFrom("none", "random"),
    body: bodies,
})

/** The request's headers for `a`. */
function headers(a: App, r: Req): Record<string, string> {
    const h: Record<string, string> = {}
    if (r.host !== undefined) h.host = r.host === "good" ? a.host : r.host
    if (r.origin !== undefined) h.origin = r.origin === "good" ? `http://${a.host}` : r.origin
    const auth = { none: undefined, token: `Bearer ${a.k.token}`, lower: `bearer ${a.k.token}`, padded: `Bearer  ${a.k.token} `, wrong: "Bearer mcp_wrong", basic: "Basic dXNlcjpwYXNz", garbage: "Bearer" }[r.auth]
    if (auth !== undefined) h.authorization = auth
    if (r.cookie !== undefined) h.cookie = r.cookie
    if (r.type !== undefined) h["content-type"] = r.type
    if (r.accept !== undefined) h.accept = r.accept
    if (r.session === "random") h["mcp-session-id"] = randomUUID()
    return h
}

/** Sends `r`; the status, the headers and the body as text. */
async function send(a: App, r: Req): Promise<{ status: number; text: string }> {
    const h = headers(a, r)
    const body = r.method === "GET" || r.method === "HEAD" ? undefined : r.body
    if (r.socket) {
        return new Promise((done, fail) => {
            const q = request({ host: "127.0.0.1", port: a.port, method: r.method, path: r.path, headers: h, setHost: false, agent: false }, res => {
                let text = JSON.stringify(res.headers)
                res.setEncoding("utf8").on("data", (d: string) => { text += d }).on("end", () => done({ status: res.statusCode ?? 0, text }))
                // an event stream (a GET on /mcp) does not end by itself
                if (String(res.headers["content-type"]).startsWith("text/event-stream")) setTimeout(() => { res.destroy(); done({ status: res.statusCode ?? 0, text }) }, 20)
            })
            q.on("error", fail)
            q.end(body)
        })
    }
    // in process: hono's app.request; a Host of its own or none, as a web Request has it
    const init: RequestInit = { method: r.method, headers: h, ...(body === undefined ? {} : { body }) }
    const res = await a.k.api.app.request(`http://${h.host && /^[\w.:[\]-]+$/.test(h.host) ? h.host : a.host}${r.path}`, init)
    let text = JSON.stringify(Object.fromEntries(res.headers))
    if (res.headers.get("content-type")?.startsWith("text/event-stream")) await res.body?.cancel()
    else text += await res.text()
    return { status: res.status, text }
}

const ok = (r: Req) => r.auth === "token" || r.auth === "lower" || r.auth === "padded"
const mcpPath = (p: string) => p === "/mcp" || p.startsWith("/mcp?")

const properties: Property[] = [
    {
        name: "no request gets a 5xx, anything but a refusal without the token, or the planted secret",
        runs: 100,
        timeout: 15_000,
        make: () => fc.asyncProperty(requests, r => use(async a => {
            const { status, text } = await send(a, r)
            if (status >= 500) throw new Error(`${status}: ${text.slice(0, 300)}`)
            if (text.includes(planted)) throw new Error("the planted secret came back")
            if (text.includes(a.k.token)) throw new Error("the token came back")
            if (ok(r)) return
            // without the token: a refusal, the login page, or a redirect to it; the API and /mcp only refuse
            if (mcpPath(r.path) || r.path.startsWith("/api/v1/")) {
                if (![400, 401, 403, 404, 413].includes(status)) throw new Error(`${r.method} ${r.path} without the token: ${status} ${text.slice(0, 300)}`)
                if (status === 404 && !r.path.startsWith("/api/v1/") && !mcpPath(r.path)) throw new Error("unreachable")
                return
            }
            if (status >= 200 && status < 300 && !r.path.startsWith("/login")) throw new Error(`${r.method} ${r.path} without a login: ${status} ${text.slice(0, 300)}`)
            if (status >= 300 && status < 400 && !/"location":"\/login"/.test(text)) throw new Error(`${r.method} ${r.path}: a redirect elsewhere than the login page: ${text.slice(0, 300)}`)
        })),
    },
]

export default properties
