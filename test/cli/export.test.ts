/**
 * `secret export` and `secret import`, run as a user would, with a teammate's key made by
 * age-keygen and Go's `age -d` opening the export. No value is ever printed.
 */
import assert from "node:assert/strict"
import { execFileSync, spawnSync } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import { test } from "node:test"
import { fresh, run, type Result } from "../helpers.ts"

const token = `ghp_exportPLANTED-${process.pid}-never-shown`
const other = `other-exportPLANTED-${process.pid}-value`
const binary = Buffer.from([0xff, 0xfe, 0x01, 0x80, 0x41])

function clean(...rs: Result[]): void {
    for (const r of rs) for (const v of [token, other]) {
        assert.ok(!r.stdout.includes(v) && !r.stderr.includes(v), `a value was printed:\n${r.stdout}\n${r.stderr}`)
    }
}

function keygen(dir: string): { key: string; recipient: string } {
    const key = join(dir, "teammate.key")
    execFileSync("age-keygen", ["-o", key], { stdio: "pipe" })
    return { key, recipient: execFileSync("age-keygen", ["-y", key], { encoding: "utf8" }).trim() }
}

function age(key: string, file: string): { code: number | null; text: string } {
    const r = spawnSync("age", ["-d", "-i", key, file])
    return { code: r.status, text: r.stdout.toString("utf8") }
}

async function owner(): Promise<{ home: string; mate: { key: string; recipient: string } }> {
    const home = await fresh(null)
    const mate = keygen(home)
    await writeFile(join(home, "config.yaml"), `auth_scopes:\n  shared: { recipients: [${mate.recipient}] }\n  personal: {}\nservers: {}\n`, { mode: 0o600 })
    assert.equal((await run(home, ["init"])).code, 0)
    const put = await run(home, ["secret", "put", "shared", "TOKEN", "--expires", "2031-05-01"], { input: token })
    assert.equal(put.code, 0, put.stderr)
    await writeFile(join(home, "bin"), binary)
    assert.equal((await run(home, ["secret", "put", "shared", "BIN", "--from-file", join(home, "bin")])).code, 0)
    assert.equal((await run(home, ["secret", "put", "personal", "OTHER"], { input: other })).code, 0)
    return { home, mate }
}

test("an export for the scope's recipients is opened by Go age with the teammate's key, as the documented JSON", async () => {
    const { home, mate } = await owner()
    const out = join(home, "shared.age")
    const r = await run(home, ["secret", "export", "shared", "-o", out])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /exported 2 secrets of scope "shared" to 2 recipients/)
    clean(r)
    assert.ok(!readFileSync(out).includes(token))
    const opened = age(mate.key, out)
    assert.equal(opened.code, 0)
    const doc = JSON.parse(opened.text) as { mcplexer: string; scope: string; secrets: Record<string, Record<string, string>> }
    assert.equal(doc.mcplexer, "export/v1")
    assert.equal(doc.scope, "shared")
    assert.deepEqual(doc.secrets.TOKEN, { value: token, expires: "2031-05-01T00:00:00.000Z" })
    assert.deepEqual(doc.secrets.BIN, { base64: binary.toString("base64") })
    assert.equal(Object.keys(doc.secrets).length, 2, "only the exported scope")
    // the owner's own key opens it too
    assert.equal(age(join(home, "age.key"), out).code, 0)
})

test("an existing output file is left alone without --force, and replaced with it", async () => {
    const { home } = await owner()
    const out = join(home, "shared.age")
    await writeFile(out, "keep me")
    const r = await run(home, ["secret", "export", "shared", "-o", out])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^mcplexer: error: ".*shared\.age" exists/m)
    assert.match(r.stderr, /--force/)
    assert.equal(readFileSync(out, "utf8"), "keep me")
    assert.equal((await run(home, ["secret", "export", "shared", "-o", out, "--force"])).code, 0)
    assert.notEqual(readFileSync(out, "utf8"), "keep me")
})

test("--to and --armor: a text export for one key only, to stdout when it is not a terminal", async () => {
    const { home, mate } = await owner()
    const r = await run(home, ["secret", "export", "shared", "--to", mate.recipient, "--armor"])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^-----BEGIN AGE ENCRYPTED FILE-----/)
    clean(r)
    const file = join(home, "armored.age")
    await writeFile(file, r.stdout)
    assert.equal(age(mate.key, file).code, 0)
    assert.notEqual(age(join(home, "age.key"), file).code, 0, "the owner was not a recipient")
})

test("import adds the values, then reports equal ones as unchanged, and leaves a differing one without --force", async () => {
    const { home } = await owner()
    const other = await fresh(null)
    await writeFile(join(other, "config.yaml"), "auth_scopes:\n  shared: {}\nservers: {}\n", { mode: 0o600 })
    assert.equal((await run(other, ["init"])).code, 0)
    const show = await run(other, ["key", "show", "--json"])
    const { recipient } = JSON.parse(show.stdout) as { recipient: string }
    const file = join(home, "for-other.age")
    assert.equal((await run(home, ["secret", "export", "shared", "--to", recipient, "-o", file])).code, 0)

    const first = await run(other, ["secret", "import", file])
    assert.equal(first.code, 0, first.stderr)
    assert.match(first.stderr, /^added shared\/BIN$/m)
    assert.match(first.stderr, /^added shared\/TOKEN$/m)
    const got = await run(other, ["secret", "get", "shared", "TOKEN"])
    assert.equal(got.stdout, token)
    const listed = JSON.parse((await run(other, ["secret", "list", "--json"])).stdout) as Array<{ key: string; expires: string | null }>
    assert.equal(listed.find(e => e.key === "TOKEN")?.expires, "2031-05-01T00:00:00.000Z")

    const again = await run(other, ["secret", "import", file])
    assert.equal(again.code, 0)
    assert.match(again.stderr, /^unchanged shared\/TOKEN$/m)
    assert.match(again.stderr, /^unchanged shared\/BIN$/m)

    assert.equal((await run(other, ["secret", "put", "shared", "TOKEN"], { input: "a local change of the value" })).code, 0)
    const left = await run(other, ["secret", "import", file])
    assert.equal(left.code, 1)
    assert.match(left.stderr, /^mcplexer: warning: left shared\/TOKEN alone: the stored value differs/m)
    assert.match(left.stderr, /^unchanged shared\/BIN$/m)
    assert.match(left.stderr, /--force/)
    assert.equal((await run(other, ["secret", "get", "shared", "TOKEN"])).stdout, "a local change of the value")

    const forced = await run(other, ["secret", "import", file, "--force"])
    assert.equal(forced.code, 0, forced.stderr)
    assert.match(forced.stderr, /^replaced shared\/TOKEN$/m)
    assert.equal((await run(other, ["secret", "get", "shared", "TOKEN"])).stdout, token)
    clean(first, again, left, forced)
})

test("import into a home that does not declare the scope is refused with how to declare it, and stores nothing", async () => {
    const { home } = await owner()
    const other = await fresh(null)
    await writeFile(join(other, "config.yaml"), "auth_scopes:\n  elsewhere: {}\nservers: {}\n", { mode: 0o600 })
    assert.equal((await run(other, ["init"])).code, 0)
    const { recipient } = JSON.parse((await run(other, ["key", "show", "--json"])).stdout) as { recipient: string }
    const file = join(home, "x.age")
    assert.equal((await run(home, ["secret", "export", "shared", "--to", recipient, "-o", file])).code, 0)
    const r = await run(other, ["secret", "import", file])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^mcplexer: error: the export holds scope "shared", which is not declared in /m)
    assert.match(r.stderr, /^mcplexer: hint: {3}shared: \{ description: … \}$/m)
    assert.equal((await run(other, ["secret", "list", "--json"])).stdout.trim(), "[]")
    clean(r)
})

test("import of a file not made for this key says so", async () => {
    const { home, mate } = await owner()
    const file = join(home, "mate-only.age")
    assert.equal((await run(home, ["secret", "export", "shared", "--to", mate.recipient, "-o", file])).code, 0)
    const other = await fresh(null)
    await writeFile(join(other, "config.yaml"), "auth_scopes:\n  shared: {}\nservers: {}\n", { mode: 0o600 })
    assert.equal((await run(other, ["init"])).code, 0)
    const r = await run(other, ["secret", "import", file])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^mcplexer: error: cannot decrypt the file with the key /m)
    assert.match(r.stderr, /mcplexer key show/)
    assert.ok(existsSync(file))
})
