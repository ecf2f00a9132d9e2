import assert from "node:assert/strict"
import { readdir, readFile, stat, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { test } from "node:test"
import * as secrets from "../../internal/secrets/index.ts"
import * as store from "../../internal/store/index.ts"
import { value } from "./child.ts"
import { fresh, paths, reached, run, start } from "./kit.ts"

interface Dump { recipient: string; secrets: Record<string, string> }

/** A home with `n` secrets spread over three scopes; returns the values expected back. */
async function seeded(n: number): Promise<{ home: string; expected: Record<string, string>; recipient: string }> {
    const home = await fresh()
    const v = secrets.open(paths(home), { actor: "test", create: true })
    const expected: Record<string, string> = {}
    for (let i = 0; i < n; i++) {
        const scope = ["gh", "acme", "linear"][i % 3] ?? "gh"
        const key = `KEY_${i}`
        await v.put(scope, key, value(scope, key))
        expected[`${scope}/${key}`] = value(scope, key)
    }
    const recipient = await v.recipient()
    v.close()
    return { home, expected, recipient }
}

/** Reads everything back in a fresh process and checks the key files left behind. */
async function check(home: string, expected: Record<string, string>): Promise<Dump> {
    const dump = JSON.parse(await run(home, ["dump"])) as Dump
    assert.deepEqual(dump.secrets, expected)
    const names = await readdir(home)
    assert.ok(names.includes("age.key"))
    assert.deepEqual(names.filter(f => f.startsWith("age.key") && !f.startsWith("age.key.old-")), ["age.key"], "exactly one current key file")
    assert.deepEqual(names.filter(f => f.startsWith(".age.key")), [], "no temp files")
    const key = await readFile(join(home, "age.key"), "utf8")
    assert.ok(key.includes(`# public key: ${dump.recipient}\n`))
    const s = store.open(join(home, "mcplexer.db"))
    const recipients = s.sqlite.prepare("SELECT DISTINCT recipient FROM secrets").pluck().all()
    s.close()
    if (Object.keys(expected).length > 0) assert.deepEqual(recipients, [dump.recipient], "every row encrypted to the current key")
    return dump
}

test("rotate re-encrypts every secret to a new key and keeps the old key 0600 beside it", async () => {
    const { home, expected, recipient } = await seeded(12)
    const v = secrets.open(paths(home), { actor: "test" })
    const before = new Map(v.list().map(e => [`${e.scope}/${e.key}`, e.updatedAt.getTime()]))
    const oldText = await readFile(join(home, "age.key"))
    const r = await v.rotate()
    assert.equal(r.count, 12)
    assert.notEqual(r.recipient, recipient)
    assert.equal(await v.recipient(), r.recipient)
    assert.match(r.old, /\/age\.key\.old-\d{8}T\d{6}Z$/)
    assert.deepEqual(await readFile(r.old), oldText)
    assert.equal((await stat(r.old)).mode & 0o777, 0o600)
    assert.equal((await stat(join(home, "age.key"))).mode & 0o777, 0o600)
    for (const [k, want] of Object.entries(expected)) {
        const [scope = "", key = ""] = k.split("/")
        assert.equal(await v.get(scope, key), want)
    }
    // the values did not change, so nothing watching updatedAt restarts
    assert.deepEqual(new Map(v.list().map(e => [`${e.scope}/${e.key}`, e.updatedAt.getTime()])), before)
    const audit = v.store.db.select().from(store.schema.audit).all().find(a => a.action === "rotate")
    assert.deepEqual(audit?.detail, { count: 12, from: recipient, to: r.recipient })
    v.close()
    await check(home, expected)
})

test("rotating an empty store makes a new key", async () => {
    const home = await fresh()
    const v = secrets.open(paths(home), { actor: "test", create: true })
    const before = await v.recipient()
    const r = await v.rotate()
    assert.equal(r.count, 0)
    assert.notEqual(r.recipient, before)
    v.close()
    assert.equal((await check(home, {})).recipient, r.recipient)
})

for (const [step, becomes] of [["decrypted", "old"], ["encrypted", "old"], ["staged", "old"], ["committed", "new"], ["finished", "new"]] as const) {
    test(`a rotation killed once ${step} leaves the store wholly ${becomes} and usable`, async () => {
        const { home, expected, recipient } = await seeded(30)
        const child = start(home, ["rotate", step])
        const exit = await child.exit
        assert.equal(exit.signal, "SIGKILL", exit.stderr)
        const names = await readdir(home)
        if (step === "staged") assert.ok(names.includes("age.key.new"), "the staged key is left behind")
        if (step === "committed") assert.ok(names.includes("age.key.new"), "the committed key awaits its install")
        const dump = await check(home, expected)
        if (becomes === "old") assert.equal(dump.recipient, recipient)
        else assert.notEqual(dump.recipient, recipient)
        const olds = (await readdir(home)).filter(f => f.startsWith("age.key.old-"))
        assert.equal(olds.length, becomes === "new" ? 1 : 0)
    })
}

test("a rotation of 300 keys killed at any moment leaves every secret readable with one current key", async () => {
    const { home, expected } = await seeded(300)
    // how long a rotation takes here (the median of three): in all, and from "encrypted" (the
    // last stretch: stage the key, commit, install) to its end
    const whole: number[] = []
    const tail: number[] = []
    for (let i = 0; i < 3; i++) {
        const probe = start(home, ["rotate"])
        await reached(probe, "start")
        const t0 = performance.now()
        const encrypted = reached(probe, "step encrypted").then(() => performance.now())
        await reached(probe, "step finished")
        const t1 = performance.now()
        whole.push(t1 - t0)
        tail.push(t1 - await encrypted)
        await probe.exit
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[1] ?? 0
    const duration = median(whole)
    let recipient = (await check(home, expected)).recipient
    // ten kills spread over the whole rotation, five over its last stretch, which is short and
    // where the key files change (a loaded machine would otherwise rarely land one there)
    const plan = [
        ...Array.from({ length: 10 }, (_, i) => ({ after: "start", delay: (duration * i) / 9 })),
        ...Array.from({ length: 5 }, (_, i) => ({ after: "step encrypted", delay: (median(tail) * i) / 4 })),
    ]
    const outcomes = { old: 0, new: 0 }
    const got: string[] = []
    for (const { after, delay } of plan) {
        const child = start(home, ["rotate"])
        await reached(child, after)
        await new Promise(r => setTimeout(r, delay))
        child.kill("SIGKILL")
        const exit = await child.exit
        got.push(/step (\w+)\n(?!.*step)/s.exec(exit.stdout)?.[1] ?? "start")
        const dump = await check(home, expected)
        outcomes[dump.recipient === recipient ? "old" : "new"]++
        recipient = dump.recipient
    }
    console.log(`# rotate of 300 keys took ${duration.toFixed(0)} ms (last stretch ${median(tail).toFixed(0)} ms); killed after: ${got.join(", ")}; ${outcomes.old} left wholly old, ${outcomes.new} wholly new`)
    assert.equal(outcomes.old + outcomes.new, plan.length)
})

test("a leftover next key that the rows do not use is removed on load", async () => {
    const { home, expected, recipient } = await seeded(3)
    const other = await secrets.init(paths(await fresh()))
    await writeFile(join(home, "age.key.new"), await readFile(other.path), { mode: 0o600 })
    assert.equal((await check(home, expected)).recipient, recipient)
})
