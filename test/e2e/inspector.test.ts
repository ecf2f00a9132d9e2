/** The MCP Inspector's CLI mode lists and calls tools through a real `mcplexer serve`. */
import assert from "node:assert/strict"
import { execFile } from "node:child_process"
import { readFileSync } from "node:fs"
import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import { test } from "node:test"
import { promisify } from "node:util"
import { cli, fresh, root, run } from "../helpers.ts"

const planted = "inspector-PLANTED-5e0a-secret"
const pkg = join(root, "node_modules", "@modelcontextprotocol", "inspector")
const bin = join(pkg, (JSON.parse(readFileSync(join(pkg, "package.json"), "utf8")) as { bin: Record<string, string> }).bin["mcp-inspector"] ?? "")
const everything = join(root, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js")

async function inspector(home: string, ...method: string[]): Promise<{ stdout: string; stderr: string }> {
    return promisify(execFile)(process.execPath, [bin, "--cli", "-e", `MCPLEXER_HOME=${home}`, process.execPath, cli, "serve", ...method],
        { env: { PATH: process.env.PATH, HOME: home }, timeout: 60_000 })
}

async function setup(): Promise<string> {
    const home = await fresh(null)
    await writeFile(join(home, "config.yaml"), `auth_scopes:\n  gh: {}\nservers:\n  everything:\n    command: ${JSON.stringify(process.execPath)}\n    args: [${JSON.stringify(everything)}]\n    scope: gh\n`)
    assert.equal((await run(home, ["secret", "put", "gh", "TOKEN"], { input: planted })).code, 0)
    return home
}

test("the inspector lists the aggregated tools through mcplexer", async () => {
    const home = await setup()
    const r = await inspector(home, "--method", "tools/list")
    const names = (JSON.parse(r.stdout) as { tools: Array<{ name: string }> }).tools.map(t => t.name)
    assert.ok(names.includes("everything__echo"), names.join(","))
    assert.ok(names.includes("everything__get-env"))
})

test("the inspector calls a tool through mcplexer and never sees the secret", async () => {
    const home = await setup()
    const echo = await inspector(home, "--method", "tools/call", "--tool-name", "everything__echo", "--tool-arg", "message=hello")
    assert.deepEqual(JSON.parse(echo.stdout), { content: [{ type: "text", text: "Echo: hello" }] })
    const env = await inspector(home, "--method", "tools/call", "--tool-name", "everything__get-env")
    assert.match(env.stdout, /TOKEN/)
    assert.ok(!(env.stdout + env.stderr).includes(planted))
})
