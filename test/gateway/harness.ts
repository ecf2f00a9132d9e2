/** A gateway on a fresh MCPLEXER_HOME, real fixture servers behind it, an SDK client in front. */
import { rm, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js"
import type { ClientCapabilities, JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js"
import * as config from "../../internal/config/index.ts"
import * as gateway from "../../internal/gateway/index.ts"
import * as redact from "../../internal/redact/index.ts"
import * as secrets from "../../internal/secrets/index.ts"
import { root, temp } from "../helpers.ts"

const tsx = import.meta.resolve("tsx")

/** A stdio server entry running one of test/fixtures under tsx, for a YAML config. */
export function fixture(file: string, extra: Record<string, unknown> = {}): string {
    return JSON.stringify({
        command: process.execPath,
        args: ["--import", tsx, join(root, "test", "fixtures", file)],
        ...extra,
    })
}

/** A config with the given servers (name -> flow-style YAML, e.g. from `fixture`). */
export function yaml(servers: Record<string, string>): string {
    const lines = ["auth_scopes:", "  gh: { description: test scope }", "  acme: { description: another test scope }", "servers:"]
    for (const [name, entry] of Object.entries(servers)) lines.push(`  ${name}: ${entry}`)
    return lines.join("\n") + "\n"
}

/** One line the gateway logged. */
export interface Line { level: string; msg: string; f?: Record<string, unknown> }

export interface Harness {
    home: string
    gw: gateway.Gateway
    client: Client
    vault: secrets.Vault
    /** every message the client's transport received, serialized */
    seen: string[]
    /** every line the gateway and its pool logged */
    lines: Line[]
    /** another client on the same gateway */
    connect(o?: ClientOptions): Promise<{ client: Client; seen: string[] }>
    close(): Promise<void>
}

export interface ClientOptions {
    capabilities?: ClientCapabilities
    /** runs on the client before it connects (to set request handlers) */
    setup?(c: Client): void
    /**
     * Deliver what the gateway sends in one batch per macrotask, as a stdio reader gets a chunk:
     * without it the in-memory pair hides the SDK's progress race (NOTES.md, issue 2580).
     */
    chunked?: boolean
}

export interface Options extends ClientOptions {
    /** scope -> key -> value, put in the vault before anything starts */
    secrets?: Record<string, Record<string, string>>
    /** an existing home (a second gateway on the same database) */
    home?: string
}

/** Starts a gateway for `text` (a YAML config) and connects a client to it. */
export async function start(text: string, o: Options = {}): Promise<Harness> {
    const home = o.home ?? temp()
    const paths = config.paths({ MCPLEXER_HOME: home })
    await writeFile(paths.config, text)
    const cfg = config.parse(text, paths.config)
    const vault = secrets.open(paths, { actor: "test", create: true })
    for (const [scope, keys] of Object.entries(o.secrets ?? {})) {
        for (const [key, value] of Object.entries(keys)) await vault.put(scope, key, value)
    }
    const lines: Line[] = []
    const at = (level: string) => (msg: string, f?: Record<string, unknown>) => { lines.push({ level, msg, f }) }
    const log = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") }
    const gw = gateway.create({ config: cfg, vault, registry: redact.create(), log, env: process.env })
    const clients: Client[] = []
    const connect = async (co: ClientOptions = {}) => {
        const [ct, st] = InMemoryTransport.createLinkedPair()
        const client = new Client({ name: "test", version: "1.0.0" }, { capabilities: co.capabilities ?? {} })
        co.setup?.(client)
        await gw.connect(st)
        const seen: string[] = []
        // the gateway's side of the linked pair hands messages straight to this onmessage
        const wrap = () => {
            const inner = ct.onmessage
            let batch: JSONRPCMessage[] = []
            ct.onmessage = (m: JSONRPCMessage, extra) => {
                seen.push(JSON.stringify(m))
                if (!co.chunked) return inner?.(m, extra)
                batch.push(m)
                if (batch.length > 1) return
                setImmediate(() => {
                    const chunk = batch
                    batch = []
                    for (const x of chunk) inner?.(x)
                })
            }
        }
        const started = ct.start.bind(ct)
        ct.start = async () => {
            wrap()
            await started()
        }
        await client.connect(ct)
        clients.push(client)
        return { client, seen }
    }
    const first = await connect(o)
    return {
        home, gw, vault, lines, connect,
        client: first.client,
        seen: first.seen,
        async close() {
            await Promise.allSettled(clients.map(c => c.close()))
            await gw.close()
            vault.close()
            if (o.home === undefined) await rm(home, { recursive: true, force: true })
        },
    }
}

/** Polls `f` until it returns something other than undefined, or fails after `ms`. */
export async function until<T>(f: () => T | undefined | Promise<T | undefined>, ms = 5000, what = "condition"): Promise<T> {
    const end = Date.now() + ms
    for (;;) {
        const v = await f()
        if (v !== undefined) return v
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
        await new Promise(r => setTimeout(r, 20))
    }
}

/** The text of the first content block of a tool result. */
export function text(r: unknown): string {
    const c = (r as { content?: Array<{ type: string; text?: string }> }).content?.[0]
    return c?.type === "text" ? c.text ?? "" : ""
}
