/**
 * Package store owns mcplexer's SQLite database: the drizzle schema, opening it safely (0600 files,
 * WAL, a busy timeout) and applying migrations/ so an older database upgrades itself. It is a leaf:
 * it knows nothing of secrets, age or configuration, and never sees a decrypted value.
 */
export * as schema from "./schema.ts"
export { type Store, busyTimeout, guard, migrations, open } from "./open.ts"
export { type Row, audit } from "./audit.ts"
