import assert from "node:assert/strict"
import { test } from "node:test"
import * as config from "../../internal/config/index.ts"

const server = (extra: string) => `servers:\n  s:\n    command: node\n${extra}`

test("max_line takes a size with a unit, or bytes", () => {
    const get = (v: string) => (config.parse(server(`    max_line: ${v}\n`), "/tmp/c.yaml").servers.get("s") as config.StdioServer).maxLine
    assert.equal(get("64MiB"), 64 * 1024 ** 2)
    assert.equal(get("512KiB"), 512 * 1024)
    assert.equal(get("1GB"), 1e9)
    assert.equal(get("65536"), 65536)
    assert.equal((config.parse(server(""), "/tmp/c.yaml").servers.get("s") as config.StdioServer).maxLine, undefined)
})

test("a max_line that is not a size, or on a remote server, is an error at its place", () => {
    assert.throws(() => config.parse(server("    max_line: lots\n"), "/tmp/c.yaml"), (e: unknown) => {
        assert.ok(e instanceof config.ConfigError)
        assert.equal(`${e.line}:${e.col}`, "4:15")
        assert.match(e.message, /"max_line" must be a size/)
        assert.match(e.hint, /64MiB/)
        return true
    })
    assert.throws(() => config.parse("servers:\n  r: { url: \"https://x/mcp\", max_line: 1MiB }\n", "/tmp/c.yaml"), /applies only to stdio servers/)
})
