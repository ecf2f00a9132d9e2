/**
 * Package cli is the command tree: it parses arguments, wires the other modules together, and owns
 * every line printed, every hint and every exit code.
 */
export { main } from "./main.ts"
