import assert from "node:assert/strict"
import { test } from "node:test"
import * as config from "../../internal/config/index.ts"

/** The error `template` throws for `text`, with its hint. */
function malformed(text: string): config.Hinted {
    try {
        config.template(text)
    } catch (e) {
        assert.ok(e instanceof config.Hinted, "config's one error shape, with its hint")
        assert.equal(e.constructor, config.Hinted, "not a ConfigError: template knows no file or line")
        return e
    }
    assert.fail(`${JSON.stringify(text)} was accepted`)
}

test("a string without references is one literal part", () => {
    assert.deepEqual(config.template("plain text"), ["plain text"])
    assert.deepEqual(config.template(""), [])
})

test("secret and env references are split out of the text", () => {
    assert.deepEqual(config.template("Bearer ${secret:TOKEN}"), ["Bearer ", { secret: { key: "TOKEN" } }])
    assert.deepEqual(config.template("${secret:github-acme/GH_TOKEN}"), [{ secret: { scope: "github-acme", key: "GH_TOKEN" } }])
    assert.deepEqual(config.template("${env:HOME}/x:${secret:a.b/K}${env:_Y}"), [
        { env: "HOME" }, "/x:", { secret: { scope: "a.b", key: "K" } }, { env: "_Y" },
    ])
})

test("$$, a lone $ and $VAR stay literal text", () => {
    assert.deepEqual(config.template("pa$$word $HOME $ 5$"), ["pa$$word $HOME $ 5$"])
    assert.deepEqual(config.template("$${secret:X}"), ["$${secret:X}"])
    assert.deepEqual(config.template("$$$${env:A}"), ["$$$${env:A}"])
    assert.deepEqual(config.template("$$${env:A}"), ["$$", { env: "A" }])
    assert.deepEqual(config.template("{secret:X} }"), ["{secret:X} }"])
})

test("an unknown kind of reference is an error", () => {
    const e = malformed("x ${other:thing}")
    assert.equal(e.message, 'unknown reference "${other:thing}"')
    assert.match(e.hint, /\$\{secret:KEY\}/)
})

test("a ${NAME} reference is an error that points to env and secret", () => {
    const e = malformed("${GITHUB_TOKEN}")
    assert.equal(e.message, 'unknown reference "${GITHUB_TOKEN}"')
    assert.match(e.hint, /\$\{env:GITHUB_TOKEN\} or \$\{secret:GITHUB_TOKEN\}/)
})

test("an unterminated reference is an error", () => {
    assert.equal(malformed("Bearer ${secret:TOKEN").message, 'unterminated reference "${secret:TOKEN"')
    assert.equal(malformed("${").message, 'unterminated reference "${"')
})

test("malformed names inside references are errors", () => {
    assert.equal(malformed("${secret:}").message, 'invalid key name "" in "${secret:}"')
    assert.equal(malformed("${secret:1KEY}").message, 'invalid key name "1KEY" in "${secret:1KEY}"')
    assert.equal(malformed("${secret:a b/K}").message, 'invalid scope name "a b" in "${secret:a b/K}"')
    assert.equal(malformed("${secret:/K}").message, 'invalid scope name "" in "${secret:/K}"')
    assert.equal(malformed("${secret:a/b/K}").message, 'invalid reference "${secret:a/b/K}"')
    assert.equal(malformed("${env:A-B}").message, 'invalid environment variable name "A-B" in "${env:A-B}"')
    assert.equal(malformed("${env:}").message, 'invalid environment variable name "" in "${env:}"')
})
