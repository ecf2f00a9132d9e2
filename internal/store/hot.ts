/**
 * HOT PATH: the one measured place that bypasses drizzle, `mcplexer secret get`, which scripts run
 * once per value, in a process of its own. Measured on 2026-11-26 with
 * `farm-bench -n 21 --vs 'node -e 0' -- node dist/mcplexer.js secret get gh TOKEN` (medians, 2
 * cores): this way 0.106 s CPU (1.70x `node -e 0`), through the vault with drizzle 0.126 s CPU
 * (2.08x): about 20 ms a call, a third of what mcplexer adds to a bare node start. The audit
 * insert is the gateway's hot path too (audit.add says what it saves). These prepared
 * statements are the only raw SQL on our tables; everything else goes through the drizzle
 * queries of the table's own file (secrets.ts, audit.ts). Keep them in step with the schema.
 */
import type { Statement } from "better-sqlite3"
import { busyTimeout, guard, type Conn } from "./sqlite.ts"

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

/** A row as `secret get` reads it; `scopeKey` set: sealed under a shared scope's key (the vault's way). */
export interface Secret { recipient: string; ciphertext: Buffer; mac: Buffer | null; scopeKey: string | null }

const selects = new WeakMap<Conn, Statement<[string, string], Secret>>()
// per connection: the insert of one row, and (prepared on the first batch: `secret get` never
// writes one) the insert of a batch's worth
const inserts = new WeakMap<Conn, { one: Statement; many?: Statement }>()

// Rows per insert statement when there are that many: under load the gateway writes hundreds of
// rows at once (audit.add), and one statement for 32 of them cost 2.5 µs a row against 3.3 µs
// one at a time (2026-11-26: 200 000 rows through audit.add in batches of 500, three runs). The
// values go to run() as arguments, not as one array, which better-sqlite3 reads element by element
// through V8's slow property lookup: 2.3–2.5 µs a row against 2.9–3.1 (the same runs, later).
const batch = 32
const names = ["time", "action", "actor", "scope", "key", "server", "tool", "status", "workspace", "route", "latency", "detail"]
const width = names.length
const columns = `(${names.join(", ")})`
const placeholders = `(${names.map(() => "?").join(", ")})`
const insert = (rows: number) => `INSERT INTO audit ${columns} VALUES ${Array<string>(rows).fill(placeholders).join(", ")}`

/** HOT PATH (`secret get`): the recipient, ciphertext and MAC of (scope, key), as secrets.get reads them. */
export function secret(c: Conn, scope: string, key: string): Secret | undefined {
    return guard(c, () => {
        let q = selects.get(c)
        if (q === undefined) selects.set(c, q = c.sqlite.prepare("SELECT recipient, ciphertext, mac, scope_key AS scopeKey FROM secrets WHERE scope = ? AND key = ?"))
        return q.get(scope, key)
    })
}

/**
 * HOT PATH (`secret get`, and every audit row through audit.add): audit rows, in one transaction
 * when there are several. With `wait` (ms), another process's write lock is waited for that long
 * instead of the connection's busy timeout (audit.offer: the gateway's trail never blocks its
 * event loop for it).
 */
export function audit(c: Conn, rows: readonly AuditRow[], wait?: number): void {
    if (wait === undefined) return write(c, rows)
    // better-sqlite3 has no per-statement timeout: the connection's is lowered around this write
    // alone (synchronous, so nothing else of this process runs on the connection meanwhile)
    timeout(c, wait)
    try {
        write(c, rows)
    } finally {
        timeout(c, busyTimeout)
    }
}

const pragmas = new WeakMap<Conn, Map<number, Statement>>()

/**
 * Sets the connection's busy timeout (ms). Prepared once per value: `db.pragma()` prepares its
 * statement on every call, and a pair of them around each batch of audit rows cost 30–39 µs
 * against 10–11 µs prepared (2026-12-07, 100 000 pairs, on a loaded 2-core machine).
 */
export function timeout(c: Conn, ms: number): void {
    const at = Math.max(0, Math.floor(ms))
    let m = pragmas.get(c)
    if (m === undefined) pragmas.set(c, m = new Map<number, Statement>())
    let q = m.get(at)
    if (q === undefined) m.set(at, q = c.sqlite.prepare(`PRAGMA busy_timeout = ${at}`))
    q.get()
}

function write(c: Conn, rows: readonly AuditRow[]): void {
    guard(c, () => {
        let q = inserts.get(c)
        if (q === undefined) inserts.set(c, q = { one: c.sqlite.prepare(insert(1)) })
        const one = q.one
        const many = rows.length >= batch ? q.many ??= c.sqlite.prepare(insert(batch)) : undefined
        const now = Date.now()
        const all = () => {
            let i = 0
            if (many !== undefined) {
                const values = new Array<unknown>(batch * width)
                for (; i + batch <= rows.length; i += batch) {
                    for (let j = 0; j < batch; j++) fill(values, j * width, rows[i + j]!, now)
                    many.run(...values)
                }
            }
            const values = new Array<unknown>(width)
            for (; i < rows.length; i++) {
                fill(values, 0, rows[i]!, now)
                one.run(...values)
            }
        }
        if (rows.length === 1) all()
        else c.sqlite.transaction(all)()
    })
}

/** Puts the values of one row into `v` from `at` on, in the order of `names`. */
function fill(v: unknown[], at: number, r: AuditRow, now: number): void {
    v[at] = r.time ?? now
    v[at + 1] = r.action
    v[at + 2] = r.actor
    v[at + 3] = r.scope ?? null
    v[at + 4] = r.key ?? null
    v[at + 5] = r.server ?? null
    v[at + 6] = r.tool ?? null
    v[at + 7] = r.status ?? null
    v[at + 8] = r.workspace ?? null
    v[at + 9] = r.route ?? null
    v[at + 10] = r.latency ?? null
    v[at + 11] = r.detail === undefined ? null : JSON.stringify(r.detail)
}
