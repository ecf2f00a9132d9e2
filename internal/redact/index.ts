/**
 * Package redact keeps the set of secret values that are live in this process and removes them
 * from anything about to leave it: strings, JSON-like objects and line streams. It never stores a
 * value anywhere else, and never logs.
 */
export { type Registry, type Stream, create, failed, mask, minLength } from "./registry.ts"
export { type Lines, lines, maxLine } from "./lines.ts"
