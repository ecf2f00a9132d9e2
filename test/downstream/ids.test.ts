import assert from "node:assert/strict"
import { execFileSync } from "node:child_process"
import { join } from "node:path"
import { test } from "node:test"
import * as downstream from "../../internal/downstream/index.ts"

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
