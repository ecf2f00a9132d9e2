import type Database from "better-sqlite3"
import { guard, type Store } from "./open.ts"

/** One audit event. `detail` is stored as JSON and never holds a secret value. */
export interface Row {
    action: string
    actor: string
    scope?: string
    key?: string
    server?: string
    tool?: string
    status?: string
    detail?: Record<string, unknown>
}

// audit rows are written on every secret read: a prepared statement keeps that cheap
const inserts = new WeakMap<Store, Database.Statement>()

/** Appends one audit row stamped with the current time; `detail` never holds a secret value. */
export function audit(s: Store, row: Row): void {
    guard(s, () => {
        let insert = inserts.get(s)
        if (insert === undefined) {
            insert = s.sqlite.prepare("INSERT INTO audit (time, action, actor, scope, key, server, tool, status, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
            inserts.set(s, insert)
        }
        insert.run(Date.now(), row.action, row.actor, row.scope ?? null, row.key ?? null, row.server ?? null, row.tool ?? null,
            row.status ?? null, row.detail === undefined ? null : JSON.stringify(row.detail))
    })
}
