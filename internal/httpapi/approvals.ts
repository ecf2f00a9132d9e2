import * as gateway from "../gateway/index.ts"
import type * as store from "../store/index.ts"

/** A tool call waiting for a person's yes or no, as the API and UI show it (arguments already scrubbed). */
export interface Pending {
    id: number
    createdAt: Date
    expiresAt: Date
    client?: string
    workspace: string
    tool: string
    server: string
    scope: string
    arguments?: string
    /** the longest lease (ms) an answer may grant with this call; 0: none */
    leaseMax: number
}

/** The approval queue as the API and UI use it; the gateway owns what an answer does. */
export interface Approvals {
    pending(): Pending[]
    /**
     * Answers one pending call; false when it is no longer pending (answered elsewhere, or expired).
     * `lease` (ms, or "max" for the route's longest) also grants a lease for later calls; without it
     * the approval covers this call only.
     */
    decide(id: number, answer: "approve" | "deny", by: string, lease?: number | "max", reason?: string): boolean
    /** The leases in force, newest first. */
    leases(): Lease[]
    /** Ends a lease now; false when it had already ended. */
    revoke(id: number, by: string): boolean
}

/** A lease in force: later calls of this workspace, server and scope run without asking until it ends. */
export interface Lease { id: number; workspace: string; server: string; scope: string; createdAt: Date; expiresAt: Date }

/**
 * The queue the gateway keeps in the store's `approvals` table, which every process shares: the
 * waiting `serve` sees an answer written here as it sees one from `mcplexer approve`.
 */
export function fromStore(s: store.Store): Approvals {
    return {
        pending() {
            const now = Date.now()
            return gateway.approvals(s).filter(a => a.expiresAt.getTime() > now).reverse().map(a => ({
                id: a.id, createdAt: a.createdAt, expiresAt: a.expiresAt, workspace: a.workspace, tool: a.tool, server: a.server, scope: a.scope, leaseMax: a.leaseMax,
                ...(a.client === null ? {} : { client: a.client }),
                ...(a.arguments === null ? {} : { arguments: a.arguments }),
            }))
        },
        decide(id, answer, by, lease, reason) {
            const ms = lease === "max" ? gateway.approval(s, id)?.leaseMax : lease
            const why = reason?.trim() ? { reason: reason.trim().slice(0, 500) } : {}
            return gateway.answer(s, id, { approve: answer === "approve", by, ...why, ...(answer === "approve" && ms ? { lease: ms } : {}) }).changed
        },
        leases() {
            return gateway.leases(s).map(l => ({ id: l.id, workspace: l.workspace, server: l.server, scope: l.scope, createdAt: l.createdAt, expiresAt: l.expiresAt }))
        },
        revoke(id, by) {
            return gateway.revoke(s, id, by).changed
        },
    }
}
