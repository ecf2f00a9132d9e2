/**
 * Package clients knows the AI clients' own files: where each client keeps its MCP servers on
 * each platform, how to read them, which of their plaintext values are credentials, and how to
 * write mcplexer in as their one server. It reads and renders text only: storing a value in the
 * vault, writing config.yaml and asking the user belong to the cli.
 */
export { names, known, user, project, places, type Client, type Place, type Where } from "./where.ts"
export { read, type Found, type Input } from "./read.ts"
export { plan, safe, keyOf, type Plan, type Secret, type Prompt } from "./plan.ts"
export { judge, mask, entropy } from "./judge.ts"
export { install, entry, listed, servers, restore, self, type Launch } from "./write.ts"
export { diff } from "./diff.ts"
