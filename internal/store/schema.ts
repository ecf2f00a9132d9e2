/**
 * The tables of mcplexer's database. Times are Unix milliseconds (drizzle maps them to Date).
 * A change here becomes a migration with `npx drizzle-kit generate`; never edit migrations/ by hand.
 */
import { sql } from "drizzle-orm"
import { blob, index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core"

/**
 * One age ciphertext per (scope, key); `recipient` is the public key it was encrypted to. `mac`
 * authenticates the row (scope, key, ciphertext) with a key derived from the identity, so that a
 * row encrypted to the public recipient by someone without the identity is refused; NULL on a row
 * written by 0.1, before it existed (see secrets/rotate.ts, upgrade, and `meta`).
 */
export const secrets = sqliteTable("secrets", {
    scope: text("scope").notNull(),
    key: text("key").notNull(),
    recipient: text("recipient").notNull(),
    ciphertext: blob("ciphertext", { mode: "buffer" }).notNull(),
    mac: blob("mac", { mode: "buffer" }),
    /**
     * The id of the scope's key (`scope_keys.id`) when the MAC is keyed by it and the ciphertext is
     * also encrypted to that scope's recipients; NULL when the MAC is keyed from the identity and
     * the ciphertext is encrypted to it alone (a scope shared with no one).
     */
    scopeKey: text("scope_key"),
    /** when the value stops being valid, as its owner said (`secret put --expires`); NULL: never said */
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
}, t => [
    primaryKey({ columns: [t.scope, t.key] }),
    // lets the vault learn which key the rows need from the index alone (min and max), without a scan
    index("secrets_recipient").on(t.recipient),
])

/**
 * The MAC key of each shared scope (secrets/share.ts): 32 random bytes in an age file encrypted to
 * the identity (`owner`) and to each of the scope's `recipients` (space-separated, sorted), so
 * whoever can decrypt the scope's rows can verify them. `tag` is the owner's HMAC (keyed from its
 * identity) over scope, owner, recipients and ciphertext: only the owner can make it, so a key
 * substituted by someone who can merely write the database is refused by the owner. `id` is a
 * digest of the ciphertext, which each row names (`secrets.scope_key`).
 */
export const scopeKeys = sqliteTable("scope_keys", {
    scope: text("scope").primaryKey(),
    id: text("id").notNull(),
    owner: text("owner").notNull(),
    recipients: text("recipients").notNull(),
    ciphertext: blob("ciphertext", { mode: "buffer" }).notNull(),
    tag: blob("tag", { mode: "buffer" }).notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
})

/**
 * Facts about the database itself, one row per name. `authenticated` (Unix ms, as text) is when
 * the store began to hold a MAC on every row: a row without one after that was tampered with, and
 * `key upgrade` never adopts it (see meta.ts). A new database has it from its first migration; one
 * from 0.1 gets it once `key upgrade` has vouched for its rows.
 */
export const meta = sqliteTable("meta", {
    name: text("name").primaryKey(),
    value: text("value").notNull(),
})

/** Who did what, where and when; never a secret value. */
export const audit = sqliteTable("audit", {
    id: integer("id").primaryKey({ autoIncrement: true }),
    time: integer("time", { mode: "timestamp_ms" }).notNull(),
    action: text("action").notNull(),
    actor: text("actor").notNull(),
    scope: text("scope"),
    key: text("key"),
    server: text("server"),
    tool: text("tool"),
    status: text("status"),
    detail: text("detail", { mode: "json" }).$type<Record<string, unknown>>(),
    /** the workspace a tool call was decided in ("" for none) */
    workspace: text("workspace"),
    /** the route that decided a tool call, e.g. "acme#2" or "default" */
    route: text("route"),
    /** ms a tool call took */
    latency: integer("latency"),
}, t => [
    // retention deletes by time
    index("audit_time").on(t.time),
])

/** The last catalog each downstream server announced, so tools/list can answer without starting it. */
export const catalog = sqliteTable("catalog", {
    server: text("server").primaryKey(),
    fingerprint: text("fingerprint").notNull(),
    tools: text("tools", { mode: "json" }).$type<unknown[]>().notNull().default(sql`'[]'`),
    prompts: text("prompts", { mode: "json" }).$type<unknown[]>().notNull().default(sql`'[]'`),
    resources: text("resources", { mode: "json" }).$type<unknown[]>().notNull().default(sql`'[]'`),
    templates: text("templates", { mode: "json" }).$type<unknown[]>().notNull().default(sql`'[]'`),
    capabilities: text("capabilities", { mode: "json" }).$type<Record<string, unknown>>(),
    instructions: text("instructions"),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
})

/** Live state of each (server, scope) instance, written by `serve` for `mcplexer status` in another process. */
export const instances = sqliteTable("instances", {
    server: text("server").notNull(),
    scope: text("scope").notNull().default(""),
    state: text("state").notNull(),
    pid: integer("pid"),
    /** the process running the pool (serve, call, tools): a row whose owner is gone is stale */
    owner: integer("owner"),
    restarts: integer("restarts").notNull().default(0),
    lastError: text("last_error"),
    startedAt: integer("started_at", { mode: "timestamp_ms" }),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
}, t => [
    primaryKey({ columns: [t.server, t.scope] }),
])

/**
 * A tool call waiting for a person's yes or no (`mcplexer approvals`, `approve`, `deny`). `arguments`
 * holds the call's arguments already scrubbed by the redaction registry, for the person to judge.
 */
export const approvals = sqliteTable("approvals", {
    id: integer("id").primaryKey({ autoIncrement: true }),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    /** when the waiting call gives up */
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
    client: text("client"),
    workspace: text("workspace").notNull().default(""),
    tool: text("tool").notNull(),
    server: text("server").notNull(),
    scope: text("scope").notNull().default(""),
    route: text("route"),
    arguments: text("arguments"),
    /** pending, approved, denied, expired */
    status: text("status").notNull(),
    reason: text("reason"),
    decidedBy: text("decided_by"),
    decidedAt: integer("decided_at", { mode: "timestamp_ms" }),
    /** the serve process that waits for the answer */
    pid: integer("pid"),
    /** the longest lease (ms) the route lets an answer grant with this call; 0: none, every call asks */
    leaseMax: integer("lease_max").notNull().default(0),
}, t => [
    index("approvals_status").on(t.status),
])

/** What an approval grants: calls for one (workspace, server, scope) run without asking until it expires or is revoked. */
export const leases = sqliteTable("leases", {
    id: integer("id").primaryKey({ autoIncrement: true }),
    workspace: text("workspace").notNull().default(""),
    server: text("server").notNull(),
    scope: text("scope").notNull().default(""),
    approval: integer("approval"),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
    revokedAt: integer("revoked_at", { mode: "timestamp_ms" }),
    revokedBy: text("revoked_by"),
}, t => [
    index("leases_key").on(t.server, t.scope, t.workspace),
])

/**
 * Each tool's definition as a person last approved it, and as its server last presented it
 * (gateway/shape.ts): a tool whose two hashes differ is withheld until approved again.
 */
export const pins = sqliteTable("pins", {
    server: text("server").notNull(),
    /** the server's own name for the tool */
    tool: text("tool").notNull(),
    /** sha256 of the approved definition; null: never approved (a quarantined server's tool) */
    approvedHash: text("approved_hash"),
    approved: text("approved", { mode: "json" }).$type<Record<string, unknown>>(),
    seenHash: text("seen_hash").notNull(),
    seen: text("seen", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    /** when the definition seen last changed (or was first seen) */
    changedAt: integer("changed_at", { mode: "timestamp_ms" }).notNull(),
    approvedAt: integer("approved_at", { mode: "timestamp_ms" }),
    approvedBy: text("approved_by"),
}, t => [primaryKey({ columns: [t.server, t.tool] })])
