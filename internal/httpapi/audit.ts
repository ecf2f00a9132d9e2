/**
 * The audit trail as the console and the REST API read it: the filters of a query string (exact
 * names or globs for server, tool, scope, status, action and actor; a time range; a cursor for
 * paging), the rows they select, and the CSV a person opens in a spreadsheet. One selection for
 * the page, the JSON and the CSV, so an export holds exactly what the page showed.
 */
import type { Context } from "hono"
import picomatch from "picomatch"
import * as config from "../config/index.ts"
import * as store from "../store/index.ts"
import type { Env } from "./auth.ts"
import type { Reply } from "./reply.ts"

/** One stored audit row. */
export type Row = store.audit.Stored

/** What the audit may be filtered by. */
export interface Filter {
    action?: string; actor?: string; server?: string; scope?: string; tool?: string; status?: string
    /** time at or after, ms since the epoch */
    since?: number
    /** time before, ms since the epoch */
    until?: number
    /** rows older than this id (paging: the last id of the page before) */
    before?: number
    limit?: number
}

const columns = ["action", "actor", "server", "scope", "tool", "status"] as const
// rows read per round when a glob or an end time is filtered here rather than in SQL, and at most this many in all
const batch = 500
const scanCap = 50_000

/**
 * The filter of a query string. Times are ISO 8601 or ms since the epoch; a form's
 * `datetime-local` value (no zone) is read in the zone whose offset `tz` gives (minutes, as the
 * browser's getTimezoneOffset says), UTC without it. A value that is not a time is the person's
 * error, said with the form to use.
 */
export function filter(q: Record<string, string | undefined>, o: { max: number; fallback: number }): Filter {
    const n = (v: string | undefined) => v === undefined || v.trim() === "" || !Number.isFinite(Number(v)) ? undefined : Number(v)
    const tz = n(q.tz) ?? 0
    const time = (name: string): number | undefined => {
        const v = q[name]?.trim()
        if (v === undefined || v === "") return undefined
        if (/^\d+$/.test(v)) return Number(v)
        const local = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(v)
        const ms = Date.parse(local ? `${v}Z` : v)
        if (!Number.isFinite(ms)) throw config.hinted(`invalid ${name} ${JSON.stringify(v)}`, "write a time such as 2025-01-31T14:00 or 2025-01-31T14:00:00Z", { kind: "input" })
        return local ? ms + tz * 60_000 : ms
    }
    const f: Filter = { since: time("since") ?? time("from"), until: time("until") ?? time("to"), before: n(q.before), limit: Math.max(1, Math.min(o.max, Math.floor(n(q.limit) ?? o.fallback))) }
    for (const k of columns) {
        const v = q[k]?.trim()
        if (v) f[k] = v
    }
    return f
}

const globbed = (v: string) => /[*?[\]{}!]/.test(v)

/** The rows `f` selects, newest first, at most `f.limit`; `more` when older ones match too. */
export function select(s: store.Store, f: Filter): { rows: Row[]; more: boolean } {
    const limit = f.limit ?? 100
    const exact: store.audit.Filter = { ...(f.since === undefined ? {} : { since: f.since }) }
    const tests: Array<(r: Row) => boolean> = []
    for (const k of columns) {
        const v = f[k]
        if (v === undefined) continue
        if (!globbed(v)) {
            exact[k] = v
            continue
        }
        const m = picomatch(v, { dot: true })
        tests.push(r => m(r[k] ?? ""))
    }
    if (f.until !== undefined) {
        const until = f.until
        tests.push(r => r.time.getTime() < until)
    }
    if (tests.length === 0) {
        const rows = store.audit.newest(s, { ...exact, ...(f.before === undefined ? {} : { before: f.before }) }, limit + 1)
        return { rows: rows.slice(0, limit), more: rows.length > limit }
    }
    const out: Row[] = []
    let before = f.before, scanned = 0
    for (;;) {
        const rows = store.audit.newest(s, { ...exact, ...(before === undefined ? {} : { before }) }, batch)
        for (const r of rows) {
            if (!tests.every(t => t(r))) continue
            if (out.length === limit) return { rows: out, more: true }
            out.push(r)
        }
        scanned += rows.length
        if (rows.length < batch || scanned >= scanCap) return { rows: out, more: rows.length === batch }
        before = rows[rows.length - 1]!.id
    }
}

const header = ["id", "time", "action", "actor", "server", "tool", "scope", "key", "workspace", "route", "status", "latency_ms", "detail"]

/**
 * The rows as CSV (RFC 4180, CRLF). A cell that a spreadsheet would run as a formula (it starts
 * with =, +, -, @, a tab or a carriage return) gets a leading apostrophe: a tool's name comes
 * from a server, and is no formula.
 */
export function csv(rows: Row[]): string {
    const cell = (v: unknown): string => {
        let s = v === null || v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v)
        if (typeof v !== "number" && /^[=+\-@\t\r]/.test(s)) s = `'${s}`
        return /[",\r\n]/.test(s) ? `"${s.replaceAll("\"", "\"\"")}"` : s
    }
    const line = (r: Row) => [r.id, r.time.toISOString(), r.action, r.actor, r.server, r.tool, r.scope, r.key, r.workspace, r.route, r.status, r.latency, r.detail ?? ""].map(cell).join(",")
    return [header.join(","), ...rows.map(line)].join("\r\n") + "\r\n"
}

/** The rows a query string selects (up to 10,000) as a CSV or JSON file to download, through the scrubbing responder. */
export function exported(c: Context<Env>, s: store.Store, reply: Reply, format: "csv" | "json"): Response {
    const { rows } = select(s, filter(c.req.query(), { max: 10_000, fallback: 1000 }))
    c.header("Content-Disposition", `attachment; filename="mcplexer-audit.${format}"`)
    if (format === "json") return reply.json(c, rows)
    // scrubbed as rows first (CSV quoting must not hide a value), and as text once made
    return c.body(reply.text(csv(reply.clean(rows))), 200, { "Content-Type": "text/csv; charset=utf-8" })
}
