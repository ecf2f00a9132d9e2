/**
 * What the model is shown (DESIGN decision 12): the user's switches from config.yaml, the pins
 * (a hash of each tool's definition; a changed tool is withheld until a person approves it) and
 * quarantine. The router asks `state` for every tool it lists or calls; nothing here scrubs.
 */
import { createHash } from "node:crypto"
import type { Tool } from "@modelcontextprotocol/sdk/types.js"
import * as config from "../config/index.ts"
import type * as downstream from "../downstream/index.ts"
import * as store from "../store/index.ts"
import type { Trail } from "./audit.ts"

/** Where a tool stands with its user. */
export type State =
    | { state: "enabled" }
    | { state: "disabled"; by: string }
    | { state: "withheld"; pin: store.pins.Pin }
    | { state: "quarantined"; pin: store.pins.Pin }

/** The parts of a tool's definition a pin covers: a change to any of them is a change of the tool. */
export function definition(t: Tool): Record<string, unknown> {
    const { name, title, description, inputSchema, outputSchema, annotations } = t
    return { name, title, description, inputSchema, outputSchema, annotations }
}

/** SHA-256 over the canonical JSON (keys sorted at every depth) of a tool's definition. */
export function hash(t: Tool): string {
    return createHash("sha256").update(canonical(definition(t))).digest("hex")
}

function canonical(v: unknown): string {
    if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`
    if (v !== null && typeof v === "object") {
        const keys = Object.keys(v).filter(k => (v as Record<string, unknown>)[k] !== undefined).sort()
        return `{${keys.map(k => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(",")}}`
    }
    return JSON.stringify(v) ?? "null"
}

// A pin written by another process (`mcplexer tools approve`) is read again at most this often,
// and at once when a withheld tool is listed or called, so an approval shows on the next try.
const reread = 1000

/** The switches, pins and quarantine of one gateway, over its store. */
export class Shape {
    private config: config.Config
    private readonly s: store.Store
    private readonly trail: Trail
    private pins = new Map<string, store.pins.Pin>()
    private read = 0

    constructor(o: { config: config.Config; store: store.Store; trail: Trail }) {
        this.config = o.config
        this.s = o.store
        this.trail = o.trail
    }

    configure(c: config.Config): void {
        this.config = c
    }

    /**
     * Compares each catalog with its pins: a tool seen for the first time is pinned (approved,
     * unless its server is quarantined); a tool whose definition moved keeps its approved pin
     * and records what it became, and is withheld from then on. Changes are audit rows.
     */
    observe(catalogs: Map<string, downstream.Catalog>): void {
        this.load(true)
        const now = new Date()
        const rows: store.pins.Pin[] = []
        for (const [server, cat] of catalogs) {
            const quarantine = this.config.servers.get(server)?.quarantine === true
            for (const t of cat.tools) {
                const h = hash(t)
                const pin = this.pins.get(key(server, t.name))
                if (pin === undefined) {
                    const approve = !quarantine
                    rows.push({ server, tool: t.name, seenHash: h, seen: definition(t), changedAt: now,
                        approvedHash: approve ? h : null, approved: approve ? definition(t) : null, approvedAt: approve ? now : null, approvedBy: approve ? "first seen" : null })
                    if (!approve) this.audit("tool-quarantined", server, t.name, "withheld")
                } else if (pin.seenHash !== h) {
                    rows.push({ ...pin, seenHash: h, seen: definition(t), changedAt: now })
                    if (pin.approvedHash !== null && pin.approvedHash !== h) this.audit("tool-changed", server, t.name, "withheld", { from: pin.approvedHash.slice(0, 12), to: h.slice(0, 12) })
                } else if (pin.approvedHash === null && !quarantine) {
                    // quarantine lifted: what was waiting on it is approved as it stands
                    rows.push({ ...pin, approvedHash: h, approved: definition(t), approvedAt: now, approvedBy: "quarantine lifted" })
                }
            }
        }
        if (rows.length === 0) return
        store.pins.put(this.s, ...rows)
        for (const r of rows) this.pins.set(key(r.server, r.tool), r)
    }

    /** Where `tool` (server's own name `original`) stands now. */
    state(server: string, original: string): State {
        const s = this.config.servers.get(server)
        const by = s === undefined ? undefined : config.disabledBy(s.tools.disabled, original)
        if (by !== undefined) return { state: "disabled", by }
        this.load(false)
        let pin = this.pins.get(key(server, original))
        if (pin !== undefined && pin.approvedHash !== pin.seenHash) {
            this.load(true)
            pin = this.pins.get(key(server, original))
        }
        if (pin === undefined || pin.approvedHash === pin.seenHash) return { state: "enabled" }
        return pin.approvedHash === null ? { state: "quarantined", pin } : { state: "withheld", pin }
    }

    /** A tool's pin, read now (another process may have approved it). */
    pin(server: string, original: string): store.pins.Pin | undefined {
        return store.pins.get(this.s, server, original)
    }

    /** The tool error a call to a tool in `st` gets, naming the command that lets it through. */
    static refusal(exposed: string, st: State): string | undefined {
        const q = JSON.stringify(exposed)
        switch (st.state) {
            case "enabled": return undefined
            case "disabled": return `tool ${q} is switched off (tools.disabled: ${JSON.stringify(st.by)}); nothing was sent to its server\nto switch it on: mcplexer tools enable ${exposed}`
            case "withheld": return `tool ${q} changed since it was approved and is withheld; nothing was sent to its server\nsee the change with: mcplexer tools diff ${exposed}\nto accept it: mcplexer tools approve ${exposed}`
            case "quarantined": return `tool ${q} is on a quarantined server and not yet approved; nothing was sent to its server\nto look at it: mcplexer tools diff ${exposed}\nto accept it: mcplexer tools approve ${exposed}`
        }
    }

    private load(force: boolean): void {
        if (!force && performance.now() - this.read < reread) return
        this.pins = new Map(store.pins.all(this.s).map(p => [key(p.server, p.tool), p]))
        this.read = performance.now()
    }

    private audit(action: string, server: string, tool: string, status: string, detail: Record<string, unknown> = {}): void {
        this.trail.add({ action, actor: "serve", tool, server, detail, status })
    }
}

/** Accepts the definition `tool` was last seen with; false when nothing was waiting. */
export function approve(s: store.Store, server: string, tool: string, by: string): boolean {
    const pin = store.pins.get(s, server, tool)
    if (pin === undefined || pin.approvedHash === pin.seenHash) return false
    store.pins.put(s, { ...pin, approvedHash: pin.seenHash, approved: pin.seen, approvedAt: new Date(), approvedBy: by })
    return true
}

function key(server: string, tool: string): string {
    return `${server}\u0000${tool}`
}
