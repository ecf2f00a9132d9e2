import assert from "node:assert/strict"
import { chmod, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { test } from "node:test"
import { fresh, run } from "../helpers.ts"
import { clean, fixture, home, yaml } from "./kit.ts"

test("a clean setup says no problems found", async () => {
    const h = await home(h => ({ ds: fixture("ds-server.ts", { scope: "gh", env: { DS_START_LOG: join(h, "starts.log") } }) }))
    const r = await run(h, ["doctor"])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /^no problems found$/m)
    assert.match(r.stderr, /^ok: key file .*age\.key \(mode 0600, age1/m)
    assert.doesNotMatch(r.stderr, /mcplexer: (error|warning)/)
    clean(r)
})

test("a missing secret is an error with the exact command that stores it", async () => {
    const h = await home({
        ds: fixture("ds-server.ts", { scope: "gh", env: { API: "${secret:API_KEY}" } }),
        again: fixture("ds-server.ts", { scope: "gh", args: ["${secret:API_KEY}"] }),
    })
    const r = await run(h, ["doctor"])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^mcplexer: error: secret "gh\/API_KEY" is not stored \(needed by servers "ds", "again"\)$/m)
    assert.match(r.stderr, /^mcplexer: hint: mcplexer secret put gh API_KEY$/m)
    assert.match(r.stderr, /^1 error, 1 warning$/m) // the warning: ${secret:API_KEY} in args
    clean(r)
})

test("a key file others can read is an error fixed by chmod 600", async () => {
    const h = await home({ ds: fixture("ds-server.ts", { scope: "gh" }) })
    const key = join(h, "age.key")
    await chmod(key, 0o644)
    const r = await run(h, ["doctor"])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^mcplexer: error: key file .*age\.key is readable by others \(mode 0644\)$/m)
    assert.ok(r.stderr.includes(`mcplexer: hint: chmod 600 ${key}\n`), r.stderr)
    clean(r)
})

test("a command not on PATH is an error with its fix", async () => {
    const h = await home({
        ghost: JSON.stringify({ command: "mcplexer-no-such-command" }),
        path: JSON.stringify({ command: "/nonexistent/bin/server" }),
    })
    const r = await run(h, ["doctor"])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^mcplexer: error: server "ghost": command "mcplexer-no-such-command" is not found on PATH$/m)
    assert.match(r.stderr, /^mcplexer: hint: install it, or give its absolute path as the command of server "ghost" in .*config\.yaml$/m)
    assert.match(r.stderr, /^mcplexer: error: server "path": command "\/nonexistent\/bin\/server" does not exist$/m)
})

test("a file that is not executable is named as such", async () => {
    const h = await home(h => ({ script: JSON.stringify({ command: join(h, "server.sh") }) }))
    await writeFile(join(h, "server.sh"), "#!/bin/sh\n", { mode: 0o644 })
    const r = await run(h, ["doctor"])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^mcplexer: error: server "script": command ".*server\.sh" is not executable$/m)
})

test("a scope a server uses with no stored keys is a warning, not an error", async () => {
    const h = await home({ ds: fixture("ds-server.ts", { scope: "acme" }) })
    const r = await run(h, ["doctor"])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /^mcplexer: warning: scope "acme" has no stored keys, but server "ds" uses it$/m)
    assert.match(r.stderr, /^mcplexer: hint: store what the server needs with: mcplexer secret put acme <KEY>$/m)
    assert.match(r.stderr, /^0 errors, 1 warning$/m)
})

test("a config that does not load is an error with its place, and the other checks still run", async () => {
    const h = await fresh("servers:\n  ds: { command: node, scope: [oops] }\n")
    await run(h, ["secret", "list"])
    const r = await run(h, ["doctor"])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^mcplexer: error: .*config\.yaml:2:\d+: /m)
    assert.match(r.stderr, /^ok: database /m)
})

test("a damaged database is an error", async () => {
    const h = await home({})
    await writeFile(join(h, "mcplexer.db"), "this is not a database, just text that is long enough to look like a header".repeat(20))
    await writeFile(join(h, "config.yaml"), yaml({}))
    const r = await run(h, ["doctor"])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^mcplexer: error: database .*mcplexer\.db cannot be opened: /m)
})

test("a fresh home before init gets warnings that point to mcplexer init", async () => {
    const h = await fresh(yaml({}))
    const r = await run(h, ["doctor"])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /^mcplexer: warning: key file .*age\.key does not exist yet$/m)
    assert.match(r.stderr, /^mcplexer: hint: mcplexer init/m)
})

test("a prefix-less server whose tools were never listed is a warning that its names are not checked, until tools refresh lists them", async () => {
    const h = await home({ squat: fixture("gw-server.ts", { prefix: false, scope: "gh", env: { GW_NAME: "squat" } }) })
    const before = await run(h, ["doctor"])
    assert.match(before.stderr, /^mcplexer: warning: the tool names of server "squat" \(prefix: false\) are not checked: its tools were never listed$/m)
    assert.match(before.stderr, /^mcplexer: hint: list them with: mcplexer tools refresh/m)
    assert.equal((await run(h, ["tools", "refresh"])).code, 0)
    const after = await run(h, ["doctor"])
    assert.doesNotMatch(after.stderr, /are not checked/)
    clean(before, after)
})
