/**
 * `mcplexer tools disable/enable/search/changed/diff/approve`, `doctor`'s flags and search mode
 * through `serve`, as a user runs them: real processes, the reference server from npm, a fixture
 * that changes its tools between two starts. A planted secret never shows.
 */
import assert from "node:assert/strict"
import { readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { test } from "node:test"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import { cli, fresh, root, run } from "../helpers.ts"

const planted = "ghp_shapePLANTED-5c2e9d-never-shown"
const node = JSON.stringify(process.execPath)
const tsx = JSON.stringify(import.meta.resolve("tsx"))
const everything = JSON.stringify(join(root, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js"))
const rug = JSON.stringify(join(root, "test", "fixtures", "rug-server.ts"))

const config = (extra = "") => `# servers kept by hand
auth_scopes:
  gh: { description: planted }   # the test's scope
${extra}
servers:
  # the reference server from npm
  everything:
    command: ${node}
    args: [${everything}]   # stdio mode
    scope: gh
`

async function home(extra = ""): Promise<string> {
    const h = await fresh(config(extra))
    assert.equal((await run(h, ["secret", "put", "gh", "TOKEN"], { input: planted })).code, 0)
    return h
}

function lines(s: string): string[] {
    return s.split("\n")
}

test("tools disable writes config.yaml at the edited lines only; the tool leaves tools and search; enable brings it back", async () => {
    const h = await home()
    const file = join(h, "config.yaml")
    const before = await readFile(file, "utf8")
    const off = await run(h, ["tools", "disable", "everything__get-env", "everything__toggle-*"])
    assert.equal(off.code, 0, off.stderr)
    assert.match(off.stderr, /switched off everything__get-env/)
    const after = await readFile(file, "utf8")
    assert.deepEqual(lines(after).filter(l => !lines(before).includes(l)), ["    tools: { disabled: [get-env, toggle-*] }"])
    assert.deepEqual(lines(before).filter(l => !lines(after).includes(l)), [])
    const listed = await run(h, ["tools", "--json"])
    const names = (JSON.parse(listed.stdout) as Array<{ name: string }>).map(t => t.name)
    assert.ok(names.includes("everything__echo"))
    assert.ok(!names.some(n => n === "everything__get-env" || n.startsWith("everything__toggle-")))
    const all = await run(h, ["tools", "--all"])
    assert.match(all.stdout, /^everything__get-env +everything +off /m)
    const found = JSON.parse((await run(h, ["tools", "search", "show", "the", "environment", "variables", "--json"])).stdout) as Array<{ name: string; server: string; score: number }>
    assert.ok(found.length > 0 && !found.some(t => t.name === "everything__get-env"))
    assert.deepEqual(Object.keys(found[0]!).sort(), ["description", "name", "score", "server"])
    const on = await run(h, ["tools", "enable", "everything__get-env"])
    assert.equal(on.code, 0, on.stderr)
    const again = await readFile(file, "utf8")
    assert.deepEqual(lines(again).filter(l => !lines(before).includes(l)), ["    tools: { disabled: [toggle-*] }"])
    const back = JSON.parse((await run(h, ["tools", "search", "show", "the", "environment", "variables", "--json", "--limit", "3"])).stdout) as Array<{ name: string }>
    assert.equal(back[0]?.name, "everything__get-env")
    assert.ok(back.length <= 3)
    for (const r of [off, listed, all, on]) assert.ok(!(r.stdout + r.stderr).includes(planted))
})

test("a pattern that matches no tool is an error naming the nearest, and the config is untouched", async () => {
    const h = await home()
    const before = await readFile(join(h, "config.yaml"), "utf8")
    const r = await run(h, ["tools", "disable", "everything__get_env"])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^mcplexer: error: no tool matches "everything__get_env"$/m)
    assert.match(r.stderr, /^mcplexer: hint: the nearest tool is "everything__get-env"$/m)
    assert.equal(await readFile(join(h, "config.yaml"), "utf8"), before)
})

test("tools changed, diff and approve: a fixture that rewrites a description and a schema between two starts", async () => {
    const h = await fresh(null)
    const write = (v: string) => writeFile(join(h, "config.yaml"), `servers:\n  rug:\n    command: ${node}\n    args: ["--import", ${tsx}, ${rug}]\n    env: { RUG_VERSION: "${v}" }\n`)
    await write("1")
    assert.equal((await run(h, ["tools"])).code, 0)
    assert.match((await run(h, ["tools", "changed"])).stderr, /no tool is withheld/)
    await write("2")
    const listed = await run(h, ["tools"])
    assert.doesNotMatch(listed.stdout, /rug__add/)
    assert.match(listed.stdout, /rug__plain/)
    const changed = await run(h, ["tools", "changed"])
    assert.match(changed.stdout, /^rug__add +rug +changed$/m)
    assert.match(changed.stdout, /^rug__lookup +rug +changed$/m)
    const diff = await run(h, ["tools", "diff", "rug__add"])
    assert.equal(diff.code, 0, diff.stderr)
    assert.match(diff.stdout, /^- +"description": "Adds two numbers\.",$/m)
    assert.match(diff.stdout, /^\+ +"description": "Adds two numbers\.\\u200b <IMPORTANT>/m)
    assert.doesNotMatch(diff.stdout, /\u200b/, "the zero-width character is shown escaped")
    const ok = await run(h, ["tools", "approve", "rug__add"])
    assert.equal(ok.code, 0, ok.stderr)
    assert.match(ok.stderr, /approved rug__add/)
    assert.match((await run(h, ["tools"])).stdout, /rug__add/)
    assert.match((await run(h, ["tools", "changed"])).stdout, /rug__lookup/)
    const none = await run(h, ["tools", "approve", "rug__nothing"])
    assert.equal(none.code, 1)
    assert.match(none.stderr, /no withheld tool matches "rug__nothing"/)
    const audit = await run(h, ["audit", "--json"])
    assert.match(audit.stdout, /tool-changed/)
    assert.match(audit.stdout, /tool-approved/)
})

test("doctor flags a planted <IMPORTANT> description and a zero-width character, as warnings", async () => {
    const h = await fresh(null)
    await writeFile(join(h, "config.yaml"), `servers:\n  rug:\n    command: ${node}\n    args: ["--import", ${tsx}, ${rug}]\n    env: { RUG_POISON: "1" }\n`)
    assert.equal((await run(h, ["tools"])).code, 0)
    const r = await run(h, ["doctor"])
    assert.match(r.stderr, /^mcplexer: warning: tool "rug__add" of server "rug" has zero-width character U\+200B in its description$/m)
    assert.match(r.stderr, /^mcplexer: warning: tool "rug__add" of server "rug" has a tag aimed at the model: "<IMPORTANT>" in its description$/m)
    assert.match(r.stderr, /^mcplexer: hint: .*mcplexer tools disable rug__add$/m)
    assert.doesNotMatch(r.stderr, /rug__plain/)
})

test("search mode through serve: find a tool, call it through call_tool, and the planted secret is scrubbed from its answer", async () => {
    const h = await home("tool_search: true")
    const transport = new StdioClientTransport({ command: process.execPath, args: [cli, "serve"], env: { PATH: process.env.PATH ?? "", HOME: h, MCPLEXER_HOME: h }, stderr: "pipe" })
    let stderr = ""
    transport.stderr?.on("data", (d: Buffer) => { stderr += d.toString() })
    const client = new Client({ name: "shape-test", version: "1.0.0" })
    await client.connect(transport)
    try {
        assert.deepEqual((await client.listTools()).tools.map(t => t.name).sort(), ["mcplexer__call_tool", "mcplexer__find_tools"])
        const found = await client.callTool({ name: "mcplexer__find_tools", arguments: { query: "print the environment variables" } })
        const list = JSON.parse((found.content as Array<{ text: string }>)[0]!.text) as Array<{ name: string; inputSchema: unknown }>
        assert.equal(list[0]?.name, "everything__get-env")
        const r = await client.callTool({ name: "mcplexer__call_tool", arguments: { name: "everything__get-env", arguments: {} } })
        const out = JSON.stringify(r)
        assert.match(out, /\[redacted\]/)
        assert.ok(!out.includes(planted))
    } finally {
        await client.close()
    }
    assert.ok(!stderr.includes(planted))
    const audit = await run(h, ["audit", "--json"])
    assert.match(audit.stdout, /"tool": ?"everything__get-env"/)
    assert.ok(!audit.stdout.includes(planted))
})
