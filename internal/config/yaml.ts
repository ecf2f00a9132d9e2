import { createRequire } from "node:module"
import type * as Y from "yaml"

let lib: typeof Y | undefined

/**
 * The yaml package, loaded on first use: it is a quarter of a CLI start, and commands that need only
 * `paths` (`secret get`) never parse a config.
 */
export function yaml(): typeof Y {
    return lib ??= createRequire(import.meta.url)("yaml") as typeof Y
}
