import assert from "node:assert/strict"
import { readdir } from "node:fs/promises"
import { test } from "node:test"
import { value } from "./child.ts"
import { fresh, run, start } from "./kit.ts"

test("four processes putting 200 keys each into one scope at once end with 800 readable keys", async () => {
    const home = await fresh()
    await run(home, ["init"])
    // the database does not exist yet: the four also race to create and migrate it
    const outs = await Promise.all(["a", "b", "c", "d"].map(p => start(home, ["put", "shared", `KEY_${p}_`, "200"]).exit))
    for (const o of outs) assert.equal(o.code, 0, o.stderr)
    const dump = JSON.parse(await run(home, ["dump"])) as { secrets: Record<string, string> }
    const keys = Object.keys(dump.secrets)
    assert.equal(keys.length, 800)
    for (const [k, v] of Object.entries(dump.secrets)) {
        const [scope = "", key = ""] = k.split("/")
        assert.equal(v, value(scope, key))
    }
})

test("four processes creating the key and the database together agree on one key", async () => {
    const home = await fresh()
    const outs = await Promise.all(["a", "b", "c", "d"].map(p => start(home, ["put", "gh", `K_${p}_`, "5"]).exit))
    for (const o of outs) assert.equal(o.code, 0, o.stderr)
    const dump = JSON.parse(await run(home, ["dump"])) as { secrets: Record<string, string> }
    assert.equal(Object.keys(dump.secrets).length, 20)
    assert.deepEqual((await readdir(home)).filter(n => n.includes("age.key")), ["age.key"])
})
