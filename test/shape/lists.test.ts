/**
 * Switches and quarantine shape the tools alone: a server whose tools are all switched off, one
 * with a tool switched off, and a quarantined one still serve their prompts and resources exactly
 * as with no switch. `serve` over stdio (from the sources, so this tests the tree as it is), the
 * reference server-everything from npm behind it, an SDK client in front.
 */
import assert from "node:assert/strict"
import { rm, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { before, describe, test } from "node:test"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import { fresh, root } from "../helpers.ts"

const tsx = import.meta.resolve("tsx")
const entry = join(root, "cmd", "mcplexer.ts")
const everything = join(root, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js")
// one of server-everything's static documents (its docs/ folder)
const doc = "demo://resource/static/document/features.md"

/** What one client sees of the server through serve. */
interface Seen {
    tools: string[]
    prompts: unknown
    prompt: unknown
    resources: Array<{ uri: string }>
    templates: unknown
    read: unknown
}

/** What `f` returns, or its error as a value, so that each test below says what it misses. */
async function attempt(f: () => Promise<unknown>): Promise<unknown> {
    try {
        return await f()
    } catch (e) {
        return { error: e instanceof Error ? e.message : String(e) }
    }
}

/** Starts serve with server-everything under `extra` (YAML of the server entry), and reads every list. */
async function look(extra: string): Promise<Seen> {
    const home = await fresh(null)
    await writeFile(join(home, "config.yaml"), `servers:
  everything:
    command: ${JSON.stringify(process.execPath)}
    args: [${JSON.stringify(everything)}]
${extra}`)
    const transport = new StdioClientTransport({
        command: process.execPath, args: ["--import", tsx, entry, "serve"],
        env: { PATH: process.env.PATH ?? "", HOME: home, MCPLEXER_HOME: home }, stderr: "pipe",
    })
    let stderr = ""
    transport.stderr?.on("data", (d: Buffer) => { stderr += d.toString() })
    const client = new Client({ name: "lists-test", version: "1.0.0" })
    try {
        await client.connect(transport)
        const tools = (await client.listTools()).tools.map(t => t.name).sort()
        const prompts = (await client.listPrompts()).prompts
        const prompt = await attempt(() => client.getPrompt({ name: "everything__simple-prompt" }))
        const resources = (await client.listResources()).resources
        const templates = (await client.listResourceTemplates()).resourceTemplates
        const read = await attempt(() => client.readResource({ uri: doc }))
        return { tools, prompts, prompt, resources, templates, read }
    } catch (e) {
        throw new Error(`${e instanceof Error ? e.message : String(e)}; serve said: ${stderr}`)
    } finally {
        await client.close()
        await rm(home, { recursive: true, force: true })
    }
}

describe("prompts and resources under switches and quarantine", () => {
    let plain: Seen, none: Seen, one: Seen, quarantined: Seen
    before(async () => {
        [plain, none, one, quarantined] = await Promise.all([
            look(""),
            look(`    tools: { disabled: ["*"] }\n`),
            look(`    tools: { disabled: [echo] }\n`),
            look(`    quarantine: true\n`),
        ])
    })

    test("with no switch, server-everything's tools, prompts and resources are all served", () => {
        assert.ok(plain.tools.includes("everything__echo"))
        assert.ok(Array.isArray(plain.prompts) && plain.prompts.some((p: { name: string }) => p.name === "everything__simple-prompt"))
        assert.match(JSON.stringify(plain.prompt), /This is a simple prompt without arguments\./)
        assert.ok(plain.resources.some(r => r.uri === doc))
        assert.match(JSON.stringify(plain.read), /"text":"#/)
    })

    test("every tool switched off: no tool is listed, and prompts and resources are what they are with no switch", () => {
        assert.deepEqual(none.tools, [])
        assert.deepEqual(none.prompts, plain.prompts)
        assert.deepEqual(none.prompt, plain.prompt)
        assert.deepEqual(none.resources, plain.resources)
        assert.deepEqual(none.templates, plain.templates)
        assert.deepEqual(none.read, plain.read)
    })

    test("one tool switched off: all tools but it are listed, and prompts and resources are what they are with no switch", () => {
        assert.deepEqual(one.tools, plain.tools.filter(t => t !== "everything__echo"))
        assert.deepEqual(one.prompts, plain.prompts)
        assert.deepEqual(one.prompt, plain.prompt)
        assert.deepEqual(one.resources, plain.resources)
        assert.deepEqual(one.templates, plain.templates)
        assert.deepEqual(one.read, plain.read)
    })

    test("a quarantined server's tools are withheld, and its prompts and resources (not tools) are served", () => {
        assert.deepEqual(quarantined.tools, [])
        assert.deepEqual(quarantined.prompts, plain.prompts)
        assert.deepEqual(quarantined.prompt, plain.prompt)
        assert.deepEqual(quarantined.resources, plain.resources)
        assert.deepEqual(quarantined.templates, plain.templates)
        assert.deepEqual(quarantined.read, plain.read)
    })
})
