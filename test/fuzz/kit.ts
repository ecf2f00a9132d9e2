/**
 * The fuzzing harness's one shape: each trust boundary is a file beside this one (redact.ts,
 * config.ts, lines.ts, age.ts, http.ts…) whose default export is a list of properties. `npm test`
 * runs each with its small budget (fuzz.test.ts); `npm run fuzz` runs them for a time budget with
 * a seed and prints what it tried (run.ts).
 */
import { readdirSync } from "node:fs"
import { basename, dirname, join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import type * as fc from "fast-check"

/** One property at a trust boundary. */
export interface Property {
    name: string
    /** a fresh property (a factory, so each run starts from clean state) */
    make(): fc.IRawProperty<never> | fc.IRawProperty<unknown>
    /** runs in `npm test`: small, so the suite stays fast */
    runs: number
    /** per-run timeout in ms: a case slower than this is a failure (the "bounded time" properties) */
    timeout?: number
}

const here = dirname(fileURLToPath(import.meta.url))
const own = new Set(["kit.ts", "run.ts", "fuzz.test.ts"])

/** Every boundary file in this folder, by name, with its properties. */
export async function boundaries(): Promise<Array<{ boundary: string; properties: Property[] }>> {
    const files = readdirSync(here).filter(f => f.endsWith(".ts") && !own.has(f)).sort()
    return Promise.all(files.map(async f => {
        const m = await import(pathToFileURL(join(here, f)).href) as { default: Property[] }
        return { boundary: basename(f, ".ts"), properties: m.default }
    }))
}
