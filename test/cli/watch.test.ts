/** `mcplexer serve` as a client runs it: the session root is serve's working folder, and a config edit takes effect live. */
import assert from "node:assert/strict"
import { readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { test } from "node:test"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js"
import { folders, server, until } from "../policy/kit.ts"
import { cli, fresh } from "../helpers.ts"

function config(home: string, routes: string): string {
    return `auth_scopes: {}
servers:
  alpha: ${server("alpha", join(home, "calls.log"))}
workspaces:
  acme:
    root: ${join(home, "acme")}
    routes: ${routes}
`
}

test("serve decides by its working folder, and a config edit relists; a broken edit keeps the old config", async () => {
    const home = await fresh(null)
    await folders(home, "acme")
    await writeFile(join(home, "config.yaml"), config(home, "[]"))
    const transport = new StdioClientTransport({
        command: process.execPath, args: [cli, "serve"], cwd: join(home, "acme"), stderr: "pipe",
        env: { PATH: process.env.PATH ?? "", HOME: home, MCPLEXER_HOME: home },
    })
    const client = new Client({ name: "watch-test", version: "1.0.0" })
    let changed = 0
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => { changed++ })
    await client.connect(transport)
    try {
        const names = async () => (await client.listTools()).tools.map(t => t.name).sort()
        assert.deepEqual(await names(), ["alpha__echo", "alpha__env", "alpha__read", "alpha__write"])

        await writeFile(join(home, "config.yaml"), config(home, `\n      - { tools: ["alpha__write"], action: deny }`))
        await until(() => changed > 0 || undefined, 10_000, "tools/list_changed")
        assert.deepEqual(await names(), ["alpha__echo", "alpha__env", "alpha__read"])
        const r = await client.callTool({ name: "alpha__write" })
        assert.equal(r.isError, true)

        const before = changed
        await writeFile(join(home, "config.yaml"), "servers: [oops\n")
        await until(async () => (await readFile(join(home, "mcplexer.log"), "utf8")).includes("config not reloaded") || undefined, 10_000, "the reload error in the log")
        assert.equal(changed, before)
        assert.deepEqual(await names(), ["alpha__echo", "alpha__env", "alpha__read"])
    } finally {
        await client.close()
    }
})
