import * as config from "../config/index.ts"
import * as gateway from "../gateway/index.ts"
import * as store from "../store/index.ts"
import { exit, UsageError, type Output } from "./output.ts"
import { positive, table } from "./secret.ts"

/** What `mcplexer approvals` needs. */
export interface ListOptions { paths: config.Paths; leases: boolean; all: boolean; json: boolean }
/** What `approve`, `deny` and `revoke` need. */
export interface AnswerOptions { paths: config.Paths; id: string; reason?: string; for?: string | undefined }

// who answered, in the approvals table and the audit trail
const actor = "cli"

function id(s: string, what: string): number {
    const n = Number(s)
    if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`invalid ${what} id ${JSON.stringify(s)}`, `${what} ids are numbers: see them with mcplexer approvals${what === "lease" ? " --leases" : ""}`)
    return n
}

function ago(d: Date, now: number): string {
    const s = Math.round((d.getTime() - now) / 1000)
    const a = Math.abs(s)
    const t = a < 120 ? `${a}s` : a < 7200 ? `${Math.round(a / 60)}m` : `${Math.round(a / 3600)}h`
    return s >= 0 ? `in ${t}` : `${t} ago`
}

/** Lists pending approvals (or, with `leases`, the leases in force); `all` adds finished ones. */
export function list(o: ListOptions, out: Output): Promise<number> {
    const s = store.open(o.paths.db)
    try {
        const now = Date.now()
        if (o.leases) {
            const rows = gateway.leases(s, { all: o.all })
            if (o.json) out.out(JSON.stringify(rows, null, 2) + "\n")
            else if (rows.length === 0) out.info(o.all ? "no leases yet" : "no leases in force")
            else {
                out.out(table(["ID", "WORKSPACE", "SERVER", "SCOPE", "EXPIRES", "STATE"], rows.map(l => [
                    String(l.id), l.workspace || "-", l.server, l.scope || "-", ago(l.expiresAt, now),
                    l.revokedAt ? `revoked by ${l.revokedBy ?? "?"}` : l.expiresAt.getTime() <= now ? "expired" : "in force",
                ])))
            }
            return Promise.resolve(exit.ok)
        }
        const rows = gateway.approvals(s, { all: o.all })
        if (o.json) out.out(JSON.stringify(rows, null, 2) + "\n")
        else if (rows.length === 0) out.info(o.all ? "no approvals yet" : "no approvals pending")
        else {
            out.out(table(["ID", "TOOL", "SERVER", "SCOPE", "WORKSPACE", "CLIENT", "STATUS", "ASKED", "ARGUMENTS"], rows.map(a => [
                String(a.id), a.tool, a.server, a.scope || "-", a.workspace || "-", a.client ?? "-",
                a.status === "pending" ? `pending (gives up ${ago(a.expiresAt, now)})` : a.status, ago(a.createdAt, now), a.arguments ?? "",
            ])))
            if (!o.all) out.info("answer with: mcplexer approve <id>, or mcplexer deny <id> --reason …")
        }
        return Promise.resolve(exit.ok)
    } finally {
        s.close()
    }
}

function decide(o: AnswerOptions, out: Output, approve: boolean): Promise<number> {
    const n = id(o.id, "approval")
    const lease = o.for === undefined ? undefined : period(o.for)
    const s = store.open(o.paths.db)
    try {
        const r = gateway.answer(s, n, { approve, by: actor, ...(o.reason === undefined ? {} : { reason: o.reason }), ...(lease === undefined ? {} : { lease }) })
        if (r.approval === undefined) {
            throw config.hinted(`no approval ${n}`, "see the pending ones with: mcplexer approvals")
        }
        if (!r.changed) {
            const a = r.approval
            const how = a.status === "expired" ? "gave up waiting" : `was already ${a.status}${a.decidedBy ? ` by ${a.decidedBy}` : ""}`
            throw config.hinted(`approval ${n} (${JSON.stringify(a.tool)}) ${how}`, "see the pending ones with: mcplexer approvals")
        }
        out.info(`${approve ? "approved" : "denied"} ${n}: ${JSON.stringify(r.approval.tool)} on server ${JSON.stringify(r.approval.server)}` +
            (r.approval.scope ? ` with scope ${JSON.stringify(r.approval.scope)}` : ""))
        if (r.lease) {
            out.info(`lease ${r.lease.id}: calls to server ${JSON.stringify(r.lease.server)} run without asking until ${r.lease.expiresAt.toLocaleTimeString()} ` +
                `(end it sooner with: mcplexer revoke ${r.lease.id}); calls already waiting still wait for their own answer`)
        }
        return Promise.resolve(exit.ok)
    } finally {
        s.close()
    }
}

/** A --for duration as milliseconds, or a UsageError with the accepted forms. */
function period(text: string): number {
    positive("--for", text, "a duration such as 10m or 1h")
    let ms: number
    try {
        ms = config.duration(text)
    } catch (e) {
        throw new UsageError(`invalid --for ${JSON.stringify(text)}`, (e as { hint?: string }).hint ?? "e.g. --for 10m")
    }
    if (ms <= 0) throw new UsageError(`invalid --for ${JSON.stringify(text)}: a lease lasts longer than 0`, "leave --for out to approve this call only")
    return ms
}

/** Approves one pending call: the serve process waiting on it runs it; with `for`, a lease covers later calls too. */
export function approve(o: AnswerOptions, out: Output): Promise<number> {
    return decide(o, out, true)
}

/** Denies a pending call; the client gets a tool error with the reason, and nothing reaches the server. */
export function deny(o: AnswerOptions, out: Output): Promise<number> {
    return decide(o, out, false)
}

/** Ends a lease: the next call asks again, and the serve process holding it stops that instance. */
export function revoke(o: AnswerOptions, out: Output): Promise<number> {
    const n = id(o.id, "lease")
    const s = store.open(o.paths.db)
    try {
        const r = gateway.revoke(s, n, actor)
        if (r.lease === undefined) throw config.hinted(`no lease ${n}`, "see the leases in force with: mcplexer approvals --leases")
        if (!r.changed) throw config.hinted(`lease ${n} was already revoked`, "see the leases in force with: mcplexer approvals --leases")
        const l = r.lease
        out.info(`revoked lease ${n}: server ${JSON.stringify(l.server)}${l.scope ? ` with scope ${JSON.stringify(l.scope)}` : ""}` +
            `${l.workspace ? ` in workspace ${JSON.stringify(l.workspace)}` : ""}${l.expiresAt.getTime() <= Date.now() ? " (it had expired already)" : ""}`)
        return Promise.resolve(exit.ok)
    } finally {
        s.close()
    }
}
