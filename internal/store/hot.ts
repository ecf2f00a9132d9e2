/**
 * HOT PATH: the one measured place that bypasses drizzle, `mcplexer secret get`, which scripts run
 * once per value, in a process of its own. Measured on 2026-11-26 with
 * `farm-bench -n 21 --vs 'node -e 0' -- node dist/mcplexer.js secret get gh TOKEN` (medians, 2
 * cores): this way 0.106 s CPU (1.70x `node -e 0`), through the vault with drizzle 0.126 s CPU
 * (2.08x): about 20 ms a call, a third of what mcplexer adds to a bare node start. The audit
 * insert is the gateway's hot path too (audit.add says what it saves). These two prepared
 * statements are the only raw SQL on our tables; everything else goes through the drizzle
 * queries of the table's own file (secrets.ts, audit.ts). Keep them in step with the schema.
 */
import type { Statement } from "better-sqlite3"
import { guard, type Conn } from "./sqlite.ts"

/** One audit event to write. `detail` is stored as JSON and never holds a secret value. */
export interface AuditRow {
    action: string
    actor: string
    scope?: string
    key?: string
    server?: string
    tool?: string
    status?: string
    workspace?: string
    route?: string
    /** milliseconds the call took */
    latency?: number
    detail?: Record<string, unknown>
    /** when it happened (ms since the epoch); now when left out */
    time?: number
}

const selects = new WeakMap<Conn, Statement<[string, string], { recipient: string; ciphertext: Buffer; mac: Buffer | null }>>()
const inserts = new WeakMap<Conn, Statement>()

/** HOT PATH (`secret get`): the recipient, ciphertext and MAC of (scope, key), as secrets.get reads them. */
export function secret(c: Conn, scope: string, key: string): { recipient: string; ciphertext: Buffer; mac: Buffer | null } | undefined {
    return guard(c, () => {
        let q = selects.get(c)
        if (q === undefined) selects.set(c, q = c.sqlite.prepare("SELECT recipient, ciphertext, mac FROM secrets WHERE scope = ? AND key = ?"))
        return q.get(scope, key)
    })
}

/** HOT PATH (`secret get`, and every audit row through audit.add): audit rows, in one transaction when there are several. */
export function audit(c: Conn, rows: readonly AuditRow[]): void {
    guard(c, () => {
        let q = inserts.get(c)
        if (q === undefined) {
            inserts.set(c, q = c.sqlite.prepare("INSERT INTO audit (time, action, actor, scope, key, server, tool, status, workspace, route, latency, detail) " +
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"))
        }
        const insert = q
        const now = Date.now()
        const each = () => {
            for (const r of rows) {
                insert.run(r.time ?? now, r.action, r.actor, r.scope ?? null, r.key ?? null, r.server ?? null, r.tool ?? null, r.status ?? null,
                    r.workspace ?? null, r.route ?? null, r.latency ?? null, r.detail === undefined ? null : JSON.stringify(r.detail))
            }
        }
        if (rows.length === 1) each()
        else c.sqlite.transaction(each)()
    })
}
