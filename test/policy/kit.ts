/** A gateway with workspaces on a fresh MCPLEXER_HOME, the pol-server fixture behind it, SDK clients in front. */
import { existsSync, readFileSync } from "node:fs"
import { mkdir, rm, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js"
import { ElicitRequestSchema, ListRootsRequestSchema, type ClientCapabilities, type ElicitRequest, type ElicitResult } from "@modelcontextprotocol/sdk/types.js"
import * as config from "../../internal/config/index.ts"
import * as gateway from "../../internal/gateway/index.ts"
import * as redact from "../../internal/redact/index.ts"
import * as secrets from "../../internal/secrets/index.ts"
import { fixture } from "../gateway/harness.ts"
import { temp } from "../helpers.ts"

export { text, until } from "../gateway/harness.ts"

/** A pol-server entry for a YAML config: `name` is its POL_NAME, every call it gets is logged to `log`. */
export function server(name: string, log: string, extra: Record<string, unknown> = {}): string {
    return fixture("pol-server.ts", { env: { POL_NAME: name, POL_LOG: log }, ...extra })
}

/** Elicitation as a test client answers it: with a result, or never (a promise that does not settle). */
export type Answerer = (r: ElicitRequest) => Promise<ElicitResult>

export interface ClientOptions {
    /** the session root when the client offers no roots */
    root?: string
    /** folders the client offers as roots (it then declares the roots capability) */
    roots?: string[]
    /** declares elicitation and answers with this */
    elicit?: Answerer
    name?: string
}

export interface Conn {
    client: Client
    /** replaces the client's roots and tells the gateway */
    setRoots(dirs: string[]): Promise<void>
    /** every elicitation request the client received */
    asked: ElicitRequest[]
    /** every list_changed notification for tools the client received */
    changed: number
}

export interface Kit {
    home: string
    /** the file every pol-server appends the tools it was called with */
    log: string
    gw: gateway.Gateway
    vault: secrets.Vault
    paths: config.Paths
    connect(o?: ClientOptions): Promise<Conn>
    /** the tool names the pol servers received, in order */
    received(): string[]
    /** every audit row, flushed first */
    audit(): Array<Record<string, unknown>>
    close(): Promise<void>
}

/** Makes the folders a test's workspaces name, under `home`. */
export async function folders(home: string, ...dirs: string[]): Promise<void> {
    for (const d of dirs) await mkdir(join(home, d), { recursive: true })
}

/** Starts a gateway for the config `make(home, log)` returns, with these secrets stored first. */
export async function start(make: (home: string, log: string) => string, o: { secrets?: Record<string, Record<string, string>>; cwd?: string } = {}): Promise<Kit> {
    const home = temp()
    const log = join(home, "calls.log")
    const paths = config.paths({ MCPLEXER_HOME: home })
    const text = make(home, log)
    await writeFile(paths.config, text)
    const cfg = config.parse(text, paths.config)
    const vault = secrets.open(paths, { actor: "test", create: true })
    for (const [scope, keys] of Object.entries(o.secrets ?? {})) {
        for (const [key, value] of Object.entries(keys)) await vault.put(scope, key, value)
    }
    const quiet = () => { /* the tests look at results and the audit trail */ }
    const gw = gateway.create({ config: cfg, vault, registry: redact.create(), log: { debug: quiet, info: quiet, warn: quiet, error: quiet }, env: process.env, cwd: o.cwd ?? home })
    const clients: Client[] = []
    return {
        home, log, gw, vault, paths,
        async connect(co: ClientOptions = {}) {
            const [ct, st] = InMemoryTransport.createLinkedPair()
            const capabilities: ClientCapabilities = {}
            if (co.roots) capabilities.roots = { listChanged: true }
            if (co.elicit) capabilities.elicitation = { form: {} }
            const client = new Client({ name: co.name ?? "test-client", version: "1.0.0" }, { capabilities })
            let roots = co.roots ?? []
            const conn: Conn = {
                client, asked: [], changed: 0,
                async setRoots(dirs) {
                    roots = dirs
                    await client.sendRootsListChanged()
                },
            }
            if (co.roots) client.setRequestHandler(ListRootsRequestSchema, () => ({ roots: roots.map(d => ({ uri: pathToFileURL(d).href })) }))
            const elicit = co.elicit
            if (elicit) {
                client.setRequestHandler(ElicitRequestSchema, req => {
                    conn.asked.push(req)
                    return elicit(req)
                })
            }
            client.fallbackNotificationHandler = n => {
                if (n.method === "notifications/tools/list_changed") conn.changed++
                return Promise.resolve()
            }
            await gw.connect(st, co.root === undefined ? {} : { root: co.root })
            await client.connect(ct)
            clients.push(client)
            return conn
        },
        received() {
            return existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean) : []
        },
        audit() {
            (gw as unknown as { trail: { flush(): void } }).trail.flush()
            return vault.store.sqlite.prepare("SELECT * FROM audit ORDER BY id").all() as Array<Record<string, unknown>>
        },
        async close() {
            await Promise.allSettled(clients.map(c => c.close()))
            await gw.close()
            vault.close()
            await rm(home, { recursive: true, force: true })
        },
    }
}

/** A promise that never settles: a client that never answers. */
export function never<T>(): Promise<T> {
    return new Promise<T>(() => { /* never */ })
}
