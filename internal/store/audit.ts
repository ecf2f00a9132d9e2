import type Database from "better-sqlite3"
import { guard, type Conn } from "./sqlite.ts"

/** One audit event. `detail` is stored as JSON and never holds a secret value. */
export interface Row {
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

// audit rows are written on every secret read and in batches by serve: a prepared statement keeps that cheap
const inserts = new WeakMap<Conn, Database.Statement>()

/** Appends audit rows, several in one transaction; `detail` never holds a secret value. */
export function audit(s: Conn, ...rows: Row[]): void {
    guard(s, () => {
        let insert = inserts.get(s)
        if (insert === undefined) {
            insert = s.sqlite.prepare("INSERT INTO audit (time, action, actor, scope, key, server, tool, status, workspace, route, latency, detail) " +
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            inserts.set(s, insert)
        }
        const stmt = insert
        const now = Date.now()
        s.sqlite.transaction(() => {
            for (const r of rows) {
                stmt.run(r.time ?? now, r.action, r.actor, r.scope ?? null, r.key ?? null, r.server ?? null, r.tool ?? null, r.status ?? null,
                    r.workspace ?? null, r.route ?? null, r.latency ?? null, r.detail === undefined ? null : JSON.stringify(r.detail))
            }
        })()
    })
}
