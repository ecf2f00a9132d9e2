import assert from "node:assert/strict"
import { test } from "node:test"
import { CallToolResultSchema, CreateMessageRequestSchema, LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js"
import { fixture, start, text, until, yaml } from "./harness.ts"

const planted = "pl4nted-S3CRET-value-7f1c"

test("a planted secret never reaches the client, whatever path it takes back", async () => {
    let logged = 0
    const h = await start(yaml({
        alpha: fixture("gw-server.ts", { scope: "gh", env: { GW_NAME: "alpha" } }),
    }), {
        secrets: { gh: { TOKEN: planted } },
        setup(c) { c.setNotificationHandler(LoggingMessageNotificationSchema, () => { logged++ }) },
    })
    try {
        let progress = 0
        // a tool result (text and structured), a progress message and a log line
        const r = await h.client.callTool({ name: "alpha__env", arguments: { name: "TOKEN" } }, CallToolResultSchema, {
            onprogress: () => { progress++ },
        })
        assert.equal(text(r), "value [redacted]")
        assert.deepEqual(r.structuredContent, { value: "[redacted]" })
        assert.equal(progress, 1)
        // an error message and its data
        await assert.rejects(h.client.callTool({ name: "alpha__fail" }), /failed with \[redacted\]/)
        // a resource and a prompt
        const res = await h.client.readResource({ uri: "alpha://secret" })
        assert.deepEqual(res.contents, [{ uri: "alpha://secret", text: "the token is [redacted]" }])
        const p = await h.client.getPrompt({ name: "alpha__greet", arguments: { who: planted } })
        const c = p.messages[0]?.content
        assert.equal(c?.type === "text" ? c.text : "", "alpha greets [redacted] (token [redacted])")
        // completion echoes what it was given
        const done = await h.client.complete({ ref: { type: "ref/prompt", name: "alpha__greet" }, argument: { name: "who", value: planted } })
        assert.deepEqual(done.completion.values, ["alpha:prompt:greet:[redacted]"])
        await until(() => logged > 0 || undefined, 2000, "the log line")

        assert.ok(h.seen.length > 5)
        for (const m of h.seen) assert.ok(!m.includes(planted), `the client saw the secret in ${m}`)
        assert.ok(h.seen.some(m => m.includes("[redacted]")))
    } finally {
        await h.close()
    }
})

test("a server's request to the client passes the edge scrubbed, like everything else bound for the client", async () => {
    let asked = ""
    const h = await start(yaml({
        alpha: fixture("gw-server.ts", { scope: "gh", env: { GW_NAME: "alpha" } }),
    }), {
        secrets: { gh: { TOKEN: planted } },
        capabilities: { sampling: {} },
        setup(c) {
            c.setRequestHandler(CreateMessageRequestSchema, req => {
                asked = JSON.stringify(req.params)
                return { role: "assistant", model: "test", content: { type: "text", text: "done" } }
            })
        },
    })
    try {
        // the server receives the value (secret:// is resolved at dispatch) and puts it in its sampling request
        const r = await h.client.callTool({ name: "alpha__sample", arguments: { prompt: "secret://TOKEN" } })
        assert.equal(text(r), "done")
        assert.match(asked, /\[redacted\]/)
        for (const m of h.seen) assert.ok(!m.includes(planted), `the client saw the secret in ${m}`)
    } finally {
        await h.close()
    }
})
