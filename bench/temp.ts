/** Scratch folders for benchmarks, gone when the process ends: a bench home holds an age key and an API token. */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const made: string[] = []
// on exit, however the run ends (run.ts ends with process.exit, a failed run with an uncaught error)
process.on("exit", () => {
    for (const d of made) rmSync(d, { recursive: true, force: true })
})

/** A fresh folder under the system's temporary one, removed when the process exits. */
export function temp(prefix = "mcplexer-bench-"): string {
    const dir = mkdtempSync(join(tmpdir(), prefix))
    made.push(dir)
    return dir
}
