/**
 * `secret reencrypt` is crash-safe as `key rotate` is: a re-encryption killed (SIGKILL) at each
 * step it passes, or at any moment, leaves each scope wholly old or wholly new, every value opens
 * with the local identity, `secret get` and `doctor` succeed, and a second run completes and
 * leaves the rows open to the recipient added meanwhile (Go `age -d` with a key from age-keygen).
 * A reader that holds the database meanwhile, as serve does, never sees a half state.
 */
import assert from "node:assert/strict"
import { execFileSync, spawnSync } from "node:child_process"
import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import { test } from "node:test"
import * as config from "../../internal/config/index.ts"
import * as secrets from "../../internal/secrets/index.ts"
import * as store from "../../internal/store/index.ts"
import { run as cli } from "../helpers.ts"
import { value } from "./child.ts"
import { fresh, paths, reached, run, start } from "./kit.ts"

interface Dump { recipient: string; secrets: Record<string, string> }
interface Mate { key: string; recipient: string }

/** A teammate's identity made by Go's age-keygen. */
function teammate(dir: string, name: string): Mate {
    const key = join(dir, name)
    execFileSync("age-keygen", ["-o", key], { stdio: "pipe" })
    return { key, recipient: execFileSync("age-keygen", ["-y", key], { encoding: "utf8" }).trim() }
}

/** The config: `team` shared with `team`, `solo` with `solo` (none: the owner alone). */
async function configure(home: string, team: Mate[], solo: Mate[]): Promise<void> {
    const list = (ms: Mate[]) => `[${ms.map(m => m.recipient).join(", ")}]`
    await writeFile(join(home, "config.yaml"), `auth_scopes:\n  team: { recipients: ${list(team)} }\n  solo: { recipients: ${list(solo)} }\nservers: {}\n`, { mode: 0o600 })
}

interface Home { home: string; expected: Record<string, string>; first: Mate; added: Mate }

/**
 * A home whose scope `team` is shared with a first teammate and `solo` with no one, `n` rows
 * each (and a value staged beside one), whose config has since added a second teammate to both:
 * the rows are not yet encrypted to it.
 */
async function seeded(n: number): Promise<Home> {
    const home = await fresh()
    const first = teammate(home, "first.key")
    const added = teammate(home, "added.key")
    await configure(home, [first], [])
    const v = secrets.open(paths(home), { actor: "test", create: true })
    const expected: Record<string, string> = {}
    for (const scope of ["team", "solo"]) {
        for (let i = 0; i < n; i++) {
            await v.put(scope, `KEY_${i}`, value(scope, `KEY_${i}`))
            expected[`${scope}/KEY_${i}`] = value(scope, `KEY_${i}`)
        }
        await v.put(scope, "KEY_0", value(scope, "KEY_0:next"), { next: true })
    }
    v.close()
    await configure(home, [first, added], [added])
    return { home, expected, first, added }
}

/** Each scope's rows as stored: ciphertexts and the key they are sealed under, with the scope's key row. */
function rows(home: string): Map<string, { cts: Buffer[]; keys: Set<string | null>; key: string | undefined }> {
    const s = store.open(join(home, "mcplexer.db"))
    try {
        const out = new Map<string, { cts: Buffer[]; keys: Set<string | null>; key: string | undefined }>()
        for (const r of store.secrets.rows(s)) {
            const e = out.get(r.scope) ?? { cts: [], keys: new Set(), key: store.shares.get(s, r.scope)?.id }
            e.cts.push(Buffer.from(r.ciphertext))
            e.keys.add(r.scopeKey)
            out.set(r.scope, e)
        }
        return out
    } finally {
        s.close()
    }
}

/** Whether Go's `age -d -i key` opens `ct`. */
function opens(m: Mate, ct: Buffer): boolean {
    return spawnSync("age", ["-d", "-i", m.key], { input: ct }).status === 0
}

/**
 * Checks that every scope is wholly one state, and says which: "new" when every row is open to
 * the added teammate, "old" when none is. Every row of a scope is sealed under the scope's key
 * (or none, when not shared), so its MACs verify; only the first and last rows are tried with Go
 * age, as that takes a process each.
 */
function states(h: Home): Record<string, "old" | "new"> {
    const out: Record<string, "old" | "new"> = {}
    for (const [scope, e] of rows(h.home)) {
        assert.deepEqual([...e.keys], [e.key ?? null], `every row of ${scope} is sealed under the scope's key`)
        const ends = [e.cts[0], e.cts.at(-1)].filter(c => c !== undefined)
        const open = ends.map(c => opens(h.added, c))
        assert.ok(open.every(o => o === open[0]), `${scope} is half re-encrypted`)
        out[scope] = open[0] === true ? "new" : "old"
        if (scope === "team") assert.ok(ends.every(c => opens(h.first, c)), "the first teammate keeps the team scope")
    }
    return out
}

/** Every value back, exact, in a fresh process; and the CLI's `secret get` and `doctor` succeed. */
async function usable(h: Home): Promise<void> {
    const dump = JSON.parse(await run(h.home, ["dump"])) as Dump
    assert.deepEqual(dump.secrets, h.expected)
    const get = await cli(h.home, ["secret", "get", "team", "KEY_1"])
    assert.equal(get.code, 0, get.stderr)
    assert.equal(get.stdout, value("team", "KEY_1"))
    const doctor = await cli(h.home, ["doctor"])
    assert.equal(doctor.code, 0, doctor.stdout + doctor.stderr)
    assert.doesNotMatch(doctor.stdout + doctor.stderr, /planted-/)
}

/** Re-encrypts to the end and checks that every row is now open to the added teammate. */
async function finish(h: Home): Promise<void> {
    await run(h.home, ["reencrypt", "*"])
    assert.deepEqual(states(h), { team: "new", solo: "new" })
    for (const [scope, e] of rows(h.home)) {
        for (const ct of e.cts) assert.ok(opens(h.added, ct), `a row of ${scope} is not open to the added teammate`)
    }
    await usable(h)
}

for (const [step, becomes] of [["decrypted", "old"], ["encrypted", "old"], ["committed", "new"]] as const) {
    test(`a re-encryption killed once ${step} leaves every scope wholly ${becomes} and usable, and a second one completes`, { timeout: 120_000 }, async () => {
        const h = await seeded(6)
        const child = start(h.home, ["reencrypt", "*", step])
        const exit = await child.exit
        assert.equal(exit.signal, "SIGKILL", exit.stderr)
        assert.deepEqual(states(h), { team: becomes, solo: becomes })
        await usable(h)
        await finish(h)
    })
}

test("a re-encryption of one scope killed at its steps leaves the other scope alone", { timeout: 120_000 }, async () => {
    const h = await seeded(3)
    for (const step of ["decrypted", "encrypted", "committed"]) {
        const exit = await start(h.home, ["reencrypt", "team", step]).exit
        assert.equal(exit.signal, "SIGKILL", exit.stderr)
    }
    assert.deepEqual(states(h), { team: "new", solo: "old" })
    await usable(h)
    await finish(h)
})

test("re-encryptions of two scopes of 41 rows killed at any moment leave every scope wholly old or new and every value readable", { timeout: 300_000 }, async () => {
    const h = await seeded(40)
    // how long one takes here, to spread the kills over it: there and back (the added teammate
    // dropped, then added again), so that each kill finds work to do
    const flip = async (on: boolean) => configure(h.home, on ? [h.first, h.added] : [h.first], on ? [h.added] : [])
    const probe = start(h.home, ["reencrypt", "*"])
    await reached(probe, "start")
    const t0 = performance.now()
    await reached(probe, "step committed")
    const duration = performance.now() - t0
    await probe.exit
    const got: string[] = []
    const outcomes = { old: 0, new: 0 }
    let on = true
    // six kills spread a little past its end, so that some land after the commit
    for (let i = 0; i < 6; i++) {
        on = !on
        await flip(on)
        const child = start(h.home, ["reencrypt", "*"])
        await reached(child, "start")
        await new Promise(r => setTimeout(r, (duration * 1.2 * i) / 5))
        child.kill("SIGKILL")
        const exit = await child.exit
        got.push(/step (\w+)\n(?!.*step)/s.exec(exit.stdout)?.[1] ?? "start")
        const s = states(h)
        assert.equal(s.team, s.solo, "one transaction for both scopes")
        const becomes = s.team === (on ? "new" : "old") ? "new" : "old"
        outcomes[becomes]++
        // not done: back to the state the rows are in
        if (becomes === "old") on = !on
        const dump = JSON.parse(await run(h.home, ["dump"])) as Dump
        assert.deepEqual(dump.secrets, h.expected)
    }
    console.log(`# reencrypt of 2 scopes × 41 rows took ${duration.toFixed(0)} ms; killed after: ${got.join(", ")}; ${outcomes.old} left wholly old, ${outcomes.new} wholly new`)
    await flip(true)
    await usable(h)
    await finish(h)
})

test("a value put between the re-encryption's reading and its commit makes it start over, never commit half a scope", { timeout: 120_000 }, async () => {
    const h = await seeded(6)
    const c = await config.load(join(h.home, "config.yaml"))
    const v = secrets.open(paths(h.home), { actor: "test" })
    try {
        // the row another process's `secret put` would write: sealed under the scope's current key
        const old = v.store.sqlite.prepare("SELECT * FROM secrets WHERE scope = 'team' AND key = 'KEY_3'").get() as Record<string, unknown>
        await configure(h.home, [h.first], [])
        await v.put("team", "KEY_3", `${value("team", "KEY_3")}-next`)
        const put = v.store.sqlite.prepare("SELECT * FROM secrets WHERE scope = 'team' AND key = 'KEY_3'").get() as Record<string, unknown>
        const swap = v.store.sqlite.prepare("UPDATE secrets SET ciphertext = @ciphertext, mac = @mac, scope_key = @scope_key, updated_at = @updated_at WHERE scope = 'team' AND key = 'KEY_3'")
        swap.run(old)
        await configure(h.home, [h.first, h.added], [h.added])
        // it lands just before the commit, after the rows before it in the scope were sealed again
        let landed = 0
        const done = await v.reencrypt(c, ["team"], { step: at => { if (at === "encrypted" && landed++ === 0) swap.run(put) } })
        assert.equal(landed, 2, "the re-encryption started over")
        assert.deepEqual(done.map(d => d.scope), ["team"])
    } finally {
        v.close()
    }
    h.expected["team/KEY_3"] = `${value("team", "KEY_3")}-next`
    assert.equal(states(h).team, "new")
    await usable(h)
})

for (const [what, at] of [["re-encryption", "encrypted"], ["key rotation", "staged"]] as const) {
    test(`a read begun just before a ${what} commits and ended after it returns the values, not a half state`, { timeout: 60_000 }, async () => {
        const h = await seeded(3)
        const c = await config.load(join(h.home, "config.yaml"))
        const v = secrets.open(paths(h.home), { actor: "test" })
        // the reader of another process: its row was read before the commit, the scope's key after
        const r = secrets.open(paths(h.home), { actor: "reader" })
        try {
            assert.equal(await r.get("team", "KEY_1"), value("team", "KEY_1"))
            let reads: [Promise<string>, Promise<Map<string, string>>] | undefined
            const step = (s: string) => { if (s === at && reads === undefined) reads = [r.get("team", "KEY_1"), r.scope("team", { reason: "test" })] }
            if (what === "key rotation") await v.rotate({ step })
            else await v.reencrypt(c, ["team"], { step })
            assert.ok(reads)
            assert.equal(await reads[0], value("team", "KEY_1"))
            assert.equal((await reads[1]).get("KEY_2"), value("team", "KEY_2"))
        } finally {
            r.close()
            v.close()
        }
    })
}

test("a reader holding the database, as serve does, never sees a half-re-encrypted scope", { timeout: 300_000 }, async () => {
    const h = await seeded(8)
    const stop = join(h.home, "stop")
    const reader = start(h.home, ["read", "team", stop])
    await reached(reader, "reading")
    // the team's key is replaced each time: the added teammate in, then out, and so on
    for (let i = 0; i < 6; i++) {
        await configure(h.home, i % 2 === 0 ? [h.first, h.added] : [h.first], [])
        assert.match(await run(h.home, ["reencrypt", "team"]), /"scope":"team"/)
    }
    await writeFile(stop, "")
    const exit = await reader.exit
    assert.equal(exit.code, 0, exit.stderr)
    const report = JSON.parse(exit.stdout.split("\n").at(-2) ?? "") as { reads: number; wrong: number; errors: string[] }
    assert.deepEqual(report.errors, [])
    assert.equal(report.wrong, 0)
    assert.ok(report.reads > 0)
    console.log(`# ${report.reads} reads across 6 re-encryptions of the scope, none failed`)
})
