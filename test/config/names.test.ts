import assert from "node:assert/strict"
import { test } from "node:test"
import * as config from "../../internal/config/index.ts"

/** The error checkName throws, with its hint. */
function refused(kind: "scope" | "key" | "server" | "workspace", name: string): Error & { hint: string } {
    try {
        config.checkName(kind, name)
    } catch (e) {
        assert.ok(e instanceof Error)
        return e as Error & { hint: string }
    }
    assert.fail(`${kind} name ${JSON.stringify(name)} was accepted`)
}

test("valid names pass", () => {
    for (const n of ["gh", "github-acme", "a.b_c", "0", "x".repeat(64)]) config.checkName("scope", n)
    for (const n of ["GITHUB_TOKEN", "_x", "a1", "k".repeat(128)]) config.checkName("key", n)
    for (const n of ["github", "x-1", "9", "s".repeat(32)]) config.checkName("server", n)
    for (const n of ["acme", "acme.web_2"]) config.checkName("workspace", n)
})

test("an invalid scope name is refused with the allowed characters", () => {
    const e = refused("scope", "a b")
    assert.equal(e.message, 'invalid scope name "a b"')
    assert.match(e.hint, /letters, digits/)
    refused("scope", "-a")
    refused("scope", "x".repeat(65))
    refused("scope", "")
})

test("a key must be usable as an environment variable name", () => {
    assert.match(refused("key", "1TOKEN").hint, /environment variable/)
    refused("key", "A-B")
    refused("key", "k".repeat(129))
})

test("a server name cannot hold an underscore", () => {
    const e = refused("server", "my__server")
    assert.equal(e.message, 'invalid server name "my__server"')
    assert.match(e.hint, /server__tool/)
    refused("server", "a_b")
    refused("server", "s".repeat(33))
})

test("workspace names follow scope names", () => {
    assert.equal(refused("workspace", ".hidden").message, 'invalid workspace name ".hidden"')
    assert.equal(config.names.workspace.source, config.names.scope.source)
})
