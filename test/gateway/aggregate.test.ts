import assert from "node:assert/strict"
import { rm } from "node:fs/promises"
import { join } from "node:path"
import { after, before, describe, test } from "node:test"
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js"
import * as config from "../../internal/config/index.ts"
import { fresh } from "../helpers.ts"
import { fixture, start, text, until, yaml, type Harness } from "./harness.ts"

const two = yaml({
    alpha: fixture("gw-server.ts", { env: { GW_NAME: "alpha" } }),
    beta: fixture("gw-server.ts", { env: { GW_NAME: "beta" } }),
})

describe("a gateway in front of two servers", () => {
    let h: Harness
    before(async () => { h = await start(two) })
    after(async () => { await h.close() })

    test("lists the tools of both servers, each under its server's prefix", async () => {
        const { tools } = await h.client.listTools()
        const names = tools.map(t => t.name)
        assert.ok(names.includes("alpha__echo"))
        assert.ok(names.includes("beta__echo"))
        assert.equal(names.length, new Set(names).size)
        assert.equal(tools.find(t => t.name === "beta__echo")?.description, "echo of beta")
    })

    test("a client connecting once the catalogs are known gets every server's instructions", async () => {
        await h.client.listTools()
        const other = await h.connect()
        const text = other.client.getInstructions() ?? ""
        assert.match(text, /^## alpha\n\nalpha answers the gateway tests$/m)
        assert.match(text, /^## beta\n\nbeta answers the gateway tests$/m)
        await other.client.close()
    })

    test("routes a call to the server that owns the tool, by its original name", async () => {
        assert.equal(text(await h.client.callTool({ name: "alpha__echo", arguments: { text: "hi" } })), "alpha: hi")
        assert.equal(text(await h.client.callTool({ name: "beta__echo", arguments: { text: "hi" } })), "beta: hi")
    })

    test("lists the prompts of both servers and gets each from its owner", async () => {
        const { prompts } = await h.client.listPrompts()
        assert.deepEqual(prompts.map(p => p.name).sort(), ["alpha__greet", "beta__greet"])
        const r = await h.client.getPrompt({ name: "beta__greet", arguments: { who: "ann" } })
        const c = r.messages[0]?.content
        assert.equal(c?.type === "text" ? c.text : "", "beta greets ann (token )")
    })

    test("lists the resources and templates of both servers with their URIs unchanged", async () => {
        const { resources } = await h.client.listResources()
        assert.deepEqual(resources.map(r => r.uri).sort(), ["alpha://secret", "alpha://static/one", "beta://secret", "beta://static/one"])
        const { resourceTemplates } = await h.client.listResourceTemplates()
        assert.deepEqual(resourceTemplates.map(t => t.uriTemplate).sort(), ["alpha://item/{id}", "beta://item/{id}"])
    })

    test("reads a listed resource from the server that listed it", async () => {
        const r = await h.client.readResource({ uri: "beta://static/one" })
        assert.deepEqual(r.contents, [{ uri: "beta://static/one", text: "beta has beta://static/one" }])
    })

    test("reads an unlisted resource from the server whose template matches it", async () => {
        const r = await h.client.readResource({ uri: "alpha://item/42" })
        assert.deepEqual(r.contents, [{ uri: "alpha://item/42", text: "alpha has alpha://item/42" }])
    })

    test("answers a resource nobody owns with a resource-not-found error", async () => {
        await assert.rejects(h.client.readResource({ uri: "gamma://x" }), (e: Error & { code?: number }) => {
            assert.equal(e.code, -32002)
            assert.match(e.message, /unknown resource "gamma:\/\/x"/)
            return true
        })
    })

    test("routes completion by prompt name and by resource template", async () => {
        const p = await h.client.complete({ ref: { type: "ref/prompt", name: "beta__greet" }, argument: { name: "who", value: "a" } })
        assert.deepEqual(p.completion.values, ["beta:prompt:greet:a"])
        const r = await h.client.complete({ ref: { type: "ref/resource", uri: "alpha://item/{id}" }, argument: { name: "id", value: "4" } })
        assert.deepEqual(r.completion.values, ["alpha:resource:alpha://item/{id}:4"])
    })

    test("answers an unknown tool with an invalid-params error", async () => {
        await assert.rejects(h.client.callTool({ name: "nope__tool" }), (e: Error & { code?: number }) => {
            assert.equal(e.code, -32602)
            assert.match(e.message, /unknown tool "nope__tool"/)
            return true
        })
    })

    test("relays a downstream error with its own code and message", async () => {
        await assert.rejects(h.client.callTool({ name: "alpha__fail", arguments: { code: -32050 } }), (e: Error & { code?: number }) => {
            assert.equal(e.code, -32050)
            assert.equal(e.message, "MCP error -32050: failed with nothing")
            return true
        })
    })

    test("reports the tools with their server and original name", async () => {
        const tools = await h.gw.tools()
        const t = tools.find(x => x.name === "beta__slow")
        assert.equal(t?.server, "beta")
        assert.equal(t?.original, "slow")
    })
})

test("a server that fails to start is logged and left out, the others still listed", async () => {
    const h = await start(yaml({
        alpha: fixture("gw-server.ts", { env: { GW_NAME: "alpha" } }),
        broken: JSON.stringify({ command: process.execPath, args: ["-e", "process.exit(3)"] }),
    }))
    try {
        const { tools } = await h.client.listTools()
        assert.ok(tools.some(t => t.name === "alpha__echo"))
        assert.ok(!tools.some(t => t.name.startsWith("broken__")))
        assert.ok(h.lines.some(l => l.level === "warn" && /^server "broken" is left out of the lists: .*exited \(code 3\)/.test(l.msg)), "a warning names the server and why")
        const st = h.gw.pool.status().find(s => s.server === "broken")
        assert.ok(st?.state === "backoff" || st?.state === "failed", `state ${st?.state}`)
        assert.match(st.lastError ?? "", /exited \(code 3\)/)
    } finally {
        await h.close()
    }
})

test("a fresh gateway answers tools/list from the catalog cache without starting any server", async () => {
    const text = yaml({ alpha: fixture("gw-server.ts", { env: { GW_NAME: "alpha" } }) })
    const home = await fresh(null)
    const first = await start(text, { home })
    await first.client.listTools()
    await first.close()
    const second = await start(text, { home })
    try {
        const { tools } = await second.client.listTools()
        assert.ok(tools.some(t => t.name === "alpha__echo"))
        assert.deepEqual(second.gw.pool.status().filter(s => s.state === "running" || s.state === "starting"), [])
    } finally {
        await second.close()
        await rm(home, { recursive: true, force: true })
    }
})

test("a tool whose server lacks a secret answers with an error result naming scope, key and the fix", async () => {
    const ok = yaml({ alpha: fixture("gw-server.ts", { scope: "gh", env: { GW_NAME: "alpha", TOKEN: "${secret:TOKEN}" } }) })
    const home = await fresh(null)
    const first = await start(ok, { home, secrets: { gh: { TOKEN: "present-value-1234" } } })
    await first.client.listTools()
    await first.close()
    const second = await start(ok, { home })
    try {
        second.vault.delete("gh", "TOKEN")
        const r = await second.client.callTool({ name: "alpha__echo", arguments: { text: "x" } })
        assert.equal(r.isError, true)
        const t = text(r)
        assert.match(t, /server "alpha"/)
        assert.match(t, /"TOKEN"/)
        assert.match(t, /scope "gh"/)
        assert.match(t, /mcplexer secret put gh TOKEN/)
    } finally {
        await second.close()
        await rm(home, { recursive: true, force: true })
    }
})

test("completion for a server that does not complete offers nothing instead of failing", async () => {
    const h = await start(yaml({ odd: fixture("gw-names.ts") }))
    try {
        const r = await h.client.complete({ ref: { type: "ref/prompt", name: "odd__greet" }, argument: { name: "who", value: "a" } })
        assert.deepEqual(r.completion, { values: [], hasMore: false })
    } finally {
        await h.close()
    }
})

test("a reloaded config tells the client to relist, and the new server's tools appear", async () => {
    let changed = 0
    const h = await start(yaml({ alpha: fixture("gw-server.ts", { env: { GW_NAME: "alpha" } }) }), {
        setup(c) { c.setNotificationHandler(ToolListChangedNotificationSchema, () => { changed++ }) },
    })
    try {
        assert.ok(!(await h.client.listTools()).tools.some(t => t.name.startsWith("odd__")))
        const next = yaml({ alpha: fixture("gw-server.ts", { env: { GW_NAME: "alpha" } }), odd: fixture("gw-names.ts") })
        h.gw.configure(config.parse(next, join(h.home, "config.yaml")))
        await until(() => changed > 0 || undefined, 2000, "tools/list_changed")
        const { tools } = await h.client.listTools()
        assert.ok(tools.some(t => t.name === "odd__echo"))
        assert.ok(tools.some(t => t.name === "alpha__echo"))
    } finally {
        await h.close()
    }
})
