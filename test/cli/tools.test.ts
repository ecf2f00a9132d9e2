import assert from "node:assert/strict"
import { join } from "node:path"
import { test } from "node:test"
import { run } from "../helpers.ts"
import { alive, clean, everything, fixture, home, started } from "./kit.ts"

const valid = /^[a-zA-Z0-9_-]{1,64}$/

test("tools --json lists every server's tools under names every client accepts", async () => {
    const h = await home({
        ds: fixture("ds-server.ts", { scope: "gh" }),
        names: fixture("gw-names.ts"),
        everything: everything({ scope: "gh" }),
    })
    const r = await run(h, ["tools", "--json"])
    assert.equal(r.code, 0, r.stderr)
    const list = JSON.parse(r.stdout) as Array<{ name: string; server: string; original: string }>
    for (const t of list) assert.match(t.name, valid)
    assert.ok(list.some(t => t.name === "ds__echo" && t.server === "ds" && t.original === "echo"))
    assert.ok(list.some(t => t.name === "everything__get-env" && t.server === "everything"))
    assert.ok(list.some(t => t.server === "names" && t.original === "x".repeat(70)))
    assert.equal(new Set(list.map(t => t.name)).size, list.length)
    clean(r)
})

test("tools prints name, server and the first line of each description", async () => {
    const h = await home({ ds: fixture("ds-server.ts", { scope: "gh" }) })
    const r = await run(h, ["tools"])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^NAME\s+SERVER\s+DESCRIPTION$/m)
    assert.match(r.stdout, /^ds__echo\s+ds\s+fixture tool echo$/m)
    clean(r)
})

test("tools leaves no child process behind", async () => {
    const h = await home(h => ({ ds: fixture("ds-server.ts", { scope: "gh", env: { DS_START_LOG: join(h, "starts.log") } }) }))
    const log = join(h, "starts.log")
    const r = await run(h, ["tools"])
    assert.equal(r.code, 0, r.stderr)
    const pids = started(log)
    assert.equal(pids.length, 1, "the server was started once to learn its catalog")
    for (const pid of pids) assert.ok(!alive(pid), `server process ${pid} outlived mcplexer tools`)
    // learned once: the next listing answers from the cache without starting anything
    const again = await run(h, ["tools"])
    assert.equal(again.code, 0, again.stderr)
    assert.equal(started(log).length, 1)
})

test("tools refresh relearns every server, reports counts, and fails for a broken one alone", async () => {
    const h = await home({
        ds: fixture("ds-server.ts", { scope: "gh" }),
        broken: JSON.stringify({ command: "mcplexer-no-such-command" }),
    })
    const r = await run(h, ["tools", "refresh"])
    assert.equal(r.code, 1)
    assert.match(r.stdout, /^ds\s+15\s+1\s+1\s+1$/m)
    assert.match(r.stderr, /^mcplexer: error: server "broken" cannot run "mcplexer-no-such-command"/m)
    // the good server's catalog was stored all the same
    const list = await run(h, ["tools", "--json"])
    assert.ok((JSON.parse(list.stdout) as Array<{ name: string }>).some(t => t.name === "ds__echo"))
    assert.equal(list.code, 1, "a server whose tools cannot be listed makes `tools` fail")
    assert.match(list.stderr, /^mcplexer: error: could not list the tools of "broken"$/m)
    clean(r, list)
})

test("tools refresh --json reports each server's outcome", async () => {
    const h = await home({ ds: fixture("ds-server.ts", { scope: "gh" }) })
    const r = await run(h, ["tools", "refresh", "--json"])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout), [{ server: "ds", ok: true, tools: 15, prompts: 1, resources: 1, templates: 1 }])
})

test("tools with no servers configured says so", async () => {
    const h = await home({})
    const r = await run(h, ["tools"])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /^no servers configured in /m)
})

test("a downstream's tool description with terminal escapes is shown escaped, in the table and in --json", async () => {
    // ds-server puts $TOKEN in echo's description with DS_LEAKY; here it is no secret but a line-rewriting escape
    const h = await home({ ds: fixture("ds-server.ts", { env: { DS_LEAKY: "1", TOKEN: "\u001b[2K\rsafe\u202e tool\u009b" } }) })
    const r = await run(h, ["tools"])
    assert.equal(r.code, 0, r.stderr)
    // eslint-disable-next-line no-control-regex
    assert.ok(!/[\u001b\r\u202e\u009b]/.test(r.stdout + r.stderr), `a raw escape reached the terminal:\n${r.stdout}`)
    assert.match(r.stdout, /^ds__echo\s+ds\s+echoes; uses \\x1b\[2K\\rsafe\\u202e tool\\u009b$/m)
    const j = await run(h, ["tools", "--json"])
    assert.equal(j.code, 0, j.stderr)
    // eslint-disable-next-line no-control-regex
    assert.ok(!/[\u001b\r\u202e\u009b]/.test(j.stdout), "a raw escape reached the terminal in --json")
    const echo = (JSON.parse(j.stdout) as Array<{ name: string; description: string }>).find(t => t.name === "ds__echo")
    assert.equal(echo?.description, "echoes; uses \u001b[2K\rsafe\u202e tool\u009b", "--json no longer carries the exact description")
})
