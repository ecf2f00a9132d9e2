import assert from "node:assert/strict"
import { execFile, spawnSync } from "node:child_process"
import { readFile, stat, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { test } from "node:test"
import { promisify } from "node:util"
import { eq } from "drizzle-orm"
import * as secrets from "../../internal/secrets/index.ts"
import * as store from "../../internal/store/index.ts"
import { fresh, paths } from "./kit.ts"

const exec = promisify(execFile)

function installed(cmd: string): boolean {
    return spawnSync(cmd, ["--version"], { stdio: "ignore" }).status === 0
}
const haveAge = installed("age") && installed("age-keygen")

/** `age -d -i key` over the stored ciphertext of (scope, key). */
async function ageDecrypt(v: secrets.Vault, key: string, scope: string, name: string): Promise<Buffer> {
    const t = store.schema.secrets
    const row = v.store.db.select().from(t).where(eq(t.key, name)).all().find(r => r.scope === scope)
    assert.ok(row)
    const file = join(await fresh(), "ciphertext.age")
    await writeFile(file, row.ciphertext)
    const { stdout } = await exec("age", ["-d", "-i", key, file], { encoding: "buffer" })
    return stdout
}

test("a value put by the vault decrypts with Go age -d -i <key file>", async t => {
    if (!haveAge) {
        t.skip("age not installed")
        return
    }
    const home = await fresh()
    const v = secrets.open(paths(home), { actor: "test", create: true })
    const value = "ünïcödé value\nwith a second line and trailing space "
    await v.put("gh", "GITHUB_TOKEN", value)
    const out = await ageDecrypt(v, paths(home).key, "gh", "GITHUB_TOKEN")
    assert.deepEqual(out, Buffer.from(`mcplexer-secret/v1 gh GITHUB_TOKEN\n${value}`))
    v.close()
})

test("a key made by Go age-keygen works with the vault as is", async t => {
    if (!haveAge) {
        t.skip("age not installed")
        return
    }
    const home = await fresh()
    const key = join(home, "go.key")
    await exec("age-keygen", ["-o", key])
    assert.equal((await stat(key)).mode & 0o077, 0, "age-keygen writes a private file")
    const text = await readFile(key, "utf8")
    const recipient = /^# public key: (age1\w+)$/m.exec(text)?.[1]
    const v = secrets.open(paths(home, { MCPLEXER_AGE_KEY: key }), { actor: "test" })
    assert.equal(await v.recipient(), recipient)
    await v.put("acme", "TOKEN", "from a go key")
    assert.equal(await v.get("acme", "TOKEN"), "from a go key")
    assert.equal((await ageDecrypt(v, key, "acme", "TOKEN")).toString(), "mcplexer-secret/v1 acme TOKEN\nfrom a go key")
    v.close()
})

test("a value encrypted by Go age to our key, with the header line, reads through the vault once vouched for", async t => {
    if (!haveAge) {
        t.skip("age not installed")
        return
    }
    const home = await fresh()
    // a key without mcplexer's mark line, as 0.1 (or age-keygen) made it: a key mcplexer made
    // says its store authenticates every row, and then nothing is adopted (see mark.test.ts)
    await exec("age-keygen", ["-o", join(home, "age.key")])
    const v = secrets.open(paths(home), { actor: "test" })
    const recipient = await v.recipient()
    const dir = await fresh()
    await writeFile(join(dir, "plain"), "mcplexer-secret/v1 gh TOKEN\nmade by go")
    await exec("age", ["-r", recipient, "-o", join(dir, "c.age"), join(dir, "plain")])
    const now = new Date()
    // as in a database 0.1 left: never marked as holding a MAC on every row (see mac.test.ts)
    v.store.sqlite.prepare("DELETE FROM meta").run()
    v.store.db.insert(store.schema.secrets).values({ scope: "gh", key: "TOKEN", recipient, ciphertext: await readFile(join(dir, "c.age")), createdAt: now, updatedAt: now }).run()
    // anyone can encrypt to the public key: without the row's MAC it is not trusted...
    await assert.rejects(v.get("gh", "TOKEN"), /stored before rows were authenticated/)
    // ...until the key's holder vouches for it (`mcplexer key upgrade`)
    assert.deepEqual((await v.upgrade()).rows, [{ scope: "gh", key: "TOKEN" }])
    assert.equal(await v.get("gh", "TOKEN"), "made by go")
    v.close()
})
