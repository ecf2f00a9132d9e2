/**
 * `secret get` on a terminal shows a mask of the value (its first 4 characters and its length)
 * unless --reveal; to a pipe or a file it writes the exact bytes. A real pseudo-terminal.
 */
import assert from "node:assert/strict"
import { randomBytes } from "node:crypto"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { test } from "node:test"
import { mask } from "../../internal/cli/get.ts"
import { cli, fresh, run } from "../helpers.ts"
import { available, tty } from "../secrets/pty.ts"

// made at run time (a token-shaped value of 40 characters, as GitHub's are), never written in the source
const planted = `ghp_${randomBytes(18).toString("hex")}`
const skip = available ? false : "needs python3 for a pseudo-terminal"

async function home(): Promise<{ h: string; env: Record<string, string> }> {
    const h = await fresh()
    assert.equal((await run(h, ["init"])).code, 0)
    assert.equal((await run(h, ["secret", "put", "gh", "TOKEN"], { input: planted })).code, 0)
    assert.equal((await run(h, ["secret", "put", "gh", "PIN"], { input: "4711-secret" })).code, 0)
    return { h, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: h, MCPLEXER_HOME: h } }
}

test("on a terminal, secret get shows the first 4 characters and the length, never the value", { skip, timeout: 60_000 }, async () => {
    const { env } = await home()
    const s = await tty([process.execPath, cli, "secret", "get", "gh", "TOKEN"], env)
    assert.equal(s.code, 0, s.output)
    assert.match(s.output, new RegExp(`^ghp_… \\(${planted.length} characters\\)\\r?$`, "m"))
    assert.match(s.output, /--reveal/)
    assert.ok(!s.output.includes(planted.slice(4, 12)), s.output)
})

test("a value shorter than 20 characters shows only its length", { skip, timeout: 60_000 }, async () => {
    const { env } = await home()
    const s = await tty([process.execPath, cli, "secret", "get", "gh", "PIN"], env)
    assert.equal(s.code, 0, s.output)
    assert.match(s.output, /^… \(11 characters\)\r?$/m)
    assert.ok(!s.output.includes("4711"), s.output)
})

test("--reveal prints the value on a terminal, on the fast path and through the parser", { skip, timeout: 60_000 }, async () => {
    const { h, env } = await home()
    for (const args of [["secret", "get", "gh", "TOKEN", "--reveal"], ["secret", "get", "--reveal", "gh", "TOKEN"],
        ["secret", "get", "gh", "TOKEN", "--reveal", "--config", join(h, "config.yaml")]]) {
        const s = await tty([process.execPath, cli, ...args], env)
        assert.equal(s.code, 0, s.output)
        assert.match(s.output, new RegExp(`^${planted}\\r?$`, "m"), args.join(" "))
    }
})

test("to a pipe or a file, secret get writes the exact bytes, no mask and no newline", { skip, timeout: 60_000 }, async () => {
    const { h, env } = await home()
    const piped = await run(h, ["secret", "get", "gh", "TOKEN"])
    assert.equal(piped.stdout, planted)
    const out = join(h, "v.out")
    const s = await tty(["sh", "-c", `"${process.execPath}" "${cli}" secret get gh TOKEN > "${out}"`], env)
    assert.equal(s.code, 0, s.output)
    assert.equal(readFileSync(out, "utf8"), planted)
    assert.ok(!s.output.includes("characters"))
})

test("mask: 4 characters of a long value, the length alone of a short one, bytes of non-UTF-8, control characters escaped", () => {
    assert.equal(mask(Buffer.from("a".repeat(19))), "… (19 characters)")
    assert.equal(mask(Buffer.from("abcd".repeat(5))), "abcd… (20 characters)")
    assert.equal(mask(Buffer.from("ключ-ключ-ключ-ключ-ключ")), "ключ… (24 characters)")
    assert.equal(mask(Buffer.from([0xff, 0xfe, 0x41])), "… (3 bytes, not UTF-8 text)")
    assert.equal(mask(Buffer.from("\x1b[2Jxxxxxxxxxxxxxxxxxxxxx")), "\\x1b[2J… (25 characters)")
    assert.equal(mask(Buffer.from("x")), "… (1 character)")
})
