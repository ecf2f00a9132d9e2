/**
 * Package downstream runs the servers behind mcplexer: one instance per (server, scope), started
 * lazily with the scope's secrets (decrypted then, and only then, and registered for redaction),
 * restarted with backoff, stopped when idle, its whole process group killed on close. It caches
 * each server's catalog in SQLite so listing never needs a start, and relays progress straight
 * from the transport. Every string it logs, throws or hands on is scrubbed first.
 */
export { pool } from "./pool.ts"
export { fingerprint } from "./catalog.ts"
export { backoff, drainGrace, duration } from "./instance.ts"
export { grace } from "./stdio.ts"
export { Reader, type Sink, Writer } from "./jsonl.ts"
export * as oauth from "./oauth.ts"
export { login, provider, type Target } from "./login.ts"
export type { Catalog, Hooks, Key, Logger, Pool, PoolOptions, Progress, RequestOptions, Signal, Status } from "./types.ts"
