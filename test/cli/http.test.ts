import assert from "node:assert/strict"
import { stat } from "node:fs/promises"
import { createServer } from "node:net"
import type { AddressInfo } from "node:net"
import { join } from "node:path"
import { test } from "node:test"
import { fresh, run } from "../helpers.ts"

test("token prints the same token every time and keeps it 0600", async () => {
    const home = await fresh()
    const a = await run(home, ["token"])
    assert.equal(a.code, 0, a.stderr)
    assert.match(a.stdout, /^mcp_[A-Za-z0-9_-]{43}\n$/)
    assert.match(a.stderr, /created .*api\.token/)
    const b = await run(home, ["token"])
    assert.equal(b.stdout, a.stdout)
    assert.equal(b.stderr, "")
    assert.equal((await stat(join(home, "api.token"))).mode & 0o777, 0o600)
    const c = await run(home, ["token", "--rotate"])
    assert.equal(c.code, 0, c.stderr)
    assert.notEqual(c.stdout, a.stdout)
    assert.match(c.stderr, /restart serve --http/)
})

test("serve --http refuses an address other machines can reach, with the flag that allows it", async () => {
    const home = await fresh()
    const r = await run(home, ["serve", "--http", "0.0.0.0:7777"])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^mcplexer: error: refusing to listen on "0\.0\.0\.0": it is reachable from other machines$/m)
    assert.match(r.stderr, /^mcplexer: hint: .*--allow-remote/m)
})

test("serve flags that only go with --http are a usage error without it", async () => {
    const home = await fresh()
    const r = await run(home, ["serve", "--stdio"])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /^mcplexer: error: --stdio, --allow-remote and --allow-host go with --http$/m)
    const bad = await run(home, ["serve", "--http", "127.0.0.1:99999"])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /^mcplexer: error: invalid --http address "127\.0\.0\.1:99999"$/m)
})

test("serve --http on a busy port names the port and how to choose another, exit 1", async () => {
    const home = await fresh()
    const busy = createServer()
    await new Promise<void>(done => busy.listen(0, "127.0.0.1", done))
    const port = (busy.address() as AddressInfo).port
    try {
        const r = await run(home, ["serve", "--http", `127.0.0.1:${port}`])
        assert.equal(r.code, 1)
        assert.match(r.stderr, new RegExp(`^mcplexer: error: port ${port} is already in use on 127\\.0\\.0\\.1$`, "m"))
        assert.match(r.stderr, new RegExp(`^mcplexer: hint: .*--http 127\\.0\\.0\\.1:PORT, or --http 127\\.0\\.0\\.1:0 for any free port$`, "m"))
        assert.doesNotMatch(r.stderr, /this is a bug|EADDRINUSE/)
    } finally {
        busy.close()
    }
})
