/**
 * Scratch folders for benchmarks and tests, gone when the process ends (each test file runs in a
 * process of its own). They hold age keys, API tokens and databases: a run of the test suite left
 * about 500 of them in the system's temporary folder before this.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const made: string[] = []
// on exit, however the run ends (bench/run.ts ends with process.exit, a failed run with an uncaught error)
process.on("exit", () => {
    for (const d of made) {
        try {
            rmSync(d, { recursive: true, force: true })
        } catch {
            // a folder a test made unreadable: left to the system's cleaner of its temporary folder
        }
    }
})

/** A fresh folder under the system's temporary one, removed when the process exits. */
export function temp(prefix = "mcplexer-"): string {
    const dir = mkdtempSync(join(tmpdir(), prefix))
    made.push(dir)
    return dir
}
