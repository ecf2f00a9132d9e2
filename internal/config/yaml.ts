import { createRequire } from "node:module"
import type * as Y from "yaml"

let lib: typeof Y | undefined

/**
 * The yaml package, loaded on first use: commands that need only `paths` (`secret get`) never
 * parse a config. `load` calls `preload` first, which imports the copy esbuild bundled into a
 * chunk of its own (one file, about 10 ms sooner than requiring the package's many files); a
 * caller of `parse` alone gets the package through require.
 */
export function yaml(): typeof Y {
    return lib ??= createRequire(import.meta.url)("yaml") as typeof Y
}

/** Loads the yaml package ahead of a `parse`. */
export async function preload(): Promise<void> {
    // a CommonJS package: its exports object is the default export, whoever bundled it
    const m = await import("yaml") as typeof Y & { default?: typeof Y }
    lib ??= m.default ?? m
}
