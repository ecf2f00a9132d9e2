/**
 * The face of store without drizzle: a raw connection, its migration state, and the hot path of
 * `secret get` (hot.ts). esbuild splits the bundle by file, so a static import of index.ts would
 * load drizzle too; `secret get` (through secrets/read.ts) imports this instead.
 */
export { type Conn, busyTimeout, connect, current, guard, migrations } from "./sqlite.ts"
export * as hot from "./hot.ts"
