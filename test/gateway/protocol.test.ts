import assert from "node:assert/strict"
import { join } from "node:path"
import { test } from "node:test"
import { CallToolResultSchema, CreateMessageRequestSchema, ListRootsRequestSchema } from "@modelcontextprotocol/sdk/types.js"
import { root } from "../helpers.ts"
import { fixture, start, yaml } from "./harness.ts"

const everything = JSON.stringify({
    command: process.execPath,
    args: [join(root, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js")],
})

test("every client sees one tool list, whatever client connected first", async () => {
    // the first client can do nothing; server-everything lists more tools to a client that can sample, elicit or list roots
    const h = await start(yaml({ everything }))
    try {
        const first = (await h.client.listTools()).tools.map(t => t.name).sort()
        const second = await h.connect({
            capabilities: { sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } },
            setup(c) {
                c.setRequestHandler(ListRootsRequestSchema, () => ({ roots: [] }))
                c.setRequestHandler(CreateMessageRequestSchema, () => ({ role: "assistant", model: "test", content: { type: "text", text: "sampled" } }))
            },
        })
        const names = (await second.client.listTools()).tools.map(t => t.name).sort()
        assert.deepEqual(first, names)
        assert.ok(names.includes("everything__trigger-sampling-request"), names.join(", "))
        assert.ok(names.includes("everything__get-roots-list"), names.join(", "))
        // the client that can sample gets its answer; the one that cannot gets a clear error, and no question
        const ok = await second.client.callTool({ name: "everything__trigger-sampling-request", arguments: { prompt: "hi", maxTokens: 5 } }, CallToolResultSchema)
        assert.match(JSON.stringify(ok.content), /sampled/)
        let said = ""
        try {
            const r = await h.client.callTool({ name: "everything__trigger-sampling-request", arguments: { prompt: "hi", maxTokens: 5 } }, CallToolResultSchema)
            said = JSON.stringify(r.content)
        } catch (e) {
            said = e instanceof Error ? e.message : String(e)
        }
        assert.match(said, /the client \\?"test\\?" does not support \\?"sampling\/createMessage\\?"/)
    } finally {
        await h.close()
    }
})

test("a resource template two servers share is listed once", async () => {
    const h = await start(yaml({
        alpha: fixture("gw-server.ts", { env: { GW_NAME: "same" } }),
        beta: fixture("gw-server.ts", { env: { GW_NAME: "same" } }),
    }))
    try {
        const { resourceTemplates } = await h.client.listResourceTemplates()
        assert.deepEqual(resourceTemplates.map(t => t.uriTemplate), ["same://item/{id}"])
        await h.gw.tools() // collisions() is as of the last listing
        assert.ok(h.gw.collisions().some(c => /resource template "same:\/\/item\/\{id\}" of server "beta" is hidden/.test(c)), h.gw.collisions().join("\n"))
    } finally {
        await h.close()
    }
})
