/** The store's queries, one table at a time, on a real SQLite file. */
import assert from "node:assert/strict"
import { join } from "node:path"
import { test } from "node:test"
import * as store from "../../internal/store/index.ts"
import { fresh } from "../helpers.ts"

async function opened(): Promise<store.Store> {
    return store.open(join(await fresh(null), "mcplexer.db"))
}

const row = (scope: string, key: string, c: string) =>
    ({ scope, key, recipient: "age1test", ciphertext: Buffer.from(c), mac: Buffer.from(`mac-${c}`) })

test("secrets: put says whether it replaced, list reads no ciphertext, remove says whether it removed", async () => {
    const s = await opened()
    assert.equal(store.secrets.put(s, row("gh", "A", "1")), false)
    assert.equal(store.secrets.put(s, row("gh", "A", "2")), true)
    store.secrets.put(s, row("acme", "B", "3"))
    assert.deepEqual(store.secrets.list(s).map(e => `${e.scope}/${e.key}`), ["acme/B", "gh/A"])
    assert.deepEqual(Object.keys(store.secrets.list(s)[0] ?? {}).sort(), ["expiresAt", "key", "recipient", "scope", "scopeKey", "updatedAt"])
    assert.equal(store.secrets.get(s, "gh", "A")?.ciphertext.toString(), "2")
    assert.deepEqual(store.secrets.rows(s, "gh").map(r => r.key), ["A"])
    assert.equal(store.secrets.remove(s, "gh", "A"), true)
    assert.equal(store.secrets.remove(s, "gh", "A"), false)
    assert.equal(store.secrets.has(s, "gh", "A"), false)
    s.close()
})

test("secrets: reseal replaces only the ciphertext it was given (compare and set), keeping the update time", async () => {
    const s = await opened()
    store.secrets.put(s, row("gh", "A", "old"), new Date(1000))
    const was = store.secrets.get(s, "gh", "A")
    assert.ok(was)
    store.secrets.put(s, row("gh", "A", "changed meanwhile"), new Date(2000))
    assert.equal(store.secrets.reseal(s, was, { recipient: "age1new", ciphertext: Buffer.from("new"), mac: Buffer.from("m") }), false)
    const now = store.secrets.get(s, "gh", "A")
    assert.ok(now)
    assert.equal(store.secrets.reseal(s, now, { recipient: "age1new", ciphertext: Buffer.from("new"), mac: Buffer.from("m") }), true)
    const after = store.secrets.get(s, "gh", "A")
    assert.equal(after?.recipient, "age1new")
    assert.equal(after?.updatedAt.getTime(), 2000)
    assert.deepEqual(store.secrets.recipients(s), { min: "age1new", max: "age1new" })
    s.close()
})

test("secrets: recipients is undefined for an empty table, else the smallest and largest", async () => {
    const s = await opened()
    assert.equal(store.secrets.recipients(s), undefined)
    store.secrets.put(s, { ...row("gh", "A", "1"), recipient: "age1b" })
    store.secrets.put(s, { ...row("gh", "B", "2"), recipient: "age1a" })
    assert.deepEqual(store.secrets.recipients(s), { min: "age1a", max: "age1b" })
    s.close()
})

test("audit: query filters, keeps the newest N oldest first, follows by id; prune deletes by time", async () => {
    const s = await opened()
    for (let i = 0; i < 5; i++) store.audit.add(s, { action: "call", actor: "serve", tool: i % 2 ? "odd" : "even", time: 1000 * (i + 1), detail: { i } })
    assert.deepEqual(store.audit.query(s, { tool: "even" }).map(r => r.detail), [{ i: 0 }, { i: 2 }, { i: 4 }])
    assert.deepEqual(store.audit.query(s, {}, { last: 2 }).map(r => r.detail), [{ i: 3 }, { i: 4 }])
    assert.deepEqual(store.audit.query(s, { since: 4000 }).map(r => r.time.getTime()), [4000, 5000])
    const last = store.audit.last(s)
    assert.deepEqual(store.audit.query(s, { after: last }), [])
    assert.deepEqual(store.audit.newest(s, { before: last }, 2).map(r => r.detail), [{ i: 3 }, { i: 2 }])
    assert.equal(store.audit.prune(s, 3000), 2)
    assert.equal(store.audit.query(s, {}).length, 3)
    s.close()
})

test("audit: a batch of rows (written 32 to a statement, the rest one by one) is stored whole, in order, field for field", async () => {
    const s = await opened()
    const rows = Array.from({ length: 70 }, (_, i) => ({
        action: "call", actor: `client${i}`, tool: `t${i}`, server: "srv", status: i % 3 ? "ok" : "error", workspace: i % 2 ? "/w" : undefined,
        route: "default", latency: i, time: 1000 + i, detail: { arguments: [`a${i}`] },
        ...(i === 40 ? { scope: "gh", key: "TOKEN" } : {}),
    }))
    store.audit.add(s, ...rows)
    const got = store.audit.query(s, {})
    assert.equal(got.length, 70)
    got.forEach((r, i) => {
        assert.equal(r.actor, `client${i}`)
        assert.equal(r.tool, `t${i}`)
        assert.equal(r.status, i % 3 ? "ok" : "error")
        assert.equal(r.workspace, i % 2 ? "/w" : null)
        assert.equal(r.latency, i)
        assert.equal(r.time.getTime(), 1000 + i)
        assert.deepEqual(r.detail, { arguments: [`a${i}`] })
        assert.equal(r.scope, i === 40 ? "gh" : null)
        assert.equal(r.key, i === 40 ? "TOKEN" : null)
    })
    s.close()
})

test("atomic: a throw inside rolls back every write of the transaction", async () => {
    const s = await opened()
    assert.throws(() => store.atomic(s, () => {
        store.secrets.put(s, row("gh", "A", "1"))
        store.audit.add(s, { action: "put", actor: "test" })
        throw new Error("stop")
    }), /stop/)
    assert.deepEqual(store.secrets.list(s), [])
    assert.equal(store.audit.last(s), 0)
    s.close()
})

test("catalog and instances: put replaces, get and all read back (all of either table), remove needs the same update time", async () => {
    const s = await opened()
    const at = new Date(5000)
    store.catalog.put(s, { server: "gh", fingerprint: "f1", tools: [{ name: "x" }], updatedAt: at })
    store.catalog.put(s, { server: "gh", fingerprint: "f2", tools: [{ name: "y" }], updatedAt: at })
    assert.deepEqual(store.catalog.get(s, "gh")?.tools, [{ name: "y" }])
    assert.equal(store.catalog.get(s, "none"), undefined)
    store.catalog.put(s, { server: "linear", fingerprint: "f3", tools: [], updatedAt: at })
    assert.deepEqual(store.catalog.all(s).map(r => [r.server, r.fingerprint]).sort(), [["gh", "f2"], ["linear", "f3"]])
    store.instances.put(s, { server: "gh", scope: "", state: "running", updatedAt: at })
    store.instances.remove(s, "gh", "", new Date(4000))
    assert.equal(store.instances.all(s).length, 1, "a newer row is not removed")
    store.instances.remove(s, "gh", "", at)
    assert.deepEqual(store.instances.all(s), [])
    s.close()
})
