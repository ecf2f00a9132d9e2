import { createHash } from "node:crypto"
import type { Client } from "@modelcontextprotocol/sdk/client/index.js"
import type { ServerCapabilities } from "@modelcontextprotocol/sdk/types.js"
import type * as config from "../config/index.ts"
import * as store from "../store/index.ts"
import type { Catalog } from "./types.ts"

const prints = new WeakMap<config.Server, string>()

/**
 * A hash of everything in a server's definition that can change what it offers: how it is started
 * or reached and with which scope. Timeouts and naming are left out. The definition holds only
 * references, never values, so the hash reveals nothing.
 */
export function fingerprint(s: config.Server): string {
    let f = prints.get(s)
    if (f !== undefined) return f
    const def = s.kind === "stdio"
        ? { kind: s.kind, command: s.command, args: s.args, env: sorted(s.env), cwd: s.cwd ?? null, scope: s.scope ?? null }
        : { kind: s.kind, url: s.url, headers: sorted(s.headers), inject: s.inject, scope: s.scope ?? null }
    f = createHash("sha256").update(JSON.stringify(def)).digest("hex")
    prints.set(s, f)
    return f
}

function sorted(o: Record<string, string>): Array<[string, string]> {
    return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
}

/** The stored catalog of `s`, if its fingerprint still matches the definition. */
export function read(st: store.Store, s: config.Server): Catalog | undefined {
    const row = store.catalog.get(st, s.name)
    return row === undefined ? undefined : fromRow(row, s)
}

/** The stored catalogs of the configured servers whose fingerprints still match, read in one query. */
export function readAll(st: store.Store, servers: ReadonlyMap<string, config.Server>): Map<string, Catalog> {
    const out = new Map<string, Catalog>()
    for (const row of store.catalog.all(st)) {
        const s = servers.get(row.server)
        const c = s === undefined ? undefined : fromRow(row, s)
        if (c !== undefined) out.set(row.server, c)
    }
    return out
}

function fromRow(row: store.catalog.Row, s: config.Server): Catalog | undefined {
    if (row.fingerprint !== fingerprint(s)) return undefined
    const c = {
        tools: row.tools as Catalog["tools"],
        prompts: row.prompts as Catalog["prompts"],
        resources: row.resources as Catalog["resources"],
        templates: row.templates as Catalog["templates"],
    }
    // rows from before the capabilities column: infer them from the lists until the server runs
    const capabilities = (row.capabilities as ServerCapabilities | null) ?? infer(c)
    return row.instructions === null ? { ...c, capabilities } : { ...c, capabilities, instructions: row.instructions }
}

/** Stores a learned catalog (already scrubbed by the caller). */
export function write(st: store.Store, s: config.Server, c: Catalog): void {
    const row = {
        server: s.name,
        fingerprint: fingerprint(s),
        tools: c.tools,
        prompts: c.prompts,
        resources: c.resources,
        templates: c.templates,
        capabilities: c.capabilities as Record<string, unknown>,
        instructions: c.instructions ?? null,
        updatedAt: new Date(),
    }
    store.catalog.put(st, row)
}

/** What the lists imply, for a cached row written before capabilities were stored. */
function infer(c: Omit<Catalog, "capabilities">): ServerCapabilities {
    const caps: ServerCapabilities = {}
    if (c.tools.length) caps.tools = { listChanged: true }
    if (c.prompts.length) caps.prompts = { listChanged: true }
    if (c.resources.length || c.templates.length) caps.resources = { listChanged: true }
    return caps
}

/** Whether two catalogs offer the same things (what hooks.changed is about). */
export function same(a: Catalog | undefined, b: Catalog): boolean {
    if (a === undefined) return false
    return JSON.stringify([a.tools, a.prompts, a.resources, a.templates, a.capabilities, a.instructions ?? null])
        === JSON.stringify([b.tools, b.prompts, b.resources, b.templates, b.capabilities, b.instructions ?? null])
}

/**
 * Asks a connected server for everything it offers, page by page: tools (which it must list),
 * prompts, resources and templates (each skipped, through `skipped`, when the server fails it).
 */
export async function learn(client: Client, request: (method: string, params?: Record<string, unknown>) => Promise<Record<string, unknown>>,
    skipped: (field: string, e: unknown) => void): Promise<Catalog> {
    const caps: ServerCapabilities = client.getServerCapabilities() ?? {}
    const list = async (method: string, field: string, optional: boolean): Promise<unknown[]> => {
        const out: unknown[] = []
        const seen = new Set<string>()
        let cursor: string | undefined
        do {
            let page: Record<string, unknown>
            try {
                page = await request(method, cursor === undefined ? undefined : { cursor })
            } catch (e) {
                if (!optional) throw e
                skipped(field, e)
                return out
            }
            const items = page[field]
            if (Array.isArray(items)) out.push(...(items as unknown[]))
            cursor = typeof page.nextCursor === "string" && page.nextCursor !== "" ? page.nextCursor : undefined
            if (cursor !== undefined && seen.has(cursor)) break // a server repeating its cursor must not loop us
            if (cursor !== undefined) seen.add(cursor)
        } while (cursor !== undefined)
        return out
    }
    const [tools, prompts, resources, templates] = await Promise.all([
        caps.tools ? list("tools/list", "tools", false) : [],
        caps.prompts ? list("prompts/list", "prompts", true) : [],
        caps.resources ? list("resources/list", "resources", true) : [],
        caps.resources ? list("resources/templates/list", "resourceTemplates", true) : [],
    ])
    const instructions = client.getInstructions()
    return { tools, prompts, resources, templates, capabilities: caps, ...(instructions === undefined ? {} : { instructions }) } as Catalog
}
