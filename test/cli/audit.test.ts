/** `mcplexer audit`: filters, JSON lines, and --follow. */
import assert from "node:assert/strict"
import { spawn } from "node:child_process"
import { join } from "node:path"
import { test } from "node:test"
import * as store from "../../internal/store/index.ts"
import { cli, fresh, run } from "../helpers.ts"

function seed(home: string): void {
    const s = store.open(join(home, "mcplexer.db"))
    const insert = s.sqlite.prepare("INSERT INTO audit (time, action, actor, scope, server, tool, status, workspace, route, latency, detail) VALUES (?, 'call', 'claude', ?, 'github', ?, ?, 'acme', 'acme#1', 12, ?)")
    insert.run(Date.now() - 3 * 3_600_000, "github-acme", "github__create_issue", "ok", JSON.stringify({ arguments: ["title", "body"] }))
    insert.run(Date.now() - 60_000, "github-acme", "github__merge_pr", "denied", JSON.stringify({ arguments: ["number"] }))
    insert.run(Date.now() - 30_000, "github-personal", "github__search_code", "ok", JSON.stringify({ arguments: ["q"] }))
    store.audit.add(s, { action: "resolve", actor: "serve", scope: "github-acme", status: "ok", detail: { keys: ["GITHUB_TOKEN"], reason: "start" } })
    s.close()
}

test("audit prints the trail oldest first, with argument names", async () => {
    const home = await fresh()
    seed(home)
    const r = await run(home, ["audit"])
    assert.equal(r.code, 0, r.stderr)
    const lines = r.stdout.trim().split("\n")
    assert.match(lines[0] ?? "", /^TIME\s+ACTION\s+ACTOR\s+WORKSPACE\s+TOOL/)
    assert.match(lines[1] ?? "", /call\s+claude\s+acme\s+github__create_issue\s+github\s+github-acme\s+-\s+acme#1\s+ok\s+12ms\s+args=title,body$/)
    assert.match(lines[4] ?? "", /resolve\s+serve\s+-\s+-\s+-\s+github-acme\s+-\s+-\s+ok\s+-\s+keys=\["GITHUB_TOKEN"\] reason=start$/)
})

test("audit filters by tool, scope, status and time", async () => {
    const home = await fresh()
    seed(home)
    const by = async (...args: string[]) => (await run(home, ["audit", "--json", ...args])).stdout.trim().split("\n").filter(Boolean).map(l => JSON.parse(l) as { tool: string | null; action: string })
    assert.deepEqual((await by("--status", "denied")).map(r => r.tool), ["github__merge_pr"])
    assert.deepEqual((await by("--scope", "github-personal")).map(r => r.tool), ["github__search_code"])
    assert.deepEqual((await by("--tool", "github__create_issue")).map(r => r.tool), ["github__create_issue"])
    assert.deepEqual((await by("--since", "1h")).map(r => r.tool), ["github__merge_pr", "github__search_code", null])
    const bad = await run(home, ["audit", "--since", "yesterday-ish"])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /^mcplexer: error: invalid --since "yesterday-ish"$/m)
})

test("audit --follow prints rows as they are written", async () => {
    const home = await fresh()
    seed(home)
    const child = spawn(process.execPath, [cli, "audit", "--follow", "--json", "--status", "error"], { env: { PATH: process.env.PATH ?? "", HOME: home, MCPLEXER_HOME: home }, stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    child.stdout.setEncoding("utf8").on("data", (d: string) => { out += d })
    await new Promise(r => setTimeout(r, 800))
    const s = store.open(join(home, "mcplexer.db"))
    store.audit.add(s, { action: "call", actor: "claude", tool: "github__fail", status: "error" })
    s.close()
    const end = Date.now() + 5000
    while (!out.includes("github__fail") && Date.now() < end) await new Promise(r => setTimeout(r, 50))
    child.kill("SIGTERM")
    const code = await new Promise(r => child.on("close", r))
    assert.equal(code, 0)
    const rows = out.trim().split("\n").map(l => JSON.parse(l) as { tool: string })
    assert.deepEqual(rows.map(r => r.tool), ["github__fail"])
})
