/** The approval queue over REST and the UI's form: an answer approves one call; a lease only when asked for. */
import assert from "node:assert/strict"
import { after, before, test } from "node:test"
import * as gateway from "../../internal/gateway/index.ts"
import { until } from "../gateway/harness.ts"
import { dsConfig, start, type Kit } from "./kit.ts"

let k: Kit
let client: Awaited<ReturnType<Kit["client"]>>["client"]
before(async () => {
    // an HTTP client offers no roots: its session is rooted in the gateway's folder
    k = await start(dsConfig(`workspaces:
  here:
    root: ${JSON.stringify(process.cwd())}
    routes:
      - { tools: ["ds__echo"], approval: all, lease: 10m, approval_timeout: 20s }
`), { secrets: { gh: { TOKEN: "planted-approve-token-0815" } } })
    client = (await k.client()).client
})
after(async () => { await client.close(); await k.close() })

async function waiting(): Promise<{ id: number; call: Promise<unknown> }> {
    const call = client.callTool({ name: "ds__echo", arguments: { text: "hi" } })
    const p = await until(() => gateway.approvals(k.vault.store)[0], 10000, "a pending approval")
    return { id: p.id, call }
}

test("the API's approve approves that call only, and ?for grants a lease no longer than the route's", async () => {
    const a = await waiting()
    assert.deepEqual(await (await k.req(`/api/v1/approvals/${a.id}/approve`, { method: "POST" })).json(), { id: a.id, status: "approved" })
    await a.call
    assert.deepEqual(gateway.leases(k.vault.store), [])

    const b = await waiting()
    const over = await k.req(`/api/v1/approvals/${b.id}/approve?for=2h`, { method: "POST" })
    assert.equal(over.status, 400)
    assert.match(((await over.json()) as { error: string }).error, /at most 10m, not 2h/)
    const ok = await k.req(`/api/v1/approvals/${b.id}/approve?for=5m`, { method: "POST" })
    assert.deepEqual(await ok.json(), { id: b.id, status: "approved", lease: 300_000 })
    await b.call
    const l = gateway.leases(k.vault.store)
    assert.equal(l.length, 1)
    assert.equal(l[0]?.approval, b.id)
    for (const x of l) gateway.revoke(k.vault.store, x.id, "test")
})

test("the approvals page offers approve, approve for the route's lease, and deny", async () => {
    const a = await waiting()
    const login = await k.req(`/login`, { method: "POST", auth: false, body: new URLSearchParams({ token: k.token }), headers: { origin: "http://127.0.0.1:7777" } })
    const cookie = login.headers.get("set-cookie")?.split(";")[0] ?? ""
    const base = (login.headers.get("location") ?? "").replace(/\/$/, "")
    const page = await (await k.req(`${base}/approvals`, { auth: false, headers: { cookie } })).text()
    assert.match(page, new RegExp(`data-approval="${a.id}"`))
    assert.match(page, /value="approve"[^>]*>approve</)
    assert.match(page, /value="lease"[^>]*>approve for 10m</)
    const id = gateway.approvals(k.vault.store)[0]!.id
    gateway.answer(k.vault.store, id, { approve: false, by: "test" })
    await a.call
})
