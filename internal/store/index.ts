/**
 * Package store owns mcplexer's SQLite database: the drizzle schema, opening it safely (0600 files,
 * WAL, a busy timeout), applying migrations/ so an older database upgrades itself, and every query:
 * each table's in one file (secrets.ts, shares.ts, audit.ts, catalog.ts, instances.ts, approvals.ts, meta.ts, pins.ts), in
 * drizzle, but for the two measured hot paths in hot.ts (`secret get`'s read, and the audit
 * insert every call through `serve` takes). It is a leaf: it knows nothing of secrets, age or
 * configuration, and never sees a decrypted value.
 *
 * `open` gives the whole store (drizzle, migrations applied). `connect` gives a raw connection
 * without loading drizzle, for `secret get` alone (hot.ts); `current` says whether it may be used
 * as it is. conn.ts is that part alone.
 */
export * from "./conn.ts"
export * as schema from "./schema.ts"
export { type Store, atomic, check, durable, open } from "./open.ts"
export * as secrets from "./secrets.ts"
export * as audit from "./audit.ts"
export * as catalog from "./catalog.ts"
export * as instances from "./instances.ts"
export * as approvals from "./approvals.ts"
export * as pins from "./pins.ts"
export * as meta from "./meta.ts"
export * as shares from "./shares.ts"
