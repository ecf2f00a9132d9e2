/**
 * Package search ranks tools for a task written in a person's words: BM25F over each tool's name
 * words, server, title, description and parameters, with stemming and a small table of synonyms
 * people use for the same action, and a modest boost for the tool whose name's verb does what the
 * request asks (write, read, list, update, delete, merge). It is pure: no I/O, no clock, no imports
 * of other internal modules, so the router, the CLI and the UI rank the same way. It also defines
 * the two tools that stand for the whole list in search mode.
 */
export { type Action, actionBoost, asks, performs } from "./action.ts"
export { type Index } from "./bm25.ts"
export { type Tool } from "./fields.ts"
export { type Hit, defaultLimit, index, query, rank, shapes } from "./rank.ts"
export { plain, related, relatedWeight, same, sameWeight } from "./synonyms.ts"
export { terms, words } from "./tokens.ts"
export { callTool, findLimit, findTools, tools } from "./meta.ts"
