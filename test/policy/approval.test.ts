/** Approval: through elicitation (accept, decline, no answer), from another process, leases and their revocation. */
import assert from "node:assert/strict"
import { spawn } from "node:child_process"
import { join } from "node:path"
import { after, before, describe, test } from "node:test"
import type { ElicitResult } from "@modelcontextprotocol/sdk/types.js"
import * as gateway from "../../internal/gateway/index.ts"
import { cli, run } from "../helpers.ts"
import { folders, never, server, start, text, until, type Kit } from "./kit.ts"

const token = "acme-token-planted-4711"

function make(o: { lease?: string; timeout?: string } = {}) {
    return (home: string, log: string) => `auth_scopes:
  acme: {}
servers:
  alpha: ${server("alpha", log)}
workspaces:
  acme:
    root: ${join(home, "acme")}
    routes:
      - { tools: ["alpha__*"], scope: acme, approval: write, lease: ${o.lease ?? "10m"}, approval_timeout: ${o.timeout ?? "5s"} }
`
}

const accept = (): Promise<ElicitResult> => Promise.resolve({ action: "accept", content: {} })
const acceptLease = (): Promise<ElicitResult> => Promise.resolve({ action: "accept", content: { for: "lease" } })
const decline = (): Promise<ElicitResult> => Promise.resolve({ action: "decline" })

describe("approval through elicitation", () => {
    let k: Kit
    let root: string
    before(async () => {
        k = await start(make({ lease: "0", timeout: "1s" }), { secrets: { acme: { TOKEN: token } } })
        root = join(k.home, "acme")
        await folders(k.home, "acme")
    })
    after(async () => { await k.close() })

    test("a read-only tool runs without asking", async () => {
        const c = await k.connect({ root, elicit: accept })
        assert.equal(text(await c.client.callTool({ name: "alpha__read" })), "read ok")
        assert.equal(c.asked.length, 0)
    })

    test("an accepted write runs, and the person saw the tool, server, scope and redacted arguments", async () => {
        const c = await k.connect({ root, elicit: accept })
        // start the instance so the scope's token is known to the redaction registry
        await c.client.callTool({ name: "alpha__env", arguments: { name: "TOKEN" } })
        const r = await c.client.callTool({ name: "alpha__write", arguments: { note: `uses ${token}`, n: 1 } })
        assert.equal(text(r), "write ok")
        assert.equal(c.asked.length, 1)
        const m = c.asked[0]?.params.message ?? ""
        assert.match(m, /"alpha__write"/)
        assert.match(m, /server "alpha"/)
        assert.match(m, /scope "acme"/)
        assert.match(m, /\[redacted\]/)
        assert.ok(!m.includes(token))
    })

    test("a declined write is a tool error saying so, and nothing reaches the server", async () => {
        const c = await k.connect({ root, elicit: decline })
        const before = k.received().length
        const r = await c.client.callTool({ name: "alpha__write" })
        assert.equal(r.isError, true)
        assert.match(text(r), /tool "alpha__write" was denied \(declined by test-client\); nothing was sent to server "alpha"/)
        assert.equal(k.received().length, before)
        assert.equal(k.audit().findLast(x => x.action === "call")?.status, "denied")
    })

    test("a dismissed request is a denial too", async () => {
        const c = await k.connect({ root, elicit: () => Promise.resolve({ action: "cancel" }) })
        const r = await c.client.callTool({ name: "alpha__write" })
        assert.equal(r.isError, true)
        assert.match(text(r), /was denied \(dismissed by test-client\)/)
    })

    test("a client that never answers times out with a tool error, and nothing reaches the server", async () => {
        const c = await k.connect({ root, elicit: () => never() })
        const before = k.received().length
        const r = await c.client.callTool({ name: "alpha__write" })
        assert.equal(r.isError, true)
        assert.match(text(r), /timed out waiting for approval \(no answer within 1s\)/)
        assert.equal(k.received().length, before)
        assert.equal(k.audit().findLast(x => x.action === "call")?.status, "timeout")
        assert.equal(gateway.approvals(k.vault.store, { all: true })[0]?.status, "expired")
    })

    test("while one call waits for approval, the client's other calls go on", async () => {
        let release: (r: ElicitResult) => void = () => undefined
        const c = await k.connect({ root, elicit: () => new Promise(r => { release = r }) })
        const waiting = c.client.callTool({ name: "alpha__write" })
        await until(() => c.asked.length > 0 || undefined, 5000, "the elicitation")
        assert.equal(text(await c.client.callTool({ name: "alpha__read" })), "read ok")
        release({ action: "accept", content: {} })
        assert.equal(text(await waiting), "write ok")
    })

    test("with lease 0 every call asks again", async () => {
        const c = await k.connect({ root, elicit: accept })
        await c.client.callTool({ name: "alpha__write" })
        await c.client.callTool({ name: "alpha__write" })
        assert.equal(c.asked.length, 2)
        assert.deepEqual(gateway.leases(k.vault.store), [])
    })
})

describe("approval from another process", () => {
    let k: Kit
    let root: string
    before(async () => {
        k = await start(make({ lease: "10m", timeout: "20s" }))
        root = join(k.home, "acme")
        await folders(k.home, "acme")
    })
    after(async () => { await k.close() })

    test("mcplexer deny --reason refuses a waiting call with that reason", async () => {
        const c = await k.connect({ root })
        const waiting = c.client.callTool({ name: "alpha__write", arguments: { title: "x" } })
        const p = await until(() => gateway.approvals(k.vault.store)[0], 5000, "a pending approval")
        assert.equal(p.tool, "alpha__write")
        assert.equal(p.arguments, `{"title":"x"}`)
        const list = await run(k.home, ["approvals"])
        assert.equal(list.code, 0, list.stderr)
        assert.match(list.stdout, new RegExp(`^${p.id}\\s+alpha__write\\s+alpha\\s+acme\\s+acme\\s+test-client\\s+pending`, "m"))
        const d = await run(k.home, ["deny", String(p.id), "--reason", "not on a Friday"])
        assert.equal(d.code, 0, d.stderr)
        const r = await waiting
        assert.equal(r.isError, true)
        assert.match(text(r), /was denied \(not on a Friday\)/)
        assert.ok(!k.received().includes("write"))
        const again = await run(k.home, ["approve", String(p.id)])
        assert.equal(again.code, 1)
        assert.match(again.stderr, /^mcplexer: error: approval \d+ \("alpha__write"\) was already denied by cli$/m)
    })

    test("mcplexer approve lets that one call run and grants no lease: the next call asks again", async () => {
        const c = await k.connect({ root })
        const waiting = c.client.callTool({ name: "alpha__write" })
        const p = await until(() => gateway.approvals(k.vault.store)[0], 5000, "a pending approval")
        const a = await run(k.home, ["approve", String(p.id)])
        assert.equal(a.code, 0, a.stderr)
        assert.match(a.stderr, /^approved \d+: "alpha__write" on server "alpha" with scope "acme"$/m)
        assert.doesNotMatch(a.stderr, /lease/)
        assert.equal(text(await waiting), "write ok")
        assert.deepEqual(gateway.leases(k.vault.store), [])
        const next = c.client.callTool({ name: "alpha__write" })
        const q = await until(() => gateway.approvals(k.vault.store)[0], 5000, "a new pending approval")
        assert.notEqual(q.id, p.id)
        await run(k.home, ["deny", String(q.id)])
        assert.match(text(await next), /was denied \(denied by cli\)/)
    })

    test("mcplexer approve --for grants a lease, which mcplexer revoke ends", async () => {
        const c = await k.connect({ root })
        const waiting = c.client.callTool({ name: "alpha__write" })
        const p = await until(() => gateway.approvals(k.vault.store)[0], 5000, "a pending approval")
        const a = await run(k.home, ["approve", String(p.id), "--for", "5m"])
        assert.equal(a.code, 0, a.stderr)
        assert.match(a.stderr, /^lease \d+: calls to server "alpha" run without asking until .*mcplexer revoke \d+/m)
        assert.equal(text(await waiting), "write ok")

        // the lease lets the next write run without asking
        assert.equal(text(await c.client.callTool({ name: "alpha__write" })), "write ok")
        assert.deepEqual(gateway.approvals(k.vault.store), [])
        const leases = await run(k.home, ["approvals", "--leases"])
        assert.equal(leases.code, 0, leases.stderr)
        const l = gateway.leases(k.vault.store)[0]
        assert.ok(l)
        assert.match(leases.stdout, new RegExp(`^${l.id}\\s+acme\\s+alpha\\s+acme\\s+in \\d+m\\s+in force`, "m"))
        assert.equal(k.gw.pool.status().find(s => s.server === "alpha" && s.scope === "acme")?.state, "running")

        const rv = await run(k.home, ["revoke", String(l.id)])
        assert.equal(rv.code, 0, rv.stderr)
        // the instance holding the lease's credentials stops
        await until(() => k.gw.pool.status().find(s => s.server === "alpha" && s.scope === "acme")?.state === "stopped" || undefined, 5000, "the instance to stop")
        // and the next write asks again
        const next = c.client.callTool({ name: "alpha__write" })
        const q = await until(() => gateway.approvals(k.vault.store)[0], 5000, "a new pending approval")
        assert.notEqual(q.id, p.id)
        await run(k.home, ["deny", String(q.id)])
        assert.match(text(await next), /was denied \(denied by cli\)/)
    })

    test("approve --for longer than the route's lease is refused, and the call still waits", async () => {
        const c = await k.connect({ root })
        const waiting = c.client.callTool({ name: "alpha__write" })
        const p = await until(() => gateway.approvals(k.vault.store)[0], 5000, "a pending approval")
        const a = await run(k.home, ["approve", String(p.id), "--for", "2h"])
        assert.equal(a.code, 1)
        assert.match(a.stderr, /^mcplexer: error: approval \d+ allows a lease of at most 10m, not 2h$/m)
        assert.match(a.stderr, /^mcplexer: hint: approve it with --for 10m or less/m)
        assert.equal(gateway.approvals(k.vault.store)[0]?.status, "pending")
        const bad = await run(k.home, ["approve", String(p.id), "--for", "soon"])
        assert.equal(bad.code, 2)
        assert.match(bad.stderr, /^mcplexer: error: invalid --for "soon"$/m)
        await run(k.home, ["deny", String(p.id)])
        assert.equal((await waiting).isError, true)
    })

    test("approving one waiting call never runs another that waits beside it, with or without a lease", async () => {
        const c = await k.connect({ root })
        for (const l of gateway.leases(k.vault.store)) gateway.revoke(k.vault.store, l.id, "test")
        const before = k.received().filter(t => t === "write").length
        const create = c.client.callTool({ name: "alpha__write", arguments: { what: "create_entities" } })
        const pending1 = await until(() => gateway.approvals(k.vault.store)[0], 5000, "the first pending approval")
        const remove = c.client.callTool({ name: "alpha__write", arguments: { what: "delete_entities" } })
        await until(() => gateway.approvals(k.vault.store).length === 2 || undefined, 5000, "two pending approvals")
        // as the web UI does: approve the first, with the route's lease
        assert.equal(gateway.answer(k.vault.store, pending1.id, { approve: true, by: "http:ui", lease: 600_000 }).changed, true)
        assert.equal(text(await create), "write ok")
        // several polls later, the second call still waits for its own answer and has not run
        await new Promise(r => setTimeout(r, 1000)) // five times the waiting call's poll
        const left = gateway.approvals(k.vault.store)
        assert.equal(left.length, 1)
        assert.equal(left[0]?.arguments, `{"what":"delete_entities"}`)
        assert.equal(k.received().filter(t => t === "write").length, before + 1)
        // a call made after the lease was granted runs without asking
        assert.equal(text(await c.client.callTool({ name: "alpha__write", arguments: { what: "later" } })), "write ok")
        gateway.answer(k.vault.store, left[0].id, { approve: false, by: "test" })
        assert.match(text(await remove), /was denied/)
        assert.equal(k.received().filter(t => t === "write").length, before + 2)
    })

    test("mcplexer call waiting for approval says so on stderr, with the command that approves it", async () => {
        for (const l of gateway.leases(k.vault.store)) gateway.revoke(k.vault.store, l.id, "test")
        const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: k.home, MCPLEXER_HOME: k.home }
        const child = spawn(process.execPath, [cli, "call", "alpha__write", "--args", "{}"], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] })
        let stderr = "", stdout = ""
        child.stderr.setEncoding("utf8").on("data", (d: string) => { stderr += d })
        child.stdout.setEncoding("utf8").on("data", (d: string) => { stdout += d })
        const closed = new Promise<number | null>(done => child.on("close", done))
                const told = await until(() => /waits for approval (\d+): approve it with mcplexer approve (\d+)/.exec(stderr) ?? undefined, 15000, "the waiting notice")
        assert.equal(told[1], told[2])
        assert.match(stderr, /add --for 10m/)
        const a = await run(k.home, ["approve", told[1]!])
        assert.equal(a.code, 0, a.stderr)
        assert.equal(await closed, 0, stderr)
        assert.equal(stdout, "write ok\n")
    })

    test("approving an unknown id is an error with a hint", async () => {
        const r = await run(k.home, ["approve", "999"])
        assert.equal(r.code, 1)
        assert.match(r.stderr, /^mcplexer: error: no approval 999$/m)
        assert.match(r.stderr, /^mcplexer: hint: see the pending ones with: mcplexer approvals$/m)
    })
})

describe("lease expiry", () => {
    let k: Kit
    before(async () => {
        k = await start(make({ lease: "1s", timeout: "5s" }))
        await folders(k.home, "acme")
    })
    after(async () => { await k.close() })

    test("accepting the form for this call only grants no lease", async () => {
        const c = await k.connect({ root: join(k.home, "acme"), elicit: accept })
        await c.client.callTool({ name: "alpha__write" })
        await c.client.callTool({ name: "alpha__write" })
        assert.equal(c.asked.length, 2)
        const form = c.asked[0]?.params as { requestedSchema?: { properties?: Record<string, { oneOf?: Array<{ const: string; title: string }> }> } }
        assert.deepEqual(form.requestedSchema?.properties?.for?.oneOf?.map(o => o.const), ["call", "lease"])
        assert.match(form.requestedSchema?.properties?.for?.oneOf?.[1]?.title ?? "", /for 1s$/)
        assert.deepEqual(gateway.leases(k.vault.store), [])
    })

    test("an expired lease asks again", async () => {
        const c = await k.connect({ root: join(k.home, "acme"), elicit: acceptLease })
        // started first, so the lease's second does not go into starting the server
        await c.client.callTool({ name: "alpha__read" })
        await c.client.callTool({ name: "alpha__write" })
        await c.client.callTool({ name: "alpha__write" })
        assert.equal(c.asked.length, 1)
        await new Promise(r => setTimeout(r, 1200))
        await c.client.callTool({ name: "alpha__write" })
        assert.equal(c.asked.length, 2)
        const rows = k.audit().filter(r => r.action === "lease")
        assert.equal(rows.length, 2)
    })
})
