import assert from "node:assert/strict"
import { test } from "node:test"
import type * as downstream from "../../internal/downstream/index.ts"
import { call, setup, stdio } from "./kit.ts"

const token = "tok_progress_5e4d3c2b1a"
const gh = { server: "gh", scope: "gh" }

test("progress sent right before the result is never lost: 50 runs of 5", async () => {
    const t = await setup(stdio("gh", { scope: "gh" }))
    try {
        await t.vault.put("gh", "TOKEN", token)
        await call(t.pool, gh, "echo")
        let lost = 0
        for (let run = 0; run < 50; run++) {
            const got: downstream.Progress[] = []
            let answered = false
            const out = await call(t.pool, gh, "progress", { count: 5 }, {
                onprogress: p => {
                    assert.ok(!answered, "progress comes before the answer")
                    got.push(p)
                },
            })
            answered = true
            assert.match(out, /^token \d+$/, "the downstream got a token of ours")
            lost += 5 - got.length
            assert.deepEqual(got.map(p => p.progress), [1, 2, 3, 4, 5].slice(0, got.length))
        }
        assert.equal(lost, 0)
    } finally {
        await t.pool.close()
    }
})

test("concurrent calls each get their own progress, as sent, without the token", async () => {
    const t = await setup(stdio("gh", { scope: "gh" }))
    try {
        await t.vault.put("gh", "TOKEN", token)
        await call(t.pool, gh, "echo")
        const got = new Map<number, downstream.Progress[]>()
        await Promise.all(Array.from({ length: 16 }, (_, i) => {
            got.set(i, [])
            return call(t.pool, gh, "progress", { count: 3, say: `call ${i} ${token}` }, { onprogress: p => got.get(i)!.push(p) })
        }))
        for (const [i, ps] of got) {
            assert.deepEqual(ps, [1, 2, 3].map(n => ({ progress: n, total: 3, message: `step ${n} call ${i} ${token}` })))
        }
    } finally {
        await t.pool.close()
    }
})

test("a client's own progress token is not passed on when nobody listens", async () => {
    const t = await setup(stdio("gh", { scope: "gh" }))
    try {
        await t.vault.put("gh", "TOKEN", token)
        const r = await t.pool.request(gh, "tools/call", { name: "progress", arguments: { count: 2 }, _meta: { progressToken: "client-token" } })
        assert.deepEqual(r.content, [{ type: "text", text: "token undefined" }])
        assert.deepEqual(t.hooks.notifications.filter(n => n.method === "notifications/progress"), [])
    } finally {
        await t.pool.close()
    }
})
