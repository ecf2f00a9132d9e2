/** The HTTP server in process: a gateway on a fresh MCPLEXER_HOME with real fixture servers, and its hono app. */
import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import * as config from "../../internal/config/index.ts"
import * as gateway from "../../internal/gateway/index.ts"
import * as httpapi from "../../internal/httpapi/index.ts"
import * as redact from "../../internal/redact/index.ts"
import * as secrets from "../../internal/secrets/index.ts"
import { watch } from "../../internal/cli/watch.ts"
import { root, temp } from "../helpers.ts"

const tsx = import.meta.resolve("tsx")

/** The ds fixture (stdio) in scope gh, its TOKEN referenced from the config. */
export function dsConfig(extra = ""): string {
    return `auth_scopes:
  gh: { description: test scope }
  acme: { description: another test scope }
servers:
  ds:
    command: ${JSON.stringify(process.execPath)}
    args: ["--import", ${JSON.stringify(tsx)}, ${JSON.stringify(join(root, "test", "fixtures", "ds-server.ts"))}]
    scope: gh
    env: { TOKEN: "\${secret:TOKEN}" }
${extra}`
}

/** Where the in-process app believes it is bound. */
export const origin = "http://127.0.0.1:7777"

export interface Kit {
    home: string
    paths: config.Paths
    token: string
    gw: gateway.Gateway
    /** the parsed configuration the app serves (reloaded when config.yaml changes, as serve does) */
    readonly cfg: config.Config
    api: httpapi.Api
    /** the gateway's own vault (a second connection, as `serve` has) */
    vault: secrets.Vault
    registry: redact.Registry
    lines: string[]
    /** a request to the app, Host set to the bound address, the token sent unless `auth: false` */
    req(path: string, init?: RequestInit & { auth?: boolean | string }): Promise<Response>
    /** logs in to the web UI as a browser would: the login's address prefix (`/s/<key>`), the cookie header to send, its Set-Cookie, and the login's CSRF token */
    login(o?: { scheme?: "http" | "https" }): Promise<{ base: string; cookie: string; set: string; csrf: string }>
    /** an MCP client over Streamable HTTP whose requests go to the app in process */
    client(o?: { token?: string }): Promise<{ client: Client; transport: StreamableHTTPClientTransport }>
    close(): Promise<void>
}

/**
 * Starts a gateway and the HTTP app for `text` (a YAML config). With `wire`, the app listens on a
 * real socket (127.0.0.1, a free port) and `req` and `client` go over it, as a client's would
 * (/mcp then served on node:http, mcp.ts). Without it, they go to the hono app in process (/mcp
 * then gets web Requests: the same endpoint and gate).
 */
export async function start(text: string = dsConfig(), o: { limits?: Partial<httpapi.Limits>; secrets?: Record<string, Record<string, string>>; wire?: boolean } = {}): Promise<Kit> {
    const home = temp()
    const paths = config.paths({ MCPLEXER_HOME: home })
    await writeFile(paths.config, text)
    let cfg = config.parse(text, paths.config)
    const vault = secrets.open(paths, { actor: "serve", create: true })
    for (const [scope, keys] of Object.entries(o.secrets ?? {})) for (const [k, v] of Object.entries(keys)) await vault.put(scope, k, v)
    const lines: string[] = []
    const at = (level: string) => (msg: string, f?: Record<string, unknown>) => { lines.push(`${level} ${msg} ${f ? JSON.stringify(f) : ""}`) }
    const log = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") }
    const registry = redact.create()
    const gw = gateway.create({ config: cfg, vault, registry, log, env: process.env })
    const apiVault = secrets.open(paths, { actor: "api", create: true })
    const token = httpapi.token(paths).token
    // as serve does: a changed config.yaml (a switch flipped over HTTP) is loaded and given to the gateway
    const watcher = watch(paths.config, next => { cfg = next; gw.configure(next) }, log)
    const options: httpapi.Options = {
        gateway: gw, vault: apiVault, registry, config: () => cfg, token, bind: { host: "127.0.0.1", port: o.wire ? 0 : 7777 },
        approvals: httpapi.fromStore(apiVault.store), log, ...(o.limits ? { limits: o.limits } : {}),
    }
    const wired = o.wire ? await httpapi.listen(options) : undefined
    const api: httpapi.Api = wired ?? httpapi.create(options)
    const fetcher = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
        if (wired !== undefined) return fetch(input, init)
        const r = new Request(input, init)
        r.headers.set("host", new URL(r.url).host)
        return api.app.request(r)
    }
    const base = wired?.url ?? origin
    const req = (path: string, init: RequestInit & { auth?: boolean | string } = {}) => {
        const headers = new Headers(init.headers)
        if (!headers.has("host") && wired === undefined) headers.set("host", "127.0.0.1:7777")
        if (init.auth !== false) headers.set("authorization", `Bearer ${typeof init.auth === "string" ? init.auth : token}`)
        if (wired !== undefined) return fetch(`${base}${path}`, { ...init, headers })
        return Promise.resolve(api.app.request(`${base}${path}`, { ...init, headers }))
    }
    const form = { "content-type": "application/x-www-form-urlencoded" }
    return {
        home, paths, token, gw, api, vault, registry, lines, req,
        get cfg() { return cfg },
        async login(l = {}) {
            const at = `${l.scheme ?? "http"}://127.0.0.1:7777`
            const r = await api.app.request(`${at}/login`, { method: "POST", headers: { ...form, host: "127.0.0.1:7777", origin: at }, body: `token=${encodeURIComponent(token)}` })
            if (r.status !== 303) throw new Error(`login answered ${r.status}: ${await r.text()}`)
            const set = r.headers.get("set-cookie") ?? ""
            const cookie = set.split(";")[0]!
            const base = (r.headers.get("location") ?? "").replace(/\/$/, "")
            const page = await api.app.request(`${at}${base}/secrets`, { headers: { host: "127.0.0.1:7777", cookie } })
            const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1]
            if (csrf === undefined) throw new Error(`no CSRF token on the secrets page (${page.status})`)
            return { base, cookie, set, csrf }
        },
        async client(c = {}) {
            const transport = new StreamableHTTPClientTransport(new URL(`${base}/mcp`), {
                fetch: fetcher,
                requestInit: { headers: { authorization: `Bearer ${c.token ?? token}` } },
            })
            const client = new Client({ name: "kit", version: "1.0.0" })
            await client.connect(transport)
            return { client, transport }
        },
        async close() {
            watcher.close()
            await (wired ?? api).close()
            await gw.close()
            apiVault.close()
            vault.close()
        },
    }
}
