import assert from "node:assert/strict"
import { test } from "node:test"
import { fresh, run } from "../helpers.ts"

// too short to be masked, so the CLI must say so: once when stored, and in every doctor run
const short = "Zq9"

test("a value shorter than 4 characters is stored with a warning, and doctor names it, never showing it", async () => {
    const home = await fresh()
    const put = await run(home, ["secret", "put", "gh", "PIN"], { input: short })
    assert.equal(put.code, 0, put.stderr)
    assert.match(put.stderr, /^mcplexer: warning: value of gh\/PIN is shorter than 4 characters, so it will never be masked in output$/m)
    const long = await run(home, ["secret", "put", "gh", "TOKEN"], { input: "long-enough-value" })
    assert.doesNotMatch(long.stderr, /warning/)
    const doctor = await run(home, ["doctor"])
    assert.match(doctor.stderr, /^mcplexer: warning: secret "gh\/PIN" is shorter than 4 characters, so it is never masked in output$/m)
    assert.doesNotMatch(doctor.stderr, /gh\/TOKEN" is shorter/)
    for (const r of [put, doctor]) assert.ok(!(r.stdout + r.stderr).includes(short))
})

test("a short value that is refused gets the error alone, not the short-value warning", async () => {
    const home = await fresh()
    const r = await run(home, ["secret", "put", "gh", "PIN"], { input: "a\0b" })
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^mcplexer: error: value of secret "gh\/PIN" contains a NUL byte; nothing was stored$/m)
    assert.doesNotMatch(r.stderr, /warning/)
})
