/**
 * Age, expiry and rotation with overlap, as a user runs them: `secret put --expires`, a scope's
 * `rotate_every`, the warnings of `secret list`, `doctor` and `serve`'s start, and `put --next`
 * then `promote`, which restarts exactly the instances of the promoted scope in a running serve.
 */
import assert from "node:assert/strict"
import { createHash } from "node:crypto"
import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import { test } from "node:test"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import { cli, fresh, run } from "../helpers.ts"
import { fixture } from "./kit.ts"

const current = `ghp_currentPLANTED-${process.pid}-value`
const next = `ghp_nextPLANTED-${process.pid}-value`
const sha = (s: string) => createHash("sha256").update(s).digest("hex")

async function home(scopes = "  gh: {}\n  acme: {}\n", servers = "servers: {}\n"): Promise<string> {
    const h = await fresh(null)
    await writeFile(join(h, "config.yaml"), `auth_scopes:\n${scopes}${servers}`, { mode: 0o600 })
    assert.equal((await run(h, ["init"])).code, 0)
    return h
}

test("put --expires shows in list as age and expiry, and list --json carries updated and expires", async () => {
    const h = await home()
    assert.equal((await run(h, ["secret", "put", "gh", "TOKEN", "--expires", "30d"], { input: current })).code, 0)
    assert.equal((await run(h, ["secret", "put", "gh", "PLAIN"], { input: "a value without expiry" })).code, 0)
    const table = await run(h, ["secret", "list"])
    assert.match(table.stdout, /^SCOPE +KEY +UPDATED +AGE +EXPIRES +NEXT$/m)
    assert.match(table.stdout, /^gh +TOKEN +\S+ +1 minute +in 29 days \(\d{4}-\d{2}-\d{2}\) +-$/m)
    assert.match(table.stdout, /^gh +PLAIN +\S+ +1 minute +- +-$/m)
    const json = JSON.parse((await run(h, ["secret", "list", "--json"])).stdout) as Array<{ key: string; updated: string; expires: string | null }>
    const t = json.find(e => e.key === "TOKEN")
    assert.ok(t !== undefined && Math.abs(Date.parse(t.expires ?? "") - Date.now() - 30 * 86_400_000) < 60_000)
    assert.ok(Math.abs(Date.parse(t.updated) - Date.now()) < 60_000)
    assert.equal(json.find(e => e.key === "PLAIN")?.expires, null)
})

test("--expires takes a date or a duration with its unit, and refuses a bare number", async () => {
    const h = await home()
    const bare = await run(h, ["secret", "put", "gh", "TOKEN", "--expires", "30"], { input: current })
    assert.equal(bare.code, 2)
    assert.match(bare.stderr, /--expires "30" needs a unit or a date/)
    const junk = await run(h, ["secret", "put", "gh", "TOKEN", "--expires", "friday"], { input: current })
    assert.equal(junk.code, 2)
    assert.equal((await run(h, ["secret", "list", "--json"])).stdout.trim(), "[]", "nothing was stored")
    assert.equal((await run(h, ["secret", "put", "gh", "TOKEN", "--expires", "2031-01-31"], { input: current })).code, 0)
})

test("doctor warns about an expired value, one expiring within 14 days and one older than rotate_every", async () => {
    const h = await home("  gh: {}\n  acme: { rotate_every: 1s }\n")
    assert.equal((await run(h, ["secret", "put", "gh", "OLD", "--expires", "2020-01-01"], { input: current })).code, 0)
    assert.equal((await run(h, ["secret", "put", "gh", "SOON", "--expires", "5d"], { input: "soon value" })).code, 0)
    assert.equal((await run(h, ["secret", "put", "gh", "LATER", "--expires", "60d"], { input: "later value" })).code, 0)
    assert.equal((await run(h, ["secret", "put", "acme", "TOKEN"], { input: "rotate me" })).code, 0)
    await new Promise(r => setTimeout(r, 1100))
    const r = await run(h, ["doctor"])
    assert.match(r.stderr, /^mcplexer: warning: secret "gh\/OLD" expired \d+ days ago \(2020-01-01T00:00:00\.000Z\)$/m)
    assert.match(r.stderr, /^mcplexer: warning: secret "gh\/SOON" expires in 4 days/m)
    assert.doesNotMatch(r.stderr, /gh\/LATER/)
    assert.match(r.stderr, /^mcplexer: warning: secret "acme\/TOKEN" is \d+ (second|minute)s? old|^mcplexer: warning: secret "acme\/TOKEN" is 1 minute old; scope "acme" asks for a new value every/m)
    assert.match(r.stderr, /^mcplexer: hint: store a new value: mcplexer secret put gh OLD \(or stage it with --next, then: mcplexer secret promote gh OLD\)$/m)
    const json = JSON.parse((await run(h, ["doctor", "--json"])).stdout) as { findings: Array<{ message: string }> }
    assert.equal(json.findings.filter(f => /^secret "/.test(f.message)).length, 3)
})

test("serve says at its start which values expired", async () => {
    const h = await home()
    assert.equal((await run(h, ["secret", "put", "gh", "OLD", "--expires", "2020-01-01"], { input: current })).code, 0)
    const transport = new StdioClientTransport({ command: process.execPath, args: [cli, "serve"], env: { PATH: process.env.PATH ?? "", HOME: h, MCPLEXER_HOME: h }, stderr: "pipe" })
    let stderr = ""
    transport.stderr?.on("data", (d: Buffer) => { stderr += d.toString() })
    const client = new Client({ name: "expiry", version: "1.0.0" })
    await client.connect(transport)
    await client.listTools()
    await client.close()
    assert.match(stderr, /secret "gh\/OLD" expired \d+ days ago/)
    assert.ok(!stderr.includes(current))
})

test("put --next stages a value beside the current one, unused until promote; then promote refuses with nothing staged", async () => {
    const h = await home()
    const none = await run(h, ["secret", "put", "gh", "TOKEN", "--next"], { input: next })
    assert.equal(none.code, 1)
    assert.match(none.stderr, /is not stored, so there is nothing to stage a next value beside/)
    assert.equal((await run(h, ["secret", "put", "gh", "TOKEN"], { input: current })).code, 0)
    const staged = await run(h, ["secret", "put", "gh", "TOKEN", "--next"], { input: next })
    assert.equal(staged.code, 0, staged.stderr)
    assert.match(staged.stderr, /mcplexer secret promote gh TOKEN/)
    assert.equal((await run(h, ["secret", "get", "gh", "TOKEN"])).stdout, current)
    const listed = JSON.parse((await run(h, ["secret", "list", "--json"])).stdout) as Array<{ key: string; next?: string }>
    assert.deepEqual(listed.map(e => e.key), ["TOKEN"], "a staged value is no key of its own")
    assert.ok(listed[0]?.next !== undefined)
    const p = await run(h, ["secret", "promote", "gh", "TOKEN"])
    assert.equal(p.code, 0, p.stderr)
    assert.equal((await run(h, ["secret", "get", "gh", "TOKEN"])).stdout, next)
    const again = await run(h, ["secret", "promote", "gh", "TOKEN"])
    assert.equal(again.code, 1)
    assert.match(again.stderr, /^mcplexer: error: no value is staged beside secret "gh\/TOKEN"$/m)
    for (const r of [none, staged, p, again]) assert.ok(!r.stderr.includes(next) && !r.stdout.includes(next))
})

interface Instance { server: string; scope?: string; pid?: number; restarts: number; state: string }

async function instances(h: string): Promise<Map<string, Instance>> {
    const r = await run(h, ["status", "--json"])
    const s = JSON.parse(r.stdout) as { servers: Array<{ name: string; instances: Instance[] }> }
    return new Map(s.servers.flatMap(x => x.instances.map(i => [x.name, { ...i, server: x.name }] as const)))
}

test("promote restarts exactly the instances of its scope in a running serve; staging restarts nothing", async () => {
    const servers = `servers:\n  a: ${fixture("ds-server.ts", { scope: "gh" })}\n  b: ${fixture("ds-server.ts", { scope: "acme" })}\n`
    const h = await home("  gh: {}\n  acme: {}\n", servers)
    assert.equal((await run(h, ["secret", "put", "gh", "TOKEN"], { input: current })).code, 0)
    assert.equal((await run(h, ["secret", "put", "acme", "TOKEN"], { input: "the acme value" })).code, 0)
    const transport = new StdioClientTransport({ command: process.execPath, args: [cli, "serve", "--log-level", "debug"], env: { PATH: process.env.PATH ?? "", HOME: h, MCPLEXER_HOME: h }, stderr: "pipe" })
    let stderr = ""
    transport.stderr?.on("data", (d: Buffer) => { stderr += d.toString() })
    const client = new Client({ name: "promote", version: "1.0.0" })
    await client.connect(transport)
    const call = async (name: string, args: Record<string, unknown> = {}) => {
        const r = await client.callTool({ name, arguments: args }) as { content: Array<{ text?: string }> }
        return r.content.map(c => c.text ?? "").join("")
    }
    const pid = async (server: string) => (JSON.parse(await call(`${server}__pid`)) as { pid: number }).pid
    try {
        const pidA = await pid("a")
        const pidB = await pid("b")
        assert.ok(pidA > 0 && pidB > 0)
        assert.equal((JSON.parse(await call("a__env", { name: "TOKEN" })) as { sha256: string }).sha256, sha(current))

        assert.equal((await run(h, ["secret", "put", "gh", "TOKEN", "--next"], { input: next })).code, 0)
        await new Promise(r => setTimeout(r, 1500))
        assert.equal(await pid("a"), pidA, "staging restarted the instance")

        assert.equal((await run(h, ["secret", "promote", "gh", "TOKEN"])).code, 0)
        let now = pidA
        for (const end = Date.now() + 10_000; Date.now() < end && now === pidA;) {
            await new Promise(r => setTimeout(r, 200))
            now = (await instances(h)).get("a")?.pid ?? pidA
        }
        assert.notEqual(now, pidA, "the instance of scope gh was not restarted")
        assert.equal((JSON.parse(await call("a__env", { name: "TOKEN" })) as { sha256: string }).sha256, sha(next))
        assert.equal(await pid("b"), pidB, "the instance of scope acme was restarted")
        const st = await instances(h)
        assert.equal(st.get("b")?.pid, pidB)
        assert.equal(st.get("a")?.pid, now)
    } finally {
        await client.close()
    }
    assert.ok(!stderr.includes(next) && !stderr.includes(current))
})
