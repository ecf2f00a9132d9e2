/** Usage mistakes name the word and suggest, in mcplexer's voice, exit 2 (issue 10). */
import assert from "node:assert/strict"
import { test } from "node:test"
import { fresh, run } from "../helpers.ts"

test("a mistyped command is named, with the closest one", async () => {
    const r = await run(await fresh(), ["secert", "list"])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /^mcplexer: error: unknown command "secert"\nmcplexer: hint: did you mean "secret"\?\n/)
    assert.doesNotMatch(r.stderr, /Did you mean|Unknown argument/)
})

test("an unknown command with nothing close lists the commands", async () => {
    const r = await run(await fresh(), ["frobnicate"])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /^mcplexer: error: unknown command "frobnicate"$/m)
    assert.match(r.stderr, /^mcplexer: hint: commands here: init, secret, key, .*serve, .*import, install, uninstall/m)
})

test("a mistyped subcommand and a mistyped option are named, with the closest", async () => {
    const sub = await run(await fresh(), ["secret", "lst"])
    assert.equal(sub.code, 2)
    assert.match(sub.stderr, /^mcplexer: error: unknown command "lst"\nmcplexer: hint: did you mean "list"\?\n/)
    const opt = await run(await fresh(), ["secret", "list", "--jsno"])
    assert.equal(opt.code, 2)
    assert.match(opt.stderr, /^mcplexer: error: unknown option "--jsno"\nmcplexer: hint: did you mean "--json"\?\nmcplexer: hint: run "mcplexer secret list --help" for usage\n$/)
})

test("mcplexer alone prints the usage to stderr, exit 2", async () => {
    const r = await run(await fresh(), [])
    assert.equal(r.code, 2)
    assert.equal(r.stdout, "")
    assert.match(r.stderr, /^Usage: mcplexer <command> \[options\]$/m)
    assert.match(r.stderr, /^ {2}mcplexer secret /m)
})

test("a missing argument is named, with the command's form", async () => {
    const home = await fresh()
    const get = await run(home, ["secret", "get", "github"])
    assert.equal(get.code, 2)
    assert.match(get.stderr, /^mcplexer: error: missing <key>: the command is "mcplexer secret get <scope> <key>"\nmcplexer: hint: run "mcplexer secret get --help" for usage\n$/)
    const install = await run(home, ["install"])
    assert.equal(install.code, 2)
    assert.match(install.stderr, /^mcplexer: error: missing <client>: the command is "mcplexer install <client>"$/m)
    assert.doesNotMatch(install.stderr + get.stderr, /non-option arguments/)
})
