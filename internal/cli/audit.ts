import * as config from "../config/index.ts"
import * as store from "../store/index.ts"
import { exit, UsageError, type Output } from "./output.ts"
import { positive, table } from "./secret.ts"

/** What `mcplexer audit` needs. */
export interface AuditOptions {
    paths: config.Paths
    /** a duration back from now (1h, 7d) or a date (2026-01-31, an ISO time) */
    since?: string
    tool?: string
    scope?: string
    status?: string
    /** rows shown without --since (the most recent) */
    limit: number
    json: boolean
    follow: boolean
    /** ends --follow (default: SIGINT or SIGTERM) */
    signal?: AbortSignal
}

type Row = store.audit.Stored

/** How often --follow looks for new rows. */
export const followInterval = 300

function since(s: string, now: number): number {
    positive("--since", s, "a duration such as 30m, 24h or 7d (it counts back from now already) or a date (2026-01-31)")
    try {
        return now - config.duration(s)
    } catch {
        const t = Date.parse(s)
        if (Number.isNaN(t)) throw new UsageError(`invalid --since ${JSON.stringify(s)}`, "give a duration back from now (30m, 24h, 7d) or a date (2026-01-31, 2026-01-31T09:00:00Z)")
        return t
    }
}

function json(r: Row): string {
    return JSON.stringify({
        id: r.id, time: r.time.toISOString(), action: r.action, actor: r.actor, workspace: r.workspace, tool: r.tool, server: r.server,
        scope: r.scope, key: r.key, route: r.route, status: r.status, latency: r.latency, detail: r.detail,
    })
}

function detail(r: Row): string {
    if (r.detail === null) return ""
    const d = r.detail
    if (r.action === "call") {
        const args = Array.isArray(d.arguments) ? (d.arguments as string[]).join(",") : ""
        const rest = Object.entries(d).filter(([k]) => k !== "arguments").map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        return [`args=${args}`, ...rest].join(" ")
    }
    return Object.entries(d).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`).join(" ")
}

function cells(r: Row): string[] {
    return [r.time.toISOString(), r.action, r.actor, r.workspace || "-", r.tool ?? "-", r.server ?? "-",
        r.scope ?? "-", r.key ?? "-", r.route ?? "-", r.status ?? "-", r.latency === null ? "-" : `${r.latency}ms`, detail(r)]
}

const head = ["TIME", "ACTION", "ACTOR", "WORKSPACE", "TOOL", "SERVER", "SCOPE", "KEY", "ROUTE", "STATUS", "LATENCY", "DETAIL"]

/**
 * Prints the audit trail, oldest first: every tool call (argument names only), decryption,
 * approval, lease and revoke. With `follow`, keeps printing new rows until interrupted.
 */
export async function audit(o: AuditOptions, out: Output): Promise<number> {
    const filter: store.audit.Filter = {
        ...(o.since === undefined ? {} : { since: since(o.since, Date.now()) }),
        ...(o.tool === undefined ? {} : { tool: o.tool }),
        ...(o.scope === undefined ? {} : { scope: o.scope }),
        ...(o.status === undefined ? {} : { status: o.status }),
    }
    const s = store.open(o.paths.db)
    try {
        const rows = store.audit.query(s, filter, o.since === undefined ? { last: o.limit } : {})
        if (o.json) {
            for (const r of rows) out.out(json(r) + "\n")
        } else if (rows.length > 0) {
            out.out(table(head, rows.map(cells)))
        } else if (!o.follow) {
            out.info("no audit rows match")
        }
        if (!o.follow) return exit.ok
        let last = rows.at(-1)?.id ?? store.audit.last(s)
        const signal = o.signal ?? interrupted()
        while (!signal.aborted) {
            await new Promise<void>(done => {
                const t = setTimeout(done, followInterval)
                signal.addEventListener("abort", () => { clearTimeout(t); done() }, { once: true })
            })
            const fresh = store.audit.query(s, { ...filter, after: last })
            for (const r of fresh) out.out(o.json ? json(r) + "\n" : cells(r).join("  ") + "\n")
            last = fresh.at(-1)?.id ?? last
        }
        return exit.ok
    } finally {
        s.close()
    }
}

function interrupted(): AbortSignal {
    const ac = new AbortController()
    process.once("SIGINT", () => { ac.abort() })
    process.once("SIGTERM", () => { ac.abort() })
    return ac.signal
}
