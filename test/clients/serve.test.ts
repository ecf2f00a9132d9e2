/**
 * Moving in, end to end: a client's file naming two real servers from npm, with a planted token,
 * imported; then a real `serve` lists the same tools as the servers do directly, and the token
 * reaches the child but never the client.
 */
import assert from "node:assert/strict"
import { mkdir, readFile, writeFile } from "node:fs/promises"
import { dirname, join } from "node:path"
import { test } from "node:test"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import { ListRootsRequestSchema } from "@modelcontextprotocol/sdk/types.js"
import { cli, root } from "../helpers.ts"
import { bytes, path, run, tokens, user } from "./kit.ts"

const everything = join(root, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js")
const memory = join(root, "node_modules", "@modelcontextprotocol", "server-memory", "dist", "index.js")

// what mcplexer tells every downstream it can relay, whatever its client (so every client sees one
// list): the direct listing is taken as such a client, as server-everything lists more tools for it
const relayed = { sampling: {}, elicitation: {}, roots: {} }

async function tools(command: string, args: string[], env: Record<string, string>, capabilities: { roots?: object } = {}): Promise<{ client: Client; names: string[] }> {
    const client = new Client({ name: "moving-test", version: "1.0.0" }, { capabilities })
    if (capabilities.roots) client.setRequestHandler(ListRootsRequestSchema, () => ({ roots: [] }))
    await client.connect(new StdioClientTransport({ command, args, env: { PATH: process.env.PATH ?? "", ...env }, stderr: "pipe" }))
    const names = (await client.listTools()).tools.map(t => t.name).sort()
    return { client, names }
}

test("after import, serve lists the imported servers' own tools, prefixed, and the token reaches the child redacted", async () => {
    const u = await user()
    const token = tokens().github
    const memoryFile = join(u.home, "memory.jsonl")
    const file = path("claude-desktop", u.home)
    await mkdir(dirname(file), { recursive: true })
    await writeFile(file, JSON.stringify({
        mcpServers: {
            everything: { command: process.execPath, args: [everything], env: { API_TOKEN: token } },
            memory: { command: process.execPath, args: [memory], env: { MEMORY_FILE_PATH: memoryFile } },
        },
    }, null, 2))
    const imported = await run(u, ["import", "claude-desktop", "--yes"])
    assert.equal(imported.code, 0, imported.stderr)

    const direct: string[] = []
    for (const [name, entry, env] of [["everything", everything, {}], ["memory", memory, { MEMORY_FILE_PATH: memoryFile }]] as const) {
        const d = await tools(process.execPath, [entry], { HOME: u.home, ...env }, relayed)
        direct.push(...d.names.map(n => `${name}__${n}`))
        await d.client.close()
    }
    assert.ok(direct.includes("everything__get-env") && direct.some(n => n.startsWith("memory__")))

    const s = await tools(process.execPath, [cli, "serve"], { HOME: u.home })
    try {
        assert.deepEqual(s.names, direct.sort())
        const r = await s.client.callTool({ name: "everything__get-env", arguments: {} })
        const text = JSON.stringify(r)
        assert.ok(!text.includes(token), "the token reached the client")
        assert.match(text, /API_TOKEN\\?"?:\s*\\?"\[redacted\]/, text.slice(0, 400))
    } finally {
        await s.client.close()
    }
    assert.ok(!(await bytes(u.mcplexer)).includes(token), "the token is in a file mcplexer wrote (config, log or database)")
    assert.ok((await readFile(join(u.mcplexer, "config.yaml"), "utf8")).includes("API_TOKEN: ${secret:API_TOKEN}"))
})
