import assert from "node:assert/strict"
import { after, before, describe, test } from "node:test"
import {
    CallToolResultSchema, CreateMessageRequestSchema, ElicitRequestSchema, ListRootsRequestSchema, LoggingMessageNotificationSchema,
    PromptListChangedNotificationSchema, ResourceListChangedNotificationSchema, ResourceUpdatedNotificationSchema,
    ToolListChangedNotificationSchema, type LoggingMessageNotification,
} from "@modelcontextprotocol/sdk/types.js"
import { fixture, start, text, until, yaml, type Harness } from "./harness.ts"

const two = yaml({
    alpha: fixture("gw-server.ts", { env: { GW_NAME: "alpha" } }),
    beta: fixture("gw-server.ts", { env: { GW_NAME: "beta" } }),
})

const capabilities = { sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } }

describe("relaying between a client and two servers", () => {
    let h: Harness
    before(async () => {
        h = await start(two, {
            capabilities,
            chunked: true,
            setup(c) {
                c.setRequestHandler(CreateMessageRequestSchema, req => {
                    const m = req.params.messages[0]?.content
                    const prompt = m && !Array.isArray(m) && m.type === "text" ? m.text : ""
                    return { role: "assistant", model: "test", content: { type: "text", text: `answer to ${prompt}` } }
                })
                c.setRequestHandler(ElicitRequestSchema, req => ({ action: "accept", content: { ok: req.params.message === "sure?" } }))
                c.setRequestHandler(ListRootsRequestSchema, () => ({ roots: [{ uri: "file:///work/acme", name: "acme" }] }))
            },
        })
        await h.client.listTools()
    })
    after(async () => { await h.close() })

    test("no progress notification is lost in 50 calls that send 5 each right before the result", async () => {
        let got = 0
        for (let i = 0; i < 50; i++) {
            const r = await h.client.callTool({ name: "alpha__progress", arguments: { count: 5 } }, CallToolResultSchema, {
                onprogress: () => { got++ },
            })
            assert.equal(text(r), "sent 5")
        }
        assert.equal(got, 250)
    })

    test("a slow call does not hold up a fast one on the same server", async () => {
        const t0 = Date.now()
        let slowDone = 0
        const slow = h.client.callTool({ name: "alpha__slow", arguments: { ms: 3000 } }).then(r => { slowDone = Date.now(); return r })
        const fast = await h.client.callTool({ name: "alpha__echo", arguments: { text: "quick" } })
        const fastDone = Date.now()
        assert.equal(text(fast), "alpha: quick")
        assert.equal(slowDone, 0, "the slow call is still running")
        assert.ok(fastDone - t0 < 1500, `the fast call took ${fastDone - t0} ms`)
        assert.equal(text(await slow), "slept 3000")
    })

    test("a cancelled call is cancelled on the downstream too", async () => {
        const before = Number(text(await h.client.callTool({ name: "beta__cancelled" })))
        const ac = new AbortController()
        const call = h.client.callTool({ name: "beta__slow", arguments: { ms: 20000 } }, CallToolResultSchema, { signal: ac.signal })
        await new Promise(r => setTimeout(r, 300))
        ac.abort("changed my mind")
        await assert.rejects(call)
        await until(async () => {
            const n = Number(text(await h.client.callTool({ name: "beta__cancelled" })))
            return n > before ? n : undefined
        }, 5000, "the downstream to see the cancellation")
    })

    test("a sampling request from a downstream reaches the client and its answer comes back", async () => {
        const r = await h.client.callTool({ name: "alpha__sample", arguments: { prompt: "hello" } })
        assert.equal(text(r), "answer to hello")
    })

    test("an elicitation request from a downstream reaches the client and its answer comes back", async () => {
        const r = await h.client.callTool({ name: "beta__elicit", arguments: { message: "sure?" } })
        assert.deepEqual(JSON.parse(text(r)), { action: "accept", content: { ok: true } })
    })

    test("a roots request from a downstream is answered by the client", async () => {
        const r = await h.client.callTool({ name: "alpha__roots" })
        assert.equal(text(r), "file:///work/acme")
    })

    test("the client's roots/list_changed reaches every running server", async () => {
        await h.client.callTool({ name: "alpha__echo", arguments: { text: "x" } })
        await h.client.callTool({ name: "beta__echo", arguments: { text: "x" } })
        await h.client.sendRootsListChanged()
        for (const s of ["alpha", "beta"]) {
            await until(async () => Number(text(await h.client.callTool({ name: `${s}__rootschanged` }))) > 0 || undefined, 2000, `${s} to hear of it`)
        }
    })
})

describe("notifications from a downstream", () => {
    let h: Harness
    const logs: LoggingMessageNotification["params"][] = []
    const changed: string[] = []
    const updated: string[] = []
    before(async () => {
        h = await start(two, {
            setup(c) {
                c.setNotificationHandler(LoggingMessageNotificationSchema, n => { logs.push(n.params) })
                c.setNotificationHandler(ToolListChangedNotificationSchema, () => { changed.push("tools") })
                c.setNotificationHandler(PromptListChangedNotificationSchema, () => { changed.push("prompts") })
                c.setNotificationHandler(ResourceListChangedNotificationSchema, () => { changed.push("resources") })
                c.setNotificationHandler(ResourceUpdatedNotificationSchema, n => { updated.push(n.params.uri) })
            },
        })
        await h.client.listTools()
    })
    after(async () => { await h.close() })

    test("log messages reach the client at or above the level it set, and the level reaches the servers", async () => {
        await h.client.setLoggingLevel("warning")
        await h.client.callTool({ name: "alpha__log", arguments: { level: "info", message: "quiet" } })
        await h.client.callTool({ name: "beta__log", arguments: { level: "error", message: "loud" } })
        await until(() => logs.find(l => l.data === "loud"), 2000, "the error log")
        assert.ok(!logs.some(l => l.data === "quiet"))
        assert.equal(logs.find(l => l.data === "loud")?.logger, "beta")
        for (const s of ["alpha", "beta"]) {
            await until(async () => text(await h.client.callTool({ name: `${s}__level` })) === "warning" || undefined, 2000, `${s} to get the level`)
        }
    })

    test("a resource update reaches a client that subscribed to it", async () => {
        await h.client.subscribeResource({ uri: "beta://static/one" })
        assert.equal(text(await h.client.callTool({ name: "beta__subscriptions" })), "beta://static/one")
        await h.client.callTool({ name: "beta__touch", arguments: { uri: "beta://static/one" } })
        await until(() => updated.includes("beta://static/one") || undefined, 2000, "resources/updated")
        await h.client.unsubscribeResource({ uri: "beta://static/one" })
        assert.equal(text(await h.client.callTool({ name: "beta__subscriptions" })), "")
    })

    test("a restarted server gets the client's subscriptions and log level again", async () => {
        await h.client.setLoggingLevel("error")
        await h.client.subscribeResource({ uri: "alpha://static/one" })
        await h.client.subscribeResource({ uri: "alpha://item/7" })
        assert.equal(text(await h.client.callTool({ name: "alpha__exit" })), "exiting")
        await until(() => h.lines.some(l => /server "alpha" exited/.test(l.msg)) || undefined, 5000, "alpha to exit")
        // the next call starts alpha again (once its backoff allows); what it was told before is told again
        const r = await until(() => h.client.callTool({ name: "alpha__subscriptions" }).catch(() => undefined), 5000, "alpha to start again")
        assert.equal(text(r), "alpha://static/one,alpha://item/7")
        assert.equal(text(await h.client.callTool({ name: "alpha__level" })), "error")
        updated.length = 0
        await h.client.callTool({ name: "alpha__touch", arguments: { uri: "alpha://item/7" } })
        await until(() => updated.includes("alpha://item/7") || undefined, 2000, "resources/updated after the restart")
        await h.client.unsubscribeResource({ uri: "alpha://static/one" })
        await h.client.unsubscribeResource({ uri: "alpha://item/7" })
    })

    test("a server whose tools, prompts and resources changed makes the client relist them", async () => {
        changed.length = 0
        await h.client.callTool({ name: "alpha__change" })
        await until(() => ["tools", "prompts", "resources"].every(k => changed.includes(k)) || undefined, 5000, "list_changed")
        const { tools } = await h.client.listTools()
        assert.ok(tools.some(t => t.name === "alpha__added"))
        assert.equal(text(await h.client.callTool({ name: "alpha__added" })), "added works")
        const { prompts } = await h.client.listPrompts()
        assert.ok(prompts.some(p => p.name === "alpha__added"))
        const { resources } = await h.client.listResources()
        assert.ok(resources.some(r => r.uri === "alpha://added"))
    })
})

test("two downstreams sampling at once with the same request id each get their own answer", async () => {
    const seen = new Map<string, string | number>()
    const waiting: Array<() => void> = []
    const h = await start(two, {
        capabilities,
        setup(c) {
            // a client that offers roots answers for them: the gateway takes no decision before
            c.setRequestHandler(ListRootsRequestSchema, () => ({ roots: [] }))
            c.setRequestHandler(CreateMessageRequestSchema, async (req, extra) => {
                const m = req.params.messages[0]?.content
                const prompt = m && !Array.isArray(m) && m.type === "text" ? m.text : ""
                seen.set(prompt, extra.requestId)
                // answer neither until both are outstanding at once
                await new Promise<void>(resolve => {
                    waiting.push(resolve)
                    if (waiting.length === 2) for (const r of waiting.splice(0)) r()
                })
                return { role: "assistant", model: "test", content: { type: "text", text: `answer to ${prompt}` } }
            })
        },
    })
    try {
        await h.client.listTools()
        const [a, b] = await Promise.all([
            h.client.callTool({ name: "alpha__sample", arguments: { prompt: "from alpha", ids: true } }),
            h.client.callTool({ name: "beta__sample", arguments: { prompt: "from beta", ids: true } }),
        ])
        const ra = JSON.parse(text(a)) as { answer: string; id: number }
        const rb = JSON.parse(text(b)) as { answer: string; id: number }
        assert.equal(ra.answer, "answer to from alpha")
        assert.equal(rb.answer, "answer to from beta")
        assert.equal(ra.id, rb.id, "both downstreams used the same id")
        assert.notEqual(seen.get("from alpha"), seen.get("from beta"), "the client saw two ids")
    } finally {
        await h.close()
    }
})

test("an instance a client subscribed to is not stopped for being idle; the others are", async () => {
    const h = await start(yaml({
        alpha: fixture("gw-server.ts", { env: { GW_NAME: "alpha" }, idle_timeout: "300ms" }),
        beta: fixture("gw-server.ts", { env: { GW_NAME: "beta" }, idle_timeout: "300ms" }),
    }))
    try {
        await h.client.listTools()
        await h.client.subscribeResource({ uri: "alpha://static/one" })
        await h.client.callTool({ name: "beta__echo", arguments: { text: "x" } })
        const state = (server: string) => h.gw.pool.status().find(s => s.server === server)?.state
        await until(() => state("beta") === "stopped" || undefined, 5000, "beta to stop when idle")
        await new Promise(r => setTimeout(r, 700))
        assert.equal(state("alpha"), "running")
        await h.client.unsubscribeResource({ uri: "alpha://static/one" })
        await until(() => state("alpha") === "stopped" || undefined, 5000, "alpha to stop once nobody subscribes")
    } finally {
        await h.close()
    }
})
