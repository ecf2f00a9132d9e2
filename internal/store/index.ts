/**
 * Package store owns mcplexer's SQLite database: the drizzle schema, opening it safely (0600 files,
 * WAL, a busy timeout) and applying migrations/ so an older database upgrades itself. It is a leaf:
 * it knows nothing of secrets, age or configuration, and never sees a decrypted value.
 *
 * `open` gives the whole store (drizzle, migrations applied). `connect` gives a raw connection
 * without loading drizzle, for a process that starts to do one small thing (`secret get`);
 * `current` says whether it may be used as it is. conn.ts is that part alone.
 */
export * from "./conn.ts"
export * as schema from "./schema.ts"
export { type Store, open } from "./open.ts"
