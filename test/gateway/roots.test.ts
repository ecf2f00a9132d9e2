import assert from "node:assert/strict"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { test } from "node:test"
import { ListRootsRequestSchema } from "@modelcontextprotocol/sdk/types.js"
import { fixture, start, text, yaml } from "./harness.ts"
import { temp } from "../helpers.ts"

/** A config whose workspace under `dir` denies alpha's tools; the gateway's own folder (the test's cwd) is elsewhere. */
function denying(dir: string): string {
    return yaml({ alpha: fixture("gw-server.ts", { env: { GW_NAME: "alpha" } }), beta: fixture("gw-server.ts", { env: { GW_NAME: "beta" } }) }) +
        `workspaces:\n  acme:\n    root: ${JSON.stringify(dir)}\n    routes:\n      - { tools: ["alpha__*"], action: deny }\n`
}

test("the first tools/list and tools/call wait for the client's roots: no decision on serve's folder meanwhile", async () => {
    const dir = temp("mcplexer-ws-")
    const h = await start(denying(dir), {
        capabilities: { roots: {} },
        setup(c) {
            c.setRequestHandler(ListRootsRequestSchema, async () => {
                await new Promise(r => setTimeout(r, 300))
                return { roots: [{ uri: pathToFileURL(join(dir, "project")).href }] }
            })
        },
    })
    try {
        const [list, call] = await Promise.all([h.client.listTools(), h.client.callTool({ name: "alpha__echo", arguments: { text: "x" } })])
        assert.deepEqual(list.tools.filter(t => t.name.startsWith("alpha__")), [])
        assert.ok(list.tools.some(t => t.name === "beta__echo"))
        assert.equal(call.isError, true)
        assert.match(text(call), /denied here by route 1 of workspace "acme"/)
    } finally {
        await h.close()
    }
})

test("a client that offers roots but does not list them gets an error, never serve's folder", async () => {
    const dir = temp("mcplexer-ws-")
    let asked = 0
    const h = await start(denying(dir), {
        capabilities: { roots: {} },
        setup(c) {
            c.setRequestHandler(ListRootsRequestSchema, () => {
                asked++
                throw new Error("roots are not available")
            })
        },
    })
    try {
        await assert.rejects(h.client.listTools(), /the client did not list its roots \(.*roots are not available.*\), so mcplexer cannot tell which workspace applies/)
        await assert.rejects(h.client.callTool({ name: "alpha__echo", arguments: { text: "x" } }), /did not list its roots/)
        assert.equal(asked, 2, "asked again on the next request")
    } finally {
        await h.close()
    }
})
