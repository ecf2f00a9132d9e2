import assert from "node:assert/strict"
import { chmod, chown, mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { test } from "node:test"
import { identityToRecipient } from "age-encryption"
import * as secrets from "../../internal/secrets/index.ts"
import { fresh, paths, run, start } from "./kit.ts"

type Hinted = Error & { hint?: string }

test("init creates the key 0600 in a new 0700 home folder, in the age-keygen format", async () => {
    const home = join(await fresh(), "home")
    const r = await secrets.init(paths(home))
    assert.equal(r.created, true)
    assert.equal(r.path, join(home, "age.key"))
    assert.equal((await stat(home)).mode & 0o777, 0o700)
    assert.equal((await stat(r.path)).mode & 0o777, 0o600)
    const lines = (await readFile(r.path, "utf8")).split("\n")
    assert.match(lines[0] ?? "", /^# created: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    assert.equal(lines[1], `# public key: ${r.recipient}`)
    // a comment line, which age's tools skip: this store authenticates every row (see mark.test.ts)
    assert.equal(lines[2], "# mcplexer: rows authenticated (a row without a MAC is never adopted)")
    assert.match(lines[3] ?? "", /^AGE-SECRET-KEY-1[0-9A-Z]{58}$/)
    assert.equal(await identityToRecipient(lines[3] ?? ""), r.recipient)
    assert.deepEqual(await readdir(home), ["age.key"])
})

test("init keeps an existing key", async () => {
    const home = await fresh()
    const first = await secrets.init(paths(home))
    const before = await readFile(first.path)
    const again = await secrets.init(paths(home))
    assert.equal(again.created, false)
    assert.equal(again.recipient, first.recipient)
    assert.deepEqual(await readFile(first.path), before)
})

test("a key file readable by others is refused with the chmod hint", async () => {
    const home = await fresh()
    const { path } = await secrets.init(paths(home))
    await chmod(path, 0o644)
    const vault = secrets.open(paths(home), { actor: "test" })
    await assert.rejects(vault.recipient(), (e: Hinted) => {
        assert.equal(e.message, `key file ${JSON.stringify(path)} is readable by others (mode 0644)`)
        assert.equal(e.hint, `chmod 600 ${path}`)
        return true
    })
    vault.close()
})

test("a key file readable by its group is refused too", async () => {
    const home = await fresh()
    const { path } = await secrets.init(paths(home))
    await chmod(path, 0o640)
    await assert.rejects(secrets.init(paths(home)), /is readable by others \(mode 0640\)/)
})

test("an explicit MCPLEXER_AGE_KEY that does not exist is an error, never a new key", async () => {
    const home = await fresh()
    const key = join(home, "elsewhere", "my.key")
    const p = paths(home, { MCPLEXER_AGE_KEY: key })
    assert.equal(p.keyExplicit, true)
    for (const attempt of [() => secrets.init(p), () => secrets.open(p, { actor: "test", create: true }).recipient()]) {
        await assert.rejects(attempt(), (e: Hinted) => {
            assert.equal(e.message, `key file ${JSON.stringify(key)} named by MCPLEXER_AGE_KEY does not exist`)
            assert.match(e.hint ?? "", /age-keygen -o /)
            assert.match(e.hint ?? "", /unset MCPLEXER_AGE_KEY/)
            return true
        })
    }
    await assert.rejects(stat(key), { code: "ENOENT" })
})

test("opening without create does not make a key and says to run init", async () => {
    const home = await fresh()
    const vault = secrets.open(paths(home), { actor: "test" })
    await assert.rejects(vault.recipient(), (e: Hinted) => {
        assert.equal(e.message, `no key file at ${JSON.stringify(join(home, "age.key"))}`)
        assert.equal(e.hint, "create one with: mcplexer init")
        return true
    })
    vault.close()
    await assert.rejects(stat(join(home, "age.key")), { code: "ENOENT" })
})

test("opening with create makes the key on first need", async () => {
    const home = await fresh()
    const vault = secrets.open(paths(home), { actor: "test", create: true })
    await assert.rejects(stat(join(home, "age.key")), { code: "ENOENT" })
    await vault.put("gh", "TOKEN", "first value")
    assert.equal((await stat(join(home, "age.key"))).mode & 0o777, 0o600)
    vault.close()
})

test("a read-only home folder gives a clear error with a hint", async () => {
    const home = await fresh()
    await chmod(home, 0o500)
    const key = join(home, "age.key")
    if (process.getuid?.() !== 0) {
        await assert.rejects(secrets.init(paths(home)), (e: Hinted) => {
            assert.equal(e.message, `cannot create key file ${JSON.stringify(key)}: permission denied`)
            assert.match(e.hint ?? "", /writable, or set MCPLEXER_AGE_KEY/)
            return true
        })
        return
    }
    // root ignores permissions: run the creator as "nobody", which owns the read-only home
    await chown(home, 65534, 65534)
    const r = await start(home, ["init"], {}, { uid: 65534, gid: 65534 }).exit
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stderr, new RegExp(`^error: cannot create key file ${escape(JSON.stringify(key))}: permission denied$`, "m"))
    assert.match(r.stderr, /^hint: make ".*" writable, or set MCPLEXER_AGE_KEY to an existing age key file$/m)
})

function escape(s: string): string {
    return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
}

test("a key file without an identity is refused without quoting its lines", async () => {
    const home = await fresh()
    const key = join(home, "bad.key")
    await writeFile(key, "# created: now\nAGE-SECRET-KEY-1NOTAKEY\n", { mode: 0o600 })
    await assert.rejects(secrets.init(paths(home, { MCPLEXER_AGE_KEY: key })), (e: Hinted) => {
        assert.equal(e.message, `key file ${JSON.stringify(key)} holds a malformed age identity`)
        assert.doesNotMatch(e.message + (e.hint ?? ""), /NOTAKEY/)
        return true
    })
    await writeFile(key, "hello\n", { mode: 0o600 })
    await assert.rejects(secrets.init(paths(home, { MCPLEXER_AGE_KEY: key })), /is not an age identity file \(line 1\)/)
})

test("four processes creating the key at once end with one key they all agree on", async () => {
    for (let round = 0; round < 3; round++) {
        const home = await fresh()
        const outs = await Promise.all([0, 1, 2, 3].map(() => start(home, ["init"]).exit))
        const results = outs.map(o => {
            assert.equal(o.code, 0, o.stderr)
            return JSON.parse(o.stdout) as { created: boolean; recipient: string }
        })
        assert.equal(new Set(results.map(r => r.recipient)).size, 1)
        assert.equal(results.filter(r => r.created).length, 1)
        assert.deepEqual(await readdir(home), ["age.key"])
        const text = await readFile(join(home, "age.key"), "utf8")
        assert.ok(text.includes(`# public key: ${results[0]?.recipient}\n`))
    }
})

test("a temp file left by a killed creator is swept on the next load", async () => {
    const home = await fresh()
    await secrets.init(paths(home))
    // pid 2^22+1 is above Linux's pid_max default: no such process
    const leftover = join(home, `.age.key.tmp-${2 ** 22 + 1}-0011223344`)
    await writeFile(leftover, "half", { mode: 0o600 })
    await run(home, ["dump"])
    assert.deepEqual((await readdir(home)).filter(n => n.includes("age.key")), ["age.key"])
})

test("a key in a folder of its own is found through MCPLEXER_AGE_KEY", async () => {
    const home = await fresh()
    const dir = join(home, "keys")
    await mkdir(dir, { mode: 0o700 })
    const key = join(dir, "k")
    const made = await secrets.init(paths(join(home, "other")))
    await writeFile(key, await readFile(made.path), { mode: 0o600 })
    const vault = secrets.open(paths(home, { MCPLEXER_AGE_KEY: key }), { actor: "test" })
    assert.equal(await vault.recipient(), made.recipient)
    vault.close()
})
