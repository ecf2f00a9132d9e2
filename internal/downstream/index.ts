/**
 * Package downstream runs the servers behind mcplexer: one instance per (server, scope), started
 * lazily with the scope's secrets (decrypted then, and only then, and registered for redaction),
 * restarted with backoff, stopped when idle, its whole process group killed on close. It caches
 * each server's catalog in SQLite so listing never needs a start, and relays progress straight
 * from the transport. It hands on what the servers send as they sent it: scrubbing is the job of
 * each way out (the gateway's edge, the log writer), except the catalog cache and the status rows
 * it writes to SQLite itself, and a server's stderr, which it scrubs as one stream.
 */
export { pool } from "./pool.ts"
export { fingerprint } from "./catalog.ts"
export { backoff, drainGrace } from "./instance.ts"
export { duration } from "./calls.ts"
export { Failure } from "./failure.ts"
export { Ids } from "./ids.ts"
export { grace } from "./stdio.ts"
export { Reader, type Sink, Writer } from "./jsonl.ts"
export * as oauth from "./oauth.ts"
export { login, provider, type Target } from "./login.ts"
export type { Catalog, Hooks, Key, Logger, Pool, PoolOptions, Progress, RequestOptions, Signal, Status } from "./types.ts"
