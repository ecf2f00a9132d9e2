/** What each kind of name may look like; names are also the references between config entries. */
import { hinted } from "./error.ts"
export const names = {
    scope: /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/,
    // keys become environment variable names of stdio servers
    key: /^[A-Za-z_][A-Za-z0-9_]{0,127}$/,
    // no "_" at all, so a server name never contains the "__" that separates it from a tool name
    server: /^[A-Za-z0-9][A-Za-z0-9-]{0,31}$/,
    workspace: /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/,
}

const allowed = {
    scope: "a scope name is 1 to 64 letters, digits, \".\", \"_\" or \"-\", starting with a letter or digit",
    key: "a key name is 1 to 128 letters, digits or \"_\", not starting with a digit (it becomes an environment variable name)",
    server: "a server name is 1 to 32 letters, digits or \"-\", starting with a letter or digit (no \"_\": tools are exposed as server__tool)",
    workspace: "a workspace name is 1 to 64 letters, digits, \".\", \"_\" or \"-\", starting with a letter or digit",
}

/** Throws a plain Error carrying a `hint` (the allowed characters) when `name` is not a valid name of its kind. */
export function checkName(kind: keyof typeof names, name: string): void {
    if (names[kind].test(name)) return
    throw hinted(`invalid ${kind} name ${JSON.stringify(name)}`, allowed[kind])
}
