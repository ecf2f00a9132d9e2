/**
 * `churn.ts map|ids`: what a busy table of calls in flight (32 at a time, one added and one
 * removed per call) makes the young collections promote to the old generation, in bytes, printed.
 * Run in a process of its own: V8's heuristics (pretenuring, heap sizes) remember earlier runs.
 */
import v8 from "node:v8"
import { Ids } from "../../internal/downstream/ids.ts"

const table = process.argv[2] === "map" ? new Map<number, unknown>() : new Ids<unknown>()

// an idle moment: young collections pass while the table's storage stays as it is, so it is promoted
table.set(0, {})
let junk: unknown[] = []
for (let i = 0; i < 2_000_000; i++) {
    junk.push({ i })
    if (junk.length > 1000) junk = []
}
table.delete(0)

const profiler = new v8.GCProfiler()
profiler.start()
const live: number[] = []
for (let id = 1; id <= 300_000; id++) {
    table.set(id, { payload: new Array(16).fill(id) })
    live.push(id)
    if (live.length > 32) table.delete(live.shift()!)
}
let promoted = 0
for (const gc of profiler.stop().statistics) {
    if (gc.gcType !== "Scavenge") continue
    const old = (s: typeof gc.beforeGC) => s.heapSpaceStatistics.find(x => x.spaceName === "old_space")?.spaceUsedSize ?? 0
    promoted += old(gc.afterGC) - old(gc.beforeGC)
}
process.stdout.write(`${promoted}\n`)
