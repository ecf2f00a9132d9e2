/**
 * A key file protected by a passphrase: a standard age scrypt file that Go's age opens, opened by
 * mcplexer from MCPLEXER_PASSPHRASE_FILE or a terminal prompt, and left untouched by a wrong or
 * missing passphrase. The real CLI (dist/), the real Go age, a real pseudo-terminal.
 */
import assert from "node:assert/strict"
import { execFileSync } from "node:child_process"
import { readdirSync, readFileSync, statSync } from "node:fs"
import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import { test } from "node:test"
import { cli, fresh, run, type Result } from "../helpers.ts"
import { available, tty } from "./pty.ts"

const planted = "ghp_protectPLANTED-41c7e2b9-never-shown"
const pass = "correct horse battery staple"

function goAge(): boolean {
    try {
        execFileSync("age", ["--version"], { stdio: "ignore" })
        return true
    } catch {
        return false
    }
}

/** A home with the planted value stored as gh/TOKEN and a passphrase file (mode 0600) beside it. */
async function home(): Promise<{ h: string; plain: Buffer; file: string }> {
    const h = await fresh()
    const init = await run(h, ["init"])
    assert.equal(init.code, 0, init.stderr)
    const put = await run(h, ["secret", "put", "gh", "TOKEN"], { input: planted })
    assert.equal(put.code, 0, put.stderr)
    const file = join(h, "passphrase")
    await writeFile(join(h, "passphrase"), `${pass}\n`, { mode: 0o600 })
    return { h, plain: readFileSync(join(h, "age.key")), file }
}

async function protect(h: string, file: string): Promise<void> {
    const r = await run(h, ["key", "protect"], { env: { MCPLEXER_PASSPHRASE_FILE: file } })
    assert.equal(r.code, 0, r.stderr)
}

/** Every file of the home folder, byte for byte. */
function snapshot(h: string): Map<string, string> {
    const out = new Map<string, string>()
    for (const name of readdirSync(h).sort()) {
        const p = join(h, name)
        if (statSync(p).isFile()) out.set(name, readFileSync(p).toString("base64"))
    }
    return out
}

function clean(...rs: Result[]): void {
    for (const r of rs) {
        assert.ok(!r.stdout.includes(planted) && !r.stderr.includes(planted), "the planted value leaked")
        assert.ok(!r.stdout.includes(pass) && !r.stderr.includes(pass), "the passphrase leaked")
    }
}

test("key protect writes a standard age scrypt file, which Go's age opens with the passphrase to the original key file", { skip: !goAge() || !available ? "needs Go age and python3" : false, timeout: 120_000 }, async () => {
    const { h, plain, file } = await home()
    await protect(h, file)
    const key = readFileSync(join(h, "age.key"))
    assert.match(key.toString("latin1"), /^age-encryption\.org\/v1\n-> scrypt \S+ 18\n/)
    assert.ok(!key.includes(Buffer.from("AGE-SECRET-KEY-")), "the identity is in plain text")
    assert.equal(statSync(join(h, "age.key")).mode & 0o777, 0o600)
    const out = join(h, "opened.key")
    const screen = await tty(["age", "-d", "-o", out, join(h, "age.key")], { PATH: process.env.PATH ?? "/usr/bin:/bin" }, [{ expect: "passphrase", send: `${pass}\n` }])
    assert.equal(screen.code, 0, screen.output)
    assert.deepEqual(readFileSync(out), plain)
})

test("MCPLEXER_PASSPHRASE_FILE opens a protected key: secret get prints the exact value, put and list work", { timeout: 120_000 }, async () => {
    const { h, file } = await home()
    await protect(h, file)
    const env = { MCPLEXER_PASSPHRASE_FILE: file }
    const get = await run(h, ["secret", "get", "gh", "TOKEN"], { env })
    assert.equal(get.code, 0, get.stderr)
    assert.equal(get.stdout, planted)
    const put = await run(h, ["secret", "put", "gh", "OTHER"], { env, input: "second" })
    assert.equal(put.code, 0, put.stderr)
    const back = await run(h, ["secret", "get", "gh", "OTHER"], { env })
    assert.equal(back.stdout, "second")
    clean(put, back)
})

test("a terminal prompt opens a protected key, and the prompt goes to the terminal, never to stdout", { skip: !available ? "needs python3" : false, timeout: 120_000 }, async () => {
    const { h, file } = await home()
    await protect(h, file)
    const out = join(h, "value.out")
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: h, MCPLEXER_HOME: h }
    // stdout is a file, as in $(mcplexer secret get …): the prompt still reaches the person
    const screen = await tty(["sh", "-c", `"${process.execPath}" "${cli}" secret get gh TOKEN > "${out}"`], env, [{ expect: "(input hidden): ", send: `${pass}\r` }])
    assert.equal(screen.code, 0, screen.output)
    assert.match(screen.output, /passphrase for .*age\.key \(input hidden\): /)
    assert.ok(!screen.output.includes(pass), "the passphrase was echoed")
    assert.equal(readFileSync(out, "utf8"), planted)
})

test("a wrong or a missing passphrase is an error and leaves every file as it was", { timeout: 180_000 }, async () => {
    const { h, file } = await home()
    await protect(h, file)
    const wrong = join(h, "wrong")
    await writeFile(wrong, "not the passphrase\n", { mode: 0o600 })
    const before = snapshot(h)
    const runs: Result[] = []
    for (const args of [["secret", "get", "gh", "TOKEN"], ["key", "rotate"], ["key", "unprotect"]]) {
        const bad = await run(h, args, { env: { MCPLEXER_PASSPHRASE_FILE: wrong } })
        assert.equal(bad.code, 1, bad.stderr)
        assert.match(bad.stderr, /^mcplexer: error: wrong passphrase for key file ".*age\.key"$/m)
        const none = await run(h, args)
        assert.equal(none.code, 1, none.stderr)
        assert.match(none.stderr, /^mcplexer: error: key file ".*age\.key" is protected by a passphrase, and there is no terminal to ask it on$/m)
        assert.match(none.stderr, /^mcplexer: hint: .*MCPLEXER_PASSPHRASE_FILE/m)
        runs.push(bad, none)
    }
    const put = await run(h, ["secret", "put", "gh", "TOKEN"], { input: "replacement", env: { MCPLEXER_PASSPHRASE_FILE: wrong } })
    assert.equal(put.code, 1, put.stderr)
    runs.push(put)
    clean(...runs)
    assert.deepEqual(snapshot(h), before)
})

test("serve with a wrong passphrase stops at its start, with nothing on stdout", { timeout: 120_000 }, async () => {
    const { h, file } = await home()
    await protect(h, file)
    const wrong = join(h, "wrong")
    await writeFile(wrong, "nope\n", { mode: 0o600 })
    const r = await run(h, ["serve"], { env: { MCPLEXER_PASSPHRASE_FILE: wrong }, input: "" })
    assert.equal(r.code, 1, r.stderr)
    assert.equal(r.stdout, "")
    assert.match(r.stderr, /wrong passphrase/)
})

test("key rotate keeps the key protected under the same passphrase, and unprotect brings back a plain key file", { timeout: 180_000 }, async () => {
    const { h, file } = await home()
    await protect(h, file)
    const env = { MCPLEXER_PASSPHRASE_FILE: file }
    const rot = await run(h, ["key", "rotate"], { env })
    assert.equal(rot.code, 0, rot.stderr)
    assert.match(readFileSync(join(h, "age.key"), "latin1"), /^age-encryption\.org\/v1\n-> scrypt /, "the rotated key was written in plain text")
    const get = await run(h, ["secret", "get", "gh", "TOKEN"], { env })
    assert.equal(get.stdout, planted, get.stderr)
    const un = await run(h, ["key", "unprotect"], { env })
    assert.equal(un.code, 0, un.stderr)
    const key = readFileSync(join(h, "age.key"), "utf8")
    // the mark line (identity.mark) went through the rotation, the scrypt file and back
    assert.match(key, /^# created: .*\n# public key: age1\S+\n# mcplexer: rows authenticated \(a row without a MAC is never adopted\)\nAGE-SECRET-KEY-1\S+\n$/)
    assert.ok(key.includes(rot.stdout.trim()), "not the rotated identity")
    const plain = await run(h, ["secret", "get", "gh", "TOKEN"])
    assert.equal(plain.stdout, planted, plain.stderr)
    clean(rot, un)
})

test("key unprotect gives back the very key file key protect took", { timeout: 120_000 }, async () => {
    const { h, plain, file } = await home()
    await protect(h, file)
    const again = await run(h, ["key", "protect"], { env: { MCPLEXER_PASSPHRASE_FILE: file } })
    assert.equal(again.code, 1)
    assert.match(again.stderr, /already protected by a passphrase/)
    const un = await run(h, ["key", "unprotect"], { env: { MCPLEXER_PASSPHRASE_FILE: file } })
    assert.equal(un.code, 0, un.stderr)
    assert.deepEqual(readFileSync(join(h, "age.key")), plain)
})
