/** Files mcplexer writes are never opened through a planted link, and are created 0600 (issue 10). */
import assert from "node:assert/strict"
import { chmod, readFile, stat, symlink, rename, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { test } from "node:test"
import { fresh, run } from "../helpers.ts"

test("serve refuses a log file that is a symbolic link, and leaves its target alone", async () => {
    const h = await fresh()
    assert.equal((await run(h, ["init"])).code, 0)
    const target = join(await fresh(null), "victim")
    await writeFile(target, "before\n")
    await symlink(target, join(h, "mcplexer.log"))
    const r = await run(h, ["serve", "--log-level", "debug"])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^mcplexer: error: log file ".*mcplexer\.log" is a symbolic link$/m)
    assert.match(r.stderr, /^mcplexer: hint: remove it/m)
    assert.equal(await readFile(target, "utf8"), "before\n")
})

test("serve creates its log 0600 and puts a loosened one back to 0600", async () => {
    const h = await fresh()
    assert.equal((await run(h, ["init"])).code, 0)
    const log = join(h, "mcplexer.log")
    assert.equal((await run(h, ["serve", "--log-level", "debug"])).code, 0)
    assert.equal((await stat(log)).mode & 0o777, 0o600)
    await chmod(log, 0o644)
    assert.equal((await run(h, ["serve", "--log-level", "debug"])).code, 0)
    assert.equal((await stat(log)).mode & 0o777, 0o600)
})

test("a database that is a symbolic link is refused, its target untouched", async () => {
    const h = await fresh()
    assert.equal((await run(h, ["init"])).code, 0)
    const elsewhere = join(await fresh(null), "other.db")
    await rename(join(h, "mcplexer.db"), elsewhere)
    await chmod(elsewhere, 0o640)
    await symlink(elsewhere, join(h, "mcplexer.db"))
    const r = await run(h, ["secret", "list"])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^mcplexer: error: database ".*mcplexer\.db" is a symbolic link$/m)
    assert.equal((await stat(elsewhere)).mode & 0o777, 0o640)
})

test("serve with its input already closed exits 0 without a word", async () => {
    const h = await fresh()
    assert.equal((await run(h, ["init"])).code, 0)
    const r = await run(h, ["serve"])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, "")
})
