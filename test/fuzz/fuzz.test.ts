// The property tests of every trust boundary, each at the small budget its file gives (kit.ts);
// `npm run fuzz` runs the same properties for longer.
import { test } from "node:test"
import * as fc from "fast-check"
import { boundaries } from "./kit.ts"

for (const { boundary, properties } of await boundaries()) {
    for (const p of properties) {
        test(`${boundary}: ${p.name}`, async () => {
            await fc.assert(p.make() as fc.IRawProperty<unknown>, { numRuns: p.runs, ...(p.timeout ? { timeout: p.timeout } : {}) })
        })
    }
}
