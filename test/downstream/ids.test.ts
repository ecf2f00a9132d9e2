import assert from "node:assert/strict"
import { execFileSync } from "node:child_process"
import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import { test } from "node:test"
import * as downstream from "../../internal/downstream/index.ts"
import { temp } from "../helpers.ts"

test("Ids keeps entries by request id, a number and its digits apart, through its renewals", () => {
    const ids = new downstream.Ids<string>()
    ids.set(1, "number")
    ids.set("1", "string")
    assert.equal(ids.get(1), "number")
    assert.equal(ids.get("1"), "string")
    assert.equal(ids.size, 2)
    assert.equal(ids.delete(2), false)
    // a call that outlives many thousands of others
    ids.set("long", "still here")
    for (let id = 2; id < 20_000; id++) {
        ids.set(id, `call ${id}`)
        assert.equal(ids.delete(id), true)
    }
    assert.equal(ids.get("long"), "still here")
    assert.deepEqual(ids.values(), ["number", "string", "still here"])
    ids.clear()
    assert.equal(ids.size, 0)
    assert.deepEqual(ids.values(), [])
})

test("a busy Ids does not drag the calls it held into the old generation, as a busy Map does", () => {
    const churn = (kind: string) => Number(execFileSync(process.execPath, ["--import", "tsx", join(import.meta.dirname, "churn.ts"), kind], { encoding: "utf8" }))
    const map = churn("map"), ids = churn("ids")
    // the control: on this V8, a Map's chain of tables promotes megabytes (11.8 MB when measured)
    assert.ok(map > 4e6, `a busy Map promoted only ${map} bytes: the V8 behaviour Ids avoids did not show`)
    assert.ok(ids < map / 4, `a busy Ids promoted ${ids} bytes, a busy Map ${map}`)
})

test("Ids renews its map before the per-call path is optimised, so no renewal throws that code away", async () => {
    // the shape of a call: add, look up, delete; V8 tiers up synchronously with these flags
    const script = join(temp(), "hot.ts")
    await writeFile(script, [
        `import { Ids } from ${JSON.stringify(join(import.meta.dirname, "..", "..", "internal", "downstream", "ids.ts"))}`,
        "const ids = new Ids<{ n: number }>()",
        "function call(n: number): number {",
        "    ids.set(n, { n })",
        "    const v = ids.get(n)",
        "    ids.delete(n)",
        "    return v?.n ?? 0",
        "}",
        "let sum = 0",
        "for (let i = 0; i < 30_000; i++) sum += call(i)",
        "process.stdout.write(String(sum))",
    ].join("\n"))
    const out = execFileSync(process.execPath, ["--trace-deopt", "--no-concurrent-recompilation", "--import", "tsx", script], { encoding: "utf8" })
    // the trace shares stdout with the sum, in either order
    assert.ok(out.includes(String((30_000 * 29_999) / 2)))
    // counting from 0, the first renewal at the 4,096th call deoptimised `call` (Insufficient type feedback)
    assert.deepEqual(out.split("\n").filter(l => /deoptimizing .*<JSFunction call /.test(l)), [])
})
