import assert from "node:assert/strict"
import { lstatSync, readdirSync } from "node:fs"
import { mkdir, readFile, stat, symlink, writeFile } from "node:fs/promises"
import { basename, dirname, join } from "node:path"
import { test } from "node:test"
import * as importer from "../../internal/cli/import.ts"
import * as installer from "../../internal/cli/install.ts"
import type { Output } from "../../internal/cli/output.ts"
import * as atomic from "../../internal/config/atomic.ts"
import * as config from "../../internal/config/index.ts"
import { plant, tokens, user } from "./kit.ts"

const quiet: Output = { out: () => {}, info: () => {}, warn: () => {}, error: () => {}, hint: () => {}, tty: false }

test("import, install and uninstall never follow a link planted at a name they write", async () => {
    const u = await user()
    const f = await plant("cursor", u.home, tokens())
    const env = { HOME: u.home }
    const paths = config.paths(env)
    const where = { env, platform: "linux" as const, cwd: u.project }
    await mkdir(paths.home, { recursive: true, mode: 0o700 })
    const victim = join(u.home, "victim")
    await writeFile(victim, "precious\n", { mode: 0o644 })
    // every name a writer of an earlier version used, known in advance from the process id
    const names = [`${f.path}.mcplexer-${process.pid}.tmp`, `${join(paths.home, "installs.json")}.mcplexer-${process.pid}.tmp`,
        `${paths.config}.import-${process.pid}`]
    for (const n of names) await symlink(victim, n)

    assert.equal(await importer.run({ paths, source: "cursor", dryRun: false, yes: true, force: false, where }, quiet), 0)
    assert.equal(await installer.install({ paths, client: "cursor", where }, quiet), 0)
    assert.equal(await installer.uninstall({ paths, client: "cursor", where }, quiet), 0)

    assert.equal(await readFile(victim, "utf8"), "precious\n", "a planted link was written through")
    assert.equal((await stat(victim)).mode & 0o777, 0o644, "a planted link was chmodded through")
    assert.deepEqual(await readFile(f.path), f.bytes)
    for (const n of names) assert.ok(lstatSync(n).isSymbolicLink(), `${n} was replaced`)
})

test("the atomic writer never writes through a link at the target's name, and leaves no temporary file", async () => {
    const u = await user()
    const victim = join(u.home, "victim")
    await writeFile(victim, "precious\n", { mode: 0o644 })
    const target = join(u.project, "file")
    await symlink(victim, target)
    assert.equal(atomic.writeNew(target, "new"), false, "writeNew took a name a dangling or live link holds")
    atomic.writeOver(target, "new", 0o640)
    assert.equal(await readFile(victim, "utf8"), "precious\n")
    assert.ok(!lstatSync(target).isSymbolicLink())
    assert.equal(await readFile(target, "utf8"), "new")
    assert.equal((await stat(target)).mode & 0o777, 0o640)
    assert.deepEqual(readdirSync(dirname(target)).filter(n => n.startsWith(`.${basename(target)}.tmp-`)), [])
})
