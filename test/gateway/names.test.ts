import assert from "node:assert/strict"
import { createHash } from "node:crypto"
import { test } from "node:test"
import { fixture, start, text, yaml } from "./harness.ts"

const valid = /^[a-zA-Z0-9_-]{1,64}$/

function short(s: string): string {
    return createHash("sha256").update(s).digest("hex").slice(0, 6)
}

test("every exposed name matches what clients accept, and a call reaches the original name", async () => {
    const h = await start(yaml({ odd: fixture("gw-names.ts") }))
    try {
        const { tools } = await h.client.listTools()
        for (const t of tools) assert.match(t.name, valid)
        const names = tools.map(t => t.name).sort()
        const long = `odd__${"x".repeat(70)}`
        assert.deepEqual(names, [
            "odd__a_b", "odd__caf_", "odd__dotted_name", "odd__echo", "odd__has_space",
            `${long.slice(0, 57)}_${short(long)}`,
            `odd__${"y".repeat(70)}`.slice(0, 57) + "_" + short(`odd__${"y".repeat(70)}`),
        ].sort())
        assert.equal(text(await h.client.callTool({ name: "odd__dotted_name" })), "called dotted.name")
        assert.equal(text(await h.client.callTool({ name: "odd__caf_" })), "called café")
        assert.equal(text(await h.client.callTool({ name: `${long.slice(0, 57)}_${short(long)}` })), `called ${"x".repeat(70)}`)
    } finally {
        await h.close()
    }
})

test("a server with prefix false exposes its bare names", async () => {
    const h = await start(yaml({ odd: fixture("gw-names.ts", { prefix: false }) }))
    try {
        const { tools } = await h.client.listTools()
        const names = tools.map(t => t.name)
        assert.ok(names.includes("echo"))
        assert.ok(names.includes("dotted_name"))
        assert.ok(names.includes("has_space"))
        assert.equal(text(await h.client.callTool({ name: "has_space" })), "called has space")
        const { prompts } = await h.client.listPrompts()
        assert.deepEqual(prompts.map(p => p.name), ["greet"])
    } finally {
        await h.close()
    }
})

test("colliding names go to the first server by name; the later one gets a hash suffix, the same on every run", async () => {
    const servers = {
        zed: fixture("gw-names.ts", { prefix: false }),
        alpha: fixture("gw-server.ts", { prefix: false, env: { GW_NAME: "alpha" } }),
    }
    const reversed = { alpha: servers.alpha, zed: servers.zed }
    const runs: Array<{ names: string[]; collisions: string[]; echo: string; greet: string }> = []
    for (const text_ of [yaml(servers), yaml(reversed)]) {
        const h = await start(text_)
        try {
            const names = (await h.client.listTools()).tools.map(t => t.name).sort()
            const echo = text(await h.client.callTool({ name: `echo_${short("zed\0echo")}`, arguments: { text: "x" } }))
            const p = await h.client.getPrompt({ name: `greet_${short("zed\0greet")}` })
            const c = p.messages[0]?.content
            runs.push({ names, collisions: h.gw.collisions(), echo, greet: c?.type === "text" ? c.text : "" })
            assert.equal(text(await h.client.callTool({ name: "echo", arguments: { text: "x" } })), "alpha: x")
        } finally {
            await h.close()
        }
    }
    assert.deepEqual(runs[0], runs[1])
    const run = runs[0]
    assert.ok(run)
    assert.equal(run.echo, "called echo")
    assert.equal(run.greet, "names prompt greet")
    assert.ok(run.names.includes("echo"))
    assert.ok(run.names.includes(`echo_${short("zed\0echo")}`))
    assert.deepEqual(run.collisions, [
        `tool "echo" of server "zed" is exposed as "echo_${short("zed\0echo")}": "echo" is taken by server "alpha"`,
        `prompt "greet" of server "zed" is exposed as "greet_${short("zed\0greet")}": "greet" is taken by server "alpha"`,
    ])
})
