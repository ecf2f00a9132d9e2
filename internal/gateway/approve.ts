import type { ElicitRequestFormParams, PrimitiveSchemaDefinition } from "@modelcontextprotocol/sdk/types.js"
import * as config from "../config/index.ts"
import * as store from "../store/index.ts"
import type { Trail } from "./audit.ts"
import type * as policy from "./policy.ts"

/** One approval request as stored; `arguments` holds the call's arguments, scrubbed, as JSON text (shortened). */
export type Approval = Omit<store.approvals.Approval, "status"> & { status: "pending" | "approved" | "denied" | "expired" }

/** One lease as stored. */
export type Lease = store.approvals.Lease

/** How a call's request for approval ended. */
export type Answer =
    | { ok: true; by: string; lease?: number; approval?: number }
    | { ok: false; status: "denied" | "timeout" | "cancelled"; reason: string; approval: number }

/** A form to show the person through MCP elicitation, and what they answered. */
export type Form = ElicitRequestFormParams
export interface Reply { action: "accept" | "decline" | "cancel"; content?: Record<string, unknown> }

/** What the gateway asks about one call. */
export interface Ask {
    decision: policy.Decision
    client: string
    /** the arguments, already scrubbed */
    arguments: Record<string, unknown> | undefined
    /** asks the person through MCP elicitation; undefined when the client cannot */
    elicit?: (form: Form, signal: AbortSignal, timeout: number) => Promise<Reply>
    /** the client cancelled the call */
    signal: AbortSignal
}

/** How often a waiting call looks for an answer given by another process (`mcplexer approve`). */
export const pollInterval = 200
/** How often the holder of leases looks for revocations. */
export const revokeInterval = 500
// what `mcplexer approvals` shows of the arguments
const maxArguments = 2000

/** Approvals, newest first: the pending ones, or with `all` the last hundred of any status. */
export function approvals(s: store.Store, o: { all?: boolean } = {}): Approval[] {
    return store.approvals.list(s, o.all) as Approval[]
}

/** One approval by id, or undefined. */
export function approval(s: store.Store, id: number): Approval | undefined {
    return store.approvals.get(s, id) as Approval | undefined
}

/** Leases in force (not expired, not revoked), newest first; with `all`, the last hundred of any state. */
export function leases(s: store.Store, o: { all?: boolean; now?: number } = {}): Lease[] {
    return store.approvals.leased(s, o)
}

/**
 * Answers a pending approval (from `mcplexer approve`/`deny` or the web UI). Approving approves
 * that call only; with `lease` (ms, at most the approval's `leaseMax`) it also grants a lease, so
 * that later calls of the same workspace, server and scope run without asking (calls already
 * waiting still wait for their own answer). Returns the approval as it now stands; `changed` is
 * false when it was no longer pending (answered, or gave up waiting).
 */
export function answer(s: store.Store, id: number, o: { approve: boolean; by: string; reason?: string; lease?: number }): { approval?: Approval; changed: boolean; lease?: Lease } {
    return store.atomic(s, () => {
        const before = approval(s, id)
        if (o.approve && o.lease !== undefined && before?.status === "pending" && o.lease > before.leaseMax) {
            throw config.hinted(before.leaseMax > 0
                ? `approval ${id} allows a lease of at most ${config.span(before.leaseMax)}, not ${config.span(o.lease)}`
                : `approval ${id} allows no lease: its route sets lease: 0, so every call asks`, before.leaseMax > 0 ? `approve it with --for ${config.span(before.leaseMax)} or less, or without --for for this call only` : "approve it without --for")
        }
        if (!store.approvals.decide(s, id, { status: o.approve ? "approved" : "denied", reason: o.reason ?? null, by: o.by })) return { approval: before, changed: false }
        store.audit.add(s, { action: "approval", actor: o.by, status: o.approve ? "approved" : "denied", detail: { id, ...(o.reason === undefined ? {} : { reason: o.reason }) } })
        const after = approval(s, id)
        const lease = o.approve && o.lease !== undefined && o.lease > 0 && after ? grant(s, after, o.lease, o.by) : undefined
        return { approval: after, changed: true, ...(lease ? { lease } : {}) }
    })
}

/** Grants a lease chosen by the person answering `a`, and audits it. */
function grant(s: store.Store, a: Approval, ms: number, by: string): Lease {
    const now = Date.now()
    const lease = store.approvals.grant(s, { workspace: a.workspace, server: a.server, scope: a.scope, approval: a.id, createdAt: new Date(now), expiresAt: new Date(now + ms) })
    store.audit.add(s, {
        action: "lease", actor: by, tool: a.tool, server: a.server, scope: a.scope || undefined, workspace: a.workspace || undefined,
        status: "granted", detail: { lease: lease.id, approval: a.id, expires: now + ms },
    })
    return lease
}

/** Ends a lease now; the serve process holding it stops the instance that runs with those credentials. */
export function revoke(s: store.Store, id: number, by: string): { lease?: Lease; changed: boolean } {
    return store.atomic(s, () => {
        const { changed, lease } = store.approvals.revoke(s, id, by)
        if (changed && lease) {
            store.audit.add(s, { action: "revoke", actor: by, server: lease.server, scope: lease.scope || undefined, status: "ok", detail: { lease: id, workspace: lease.workspace } })
        }
        return { ...(lease ? { lease } : {}), changed }
    })
}

function q(s: string): string {
    return JSON.stringify(s)
}

/** What the person is shown: the tool, server, scope, workspace and the (scrubbed) arguments. */
export function message(d: policy.Decision, args: string, id: number): string {
    const where = [`server ${q(d.server)}`, d.scope === undefined ? "no scope" : `scope ${q(d.scope)}`, ...(d.workspace ? [`workspace ${q(d.workspace)}`] : [])]
    const lasts = d.lease > 0 ? `an approval covers this call only, unless you choose to let every call to this server and scope run without asking for ${config.span(d.lease)}`
        : "an approval covers this call only"
    return `allow the tool ${q(d.tool)} to run? (${where.join(", ")})\narguments: ${args}\n${lasts}\n(or from a terminal: mcplexer approve ${id}${d.lease > 0 ? ` [--for ${config.span(d.lease)}]` : ""})`
}

// the elicitation form's one field: an approval covers the call, or the call and a lease
const choice = "for"

/** The elicitation form: the message, and when the route allows a lease, the choice of one (this call only by default). */
export function form(d: policy.Decision, args: string, id: number): Form {
    const properties: Record<string, PrimitiveSchemaDefinition> = d.lease <= 0 ? {} : {
        [choice]: {
            type: "string", title: "approve", default: "call",
            oneOf: [{ const: "call", title: "this call only" }, { const: "lease", title: `this call, and every call to this server and scope for ${config.span(d.lease)}` }],
        },
    }
    return { message: message(d, args, id), requestedSchema: { type: "object", properties } }
}

/** What a waiting call tells the log (and `mcplexer call` its terminal): how to answer it. */
export function waiting(d: policy.Decision, client: string, id: number): string {
    const lease = d.lease > 0 ? ` (add --for ${config.span(d.lease)} to let calls to server ${q(d.server)} run without asking that long)` : ""
    return `${client}'s call to ${q(d.tool)} waits for approval ${id}: approve it with mcplexer approve ${id}${lease}, or refuse it with mcplexer deny ${id}`
}

type Outcome = { status: "approved" | "denied" | "expired" | "cancelled"; by: string; reason?: string; lease?: boolean }

/**
 * The approvals of one serve process: asks the person (elicitation, or a pending row the CLI
 * answers), grants leases, and stops the instance behind a lease revoked from anywhere.
 */
export class Approvals {
    private readonly s: store.Store
    private readonly trail: Trail
    private readonly stop: (server: string, scope: string | undefined, why: string) => void
    private readonly tell: (message: string) => void
    // leases this process relied on, to notice their revocation
    private readonly held = new Map<number, { server: string; scope: string; expires: number }>()
    private timer: NodeJS.Timeout | undefined

    /** `stop` ends the instance behind a revoked lease; `tell` says how to answer a call that starts waiting. */
    constructor(s: store.Store, trail: Trail, stop: (server: string, scope: string | undefined, why: string) => void, tell: (message: string) => void) {
        this.s = s
        this.trail = trail
        this.stop = stop
        this.tell = tell
    }

    /** The id of a lease in force for (workspace, server, scope), or undefined. */
    leased(workspace: string, server: string, scope: string, now = Date.now()): number | undefined {
        const r = store.approvals.covering(this.s, workspace, server, scope, now)
        if (r === undefined) return undefined
        this.hold(r.id, server, scope, r.expiresAt.getTime())
        return r.id
    }

    /** Waits for the person's answer (never blocking other calls) and grants a lease when approved. */
    async ask(a: Ask): Promise<Answer> {
        const d = a.decision
        const scope = d.scope ?? ""
        const lease = this.leased(d.workspace, d.server, scope)
        if (lease !== undefined) return { ok: true, by: "lease", lease }
        let args = JSON.stringify(a.arguments ?? {})
        if (args.length > maxArguments) args = `${args.slice(0, maxArguments)}…`
        const now = Date.now()
        const id = store.approvals.ask(this.s, {
            createdAt: new Date(now), expiresAt: new Date(now + d.approvalTimeout), client: a.client, workspace: d.workspace, tool: d.tool, server: d.server,
            scope, route: d.route, arguments: args, status: "pending", pid: process.pid, leaseMax: Math.max(0, d.lease),
        })
        const base = { actor: a.client, tool: d.tool, server: d.server, scope: d.scope, workspace: d.workspace, route: d.route }
        this.trail.add({ ...base, action: "approval", status: "pending", detail: { id } })
        this.tell(waiting(d, a.client, id))
        const outcome = await this.wait(id, a, d, args)
        const final = this.settle(id, outcome)
        this.trail.add({ ...base, action: "approval", status: final.status, detail: { id, by: final.by, ...(final.reason === undefined ? {} : { reason: final.reason }) } })
        if (final.status !== "approved") {
            const status = final.status === "expired" ? "timeout" : final.status
            const reason = final.status === "expired" ? `no answer within ${Math.round(d.approvalTimeout / 1000)}s`
                : final.status === "cancelled" ? "the client cancelled the call" : final.reason ?? `denied by ${final.by}`
            return { ok: false, status, reason, approval: id }
        }
        // a lease exists only when the person chose one: in the form, or with approve --for (which granted it already)
        const granted = store.atomic(this.s, () => {
            if (final.lease !== true || d.lease <= 0) return store.approvals.leaseOf(this.s, id)
            const a = approval(this.s, id)
            return a && grant(this.s, a, d.lease, final.by)
        })
        if (granted === undefined) return { ok: true, by: final.by, approval: id }
        this.hold(granted.id, granted.server, granted.scope, granted.expiresAt.getTime())
        return { ok: true, by: final.by, lease: granted.id, approval: id }
    }

    /** Stops watching for revocations. */
    close(): void {
        if (this.timer !== undefined) clearInterval(this.timer)
        this.timer = undefined
        this.held.clear()
    }

    private wait(id: number, a: Ask, d: policy.Decision, args: string): Promise<Outcome> {
        return new Promise<Outcome>(done => {
            const ac = new AbortController()
            let finished = false
            const finish = (o: Outcome) => {
                if (finished) return
                finished = true
                clearTimeout(timeout)
                clearInterval(poll)
                a.signal.removeEventListener("abort", cancelled)
                ac.abort()
                done(o)
            }
            const cancelled = () => { finish({ status: "cancelled", by: a.client }) }
            const timeout = setTimeout(() => { finish({ status: "expired", by: "timeout" }) }, d.approvalTimeout)
            const poll = setInterval(() => {
                try {
                    // only this call's own answer ends the wait: a lease granted meanwhile covers later
                    // calls, never one already waiting, which the person has not seen approved
                    const r = approval(this.s, id)
                    if (r !== undefined && r.status !== "pending") {
                        finish({ status: r.status, by: r.decidedBy ?? "", ...(r.reason === null ? {} : { reason: r.reason }) })
                    }
                } catch {
                    // the database is busy: look again next time
                }
            }, pollInterval)
            if (a.signal.aborted) cancelled()
            else a.signal.addEventListener("abort", cancelled)
            a.elicit?.(form(d, args, id), ac.signal, d.approvalTimeout).then(r => {
                if (r.action === "accept") finish({ status: "approved", by: a.client, lease: r.content?.[choice] === "lease" })
                else finish({ status: "denied", by: a.client, reason: r.action === "decline" ? `declined by ${a.client}` : `dismissed by ${a.client}` })
            }, () => { /* no answer through the client (it failed or was aborted): the store may still answer */ })
        })
    }

    /** Records the outcome unless another process answered first; returns what stands. */
    private settle(id: number, o: Outcome): Outcome {
        const status = o.status === "cancelled" ? "expired" : o.status
        if (store.approvals.decide(this.s, id, { status, reason: o.reason ?? (o.status === "cancelled" ? "the client cancelled the call" : null), by: o.by })) return o
        const r = approval(this.s, id)
        if (r === undefined || r.status === "pending") return o
        return { status: r.status, by: r.decidedBy ?? "", ...(r.reason === null ? {} : { reason: r.reason }) }
    }

    private hold(id: number, server: string, scope: string, expires: number): void {
        if (this.held.has(id)) return
        this.held.set(id, { server, scope, expires })
        if (this.timer !== undefined) return
        this.timer = setInterval(() => { this.check() }, revokeInterval)
        this.timer.unref()
    }

    private check(): void {
        const now = Date.now()
        for (const [id, h] of this.held) if (h.expires <= now) this.held.delete(id)
        if (this.held.size === 0) {
            clearInterval(this.timer)
            this.timer = undefined
            return
        }
        let revoked: number[]
        try {
            const ids = [...this.held.keys()]
            revoked = store.approvals.revoked(this.s, ids)
        } catch {
            return
        }
        for (const id of revoked) {
            const h = this.held.get(id)
            this.held.delete(id)
            if (h === undefined) continue
            this.stop(h.server, h.scope || undefined, `was stopped because lease ${id} was revoked`)
        }
    }
}
