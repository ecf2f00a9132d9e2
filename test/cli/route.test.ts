/** `mcplexer route`: explains a decision without starting anything. */
import assert from "node:assert/strict"
import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import { test } from "node:test"
import { fresh, run } from "../helpers.ts"
import { example } from "../policy/example.ts"
import { fixture, yaml } from "./kit.ts"

// the README's example, with a lease on its first acme route so the explanation shows one
const config = example.replace('approval: all }', 'approval: all, lease: 15m }')

test("route explains the chain, the route that matched, the server, the scope and the approval", async () => {
    const home = await fresh(config)
    const r = await run(home, ["route", "github__create_issue", "--root", join(home, "work", "acme", "api")])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^chain\s+acme \(.*\/work\/acme\), work \(.*\/work\)$/m)
    assert.match(r.stdout, /^decision\s+allow$/m)
    assert.match(r.stdout, /^by\s+route 1 of workspace "acme"$/m)
    assert.match(r.stdout, /^server\s+github$/m)
    assert.match(r.stdout, /^scope\s+github-acme$/m)
    assert.match(r.stdout, /^approval\s+asks \(approval: all; .*\), then a lease of 15m, waits 5m$/m)
})

test("route says why the routes before the match did not match", async () => {
    const home = await fresh(config)
    const r = await run(home, ["route", "linear__list_issues", "--root", join(home, "work", "acme")])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^decision\s+deny$/m)
    assert.match(r.stdout, /^by\s+route 1 of workspace "work"$/m)
    assert.match(r.stdout, /^listed\s+no: the session does not see this tool$/m)
    assert.match(r.stdout, /^ {2}route 1 of workspace "acme" does not match: tools "github__create_\*", "github__merge_\*"$/m)
    assert.match(r.stdout, /^ {2}no route of workspace "acme" matches: the next workspace up decides$/m)
    assert.match(r.stdout, /^ {2}route 1 of workspace "work" matches: tools "linear__\*"$/m)
})

test("route outside every workspace falls back to the server's own scope", async () => {
    const home = await fresh(config)
    const r = await run(home, ["route", "github__search_code", "--root", join(home, "src"), "--json"])
    assert.equal(r.code, 0, r.stderr)
    const d = JSON.parse(r.stdout) as { action: string; scope: string; route: string; chain: string[] }
    assert.equal(d.action, "allow")
    assert.equal(d.scope, "github-personal")
    assert.equal(d.route, "default")
    assert.deepEqual(d.chain, [])
})

test("route of a tool no server exposes is an error with a hint", async () => {
    const home = await fresh(config)
    const r = await run(home, ["route", "jira__search"])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^mcplexer: error: no server exposes tool "jira__search"$/m)
    assert.match(r.stderr, /^mcplexer: hint: tool names start with their server's name: github__…, linear__…$/m)
})

test("route gives no answer for a name a prefix-less server not learned yet could take: serve would use another server", async () => {
    // zeta is learned first; alpha, added later, lists the same bare names and sorts first, so
    // serve gives it "echo" (and zeta "echo_<hash>") as soon as it learns alpha's tools
    const zeta = fixture("gw-server.ts", { prefix: false, scope: "gh", env: { GW_NAME: "zeta" } })
    const alpha = fixture("gw-server.ts", { prefix: false, scope: "acme", env: { GW_NAME: "alpha" } })
    const home = await fresh(yaml({ zeta }))
    assert.equal((await run(home, ["init"])).code, 0)
    const refresh = await run(home, ["tools", "refresh"])
    assert.equal(refresh.code, 0, refresh.stderr)
    await writeFile(join(home, "config.yaml"), yaml({ zeta, alpha }))
    const r = await run(home, ["route", "echo", "--json"])
    assert.equal(r.code, 1, r.stdout)
    assert.match(r.stderr, /^mcplexer: error: which server serves tool "echo" depends on the tools of "alpha", not learned yet \(prefix: false\)$/m)
    assert.match(r.stderr, /^mcplexer: hint: learn them with: mcplexer tools refresh/m)
    // once serve's naming tables know both, route names what a call uses
    assert.equal((await run(home, ["tools", "refresh"])).code, 0)
    const after = await run(home, ["route", "echo", "--json"])
    assert.equal(after.code, 0, after.stderr)
    assert.equal((JSON.parse(after.stdout) as { server: string }).server, "alpha")
    const call = await run(home, ["call", "echo", "--args", '{"text":"x"}'])
    assert.match(call.stdout + call.stderr, /alpha/)
})
