/**
 * The policy holds for a real `serve` process: the workspace is chosen by the client's roots,
 * never by where serve was started nor by answers saved from an earlier session (issue 9's
 * critical finding: a start-up cache answered later sessions with the first one's list).
 */
import assert from "node:assert/strict"
import { existsSync } from "node:fs"
import { mkdir, symlink, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { test } from "node:test"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import { ListRootsRequestSchema } from "@modelcontextprotocol/sdk/types.js"
import { cli, fresh, root, run } from "../helpers.ts"

const everything = join(root, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js")
// the CLI under test; another build can be named to check that this test fails on it
const bin = process.env.MCPLEXER_E2E_CLI ?? cli

function configFor(home: string): string {
    const node = JSON.stringify(process.execPath)
    return `servers:
  x:
    command: ${node}
    args: [${JSON.stringify(everything)}]
  y:
    command: ${node}
    args: [${JSON.stringify(everything)}]
workspaces:
  acme:
    root: ${JSON.stringify(join(home, "work", "acme"))}
    routes:
      - { tools: ["x__*"], action: deny }
`
}

/** One client session with a root inside the acme workspace, serve started in `cwd` (a plain `serve`, as client configs have it). */
async function session(home: string, cwd: string, rootDir: string): Promise<{ client: Client; stderr: () => string }> {
    const transport = new StdioClientTransport({
        command: process.execPath, args: [bin, "serve"], cwd,
        env: { PATH: process.env.PATH ?? "", HOME: home, MCPLEXER_HOME: home }, stderr: "pipe",
    })
    let stderr = ""
    transport.stderr?.on("data", (d: Buffer) => { stderr += d.toString() })
    const client = new Client({ name: "e2e-roots", version: "1.0.0" }, { capabilities: { roots: { listChanged: true } } })
    client.setRequestHandler(ListRootsRequestSchema, () => ({ roots: [{ uri: pathToFileURL(rootDir).href, name: "project" }] }))
    await client.connect(transport)
    return { client, stderr: () => stderr }
}

test("a client whose root is in a deny workspace never sees nor runs the denied tool, session after session", async () => {
    const home = await fresh(null)
    await writeFile(join(home, "config.yaml"), configFor(home))
    const project = join(home, "work", "acme", "project")
    const elsewhere = join(home, "elsewhere")
    await mkdir(project, { recursive: true })
    await mkdir(elsewhere, { recursive: true })
    // what an older serve saved for its start-up answers: never served, deleted at start
    await writeFile(join(home, "answers.json"), JSON.stringify([{ key: "any", initialize: {}, lists: {} }]))
    for (let i = 1; i <= 3; i++) {
        const s = await session(home, elsewhere, project)
        try {
            const { tools } = await s.client.listTools()
            const names = tools.map(t => t.name)
            assert.ok(names.includes("y__echo"), `session ${i}: the allowed server is listed (${names.join(", ")})\n${s.stderr()}`)
            assert.deepEqual(names.filter(n => n.startsWith("x__")), [], `session ${i}: the denied tools are not listed`)
            const r = await s.client.callTool({ name: "x__echo", arguments: { message: "should not run" } })
            assert.equal(r.isError, true, `session ${i}: the denied call is refused`)
            const text = (r.content as Array<{ text?: string }>)[0]?.text ?? ""
            assert.match(text, /denied here by route 1 of workspace "acme"/, `session ${i}`)
            assert.doesNotMatch(text, /Echo:/, `session ${i}: the tool did not run`)
        } finally {
            await s.client.close()
        }
        assert.equal(existsSync(join(home, "answers.json")), false, `session ${i}: no saved answers`)
    }
    // every call of x__echo was audited as denied by the acme route: none ran
    const audit = await run(home, ["audit", "--tool", "x__echo", "--json"])
    const rows = audit.stdout.trim().split("\n").filter(l => l !== "").map(l => JSON.parse(l) as { status: string; workspace: string; route: string })
    assert.equal(rows.length, 3, audit.stdout + audit.stderr)
    for (const r of rows) assert.deepEqual([r.status, r.workspace, r.route], ["denied", "acme", "acme#1"])
})

test("a client whose root reaches the deny workspace through a symbolic link is denied too, not given serve's folder", async () => {
    const home = await fresh(null)
    await writeFile(join(home, "config.yaml"), configFor(home))
    const elsewhere = join(home, "elsewhere")
    await mkdir(join(home, "work", "acme", "project"), { recursive: true })
    await mkdir(elsewhere, { recursive: true })
    await symlink(join(home, "work", "acme"), join(home, "door"))
    const s = await session(home, elsewhere, join(home, "door", "project"))
    try {
        const names = (await s.client.listTools()).tools.map(t => t.name)
        assert.ok(names.includes("y__echo"), `${names.join(", ")}\n${s.stderr()}`)
        assert.deepEqual(names.filter(n => n.startsWith("x__")), [])
        const r = await s.client.callTool({ name: "x__echo", arguments: { message: "should not run" } })
        assert.equal(r.isError, true)
        assert.match((r.content as Array<{ text?: string }>)[0]?.text ?? "", /denied here by route 1 of workspace "acme"/)
    } finally {
        await s.client.close()
    }
})
