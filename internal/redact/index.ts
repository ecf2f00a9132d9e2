/**
 * Package redact keeps the set of secret values that are live in this process and removes them,
 * in every form they can take, from anything about to leave it: strings, JSON-like objects and
 * streams. It never stores a value anywhere else, never logs, and never lets an error carry a value.
 */
export { type Registry, create } from "./registry.ts"
export { type Stream } from "./stream.ts"
export { failed, mask } from "./spans.ts"
export { minLength, tooShort } from "./forms.ts"
export { type Lines, lines, maxLine } from "./lines.ts"
