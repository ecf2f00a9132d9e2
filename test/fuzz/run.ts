// npm run fuzz [-- --seconds N] [--seed N] [--only NAME]: every trust boundary's properties for
// a time budget shared among them, with one seed, printing what each tried; exit 1 on a failure,
// with the seed and the counterexample to replay it.
import { parseArgs } from "node:util"
import * as fc from "fast-check"
import { boundaries } from "./kit.ts"

const { values } = parseArgs({ options: { seconds: { type: "string", default: "300" }, seed: { type: "string" }, only: { type: "string" } } })
const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed)
const all = (await boundaries()).flatMap(b => b.properties.map(p => ({ ...p, name: `${b.boundary}: ${p.name}` })))
const chosen = values.only === undefined ? all : all.filter(p => p.name.includes(values.only!))
const share = Number(values.seconds) * 1000 / Math.max(1, chosen.length)
console.log(`fuzz: seed ${seed}, ${chosen.length} properties, ${Math.round(share / 1000)} s each`)
let failed = 0
for (const p of chosen) {
    const t0 = performance.now()
    const r = await fc.check(p.make() as fc.IRawProperty<unknown>, {
        seed, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: share, markInterruptAsFailure: false,
        ...(p.timeout ? { timeout: p.timeout } : {}),
    })
    const s = ((performance.now() - t0) / 1000).toFixed(1)
    if (r.failed) {
        failed++
        console.log(`FAIL ${p.name}: after ${r.numRuns} cases (${s} s), seed ${r.seed}, path ${r.counterexamplePath}`)
        console.log(`  counterexample: ${fc.stringify(r.counterexample)}`)
        if (r.errorInstance instanceof Error) console.log(`  ${r.errorInstance.message.split("\n")[0]}`)
    } else {
        console.log(`ok   ${p.name}: ${r.numRuns} cases in ${s} s`)
    }
}
process.exitCode = failed ? 1 : 0
