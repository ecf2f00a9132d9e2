import type { ElicitRequest, ElicitResult } from "@modelcontextprotocol/sdk/types.js"
import * as config from "../config/index.ts"
import { callTool, findTools } from "../search/index.ts"
import { exit, indent, message, one, UsageError, type Output } from "./output.ts"
import { open } from "./tools.ts"

/** What `call` needs: the tool's exposed name and its arguments as JSON text. */
export interface CallOptions {
    paths: config.Paths; tool: string; args: string; json: boolean
    /** answer the server's forms (elicitation) with their defaults; without it the client offers no forms */
    acceptDefaults?: boolean
}

// what the client side waits beyond the server's own timeout, so the gateway's error arrives first
const margin = 5_000

/**
 * Calls one tool through a real gateway, as a client would, and prints the text of its result
 * (the whole result with --json). Exit 1 when the tool reports an error. Every server started is
 * stopped before this returns, whatever happened.
 */
export async function call(o: CallOptions, out: Output): Promise<number> {
    const args = parse(o.args)
    // search mode's two tools stand in for the list a model is given; a person has both already
    if (o.tool === findTools.name) throw new UsageError(`${q(o.tool)} is search mode's tool for the model`, `from a terminal, rank the tools with: mcplexer tools search "<the task in plain words>"`)
    if (o.tool === callTool.name) throw new UsageError(`${q(o.tool)} is search mode's tool for the model`, "from a terminal, call the tool by its own name: mcplexer call <name> --args '{…}'")
    const s = await open(o.paths, out)
    try {
        const list = await s.gw.tools()
        const tool = list.find(t => t.name === o.tool)
        if (tool === undefined) throw unknown(o.tool, list.map(t => ({ name: t.name, original: t.original })))
        const { Client } = await import("@modelcontextprotocol/sdk/client/index.js")
        const { InMemoryTransport } = await import("@modelcontextprotocol/sdk/inMemory.js")
        const { CallToolResultSchema, ElicitRequestSchema, McpError } = await import("@modelcontextprotocol/sdk/types.js")
        const [near, far] = InMemoryTransport.createLinkedPair()
        await s.gw.connect(far)
        // with --accept-defaults the client takes forms, and the SDK fills in each field's default (SEP-1034)
        const client = new Client({ name: "mcplexer-call", version: "0.1.0" }, o.acceptDefaults ? { capabilities: { elicitation: { form: { applyDefaults: true } } } } : {})
        if (o.acceptDefaults) client.setRequestHandler(ElicitRequestSchema, req => answer(req.params, out))
        await client.connect(near)
        const timeout = (s.config.servers.get(tool.server)?.timeout ?? 60_000) + margin
        let result: Awaited<ReturnType<typeof client.request<typeof CallToolResultSchema>>>
        try {
            result = await client.request({ method: "tools/call", params: { name: o.tool, arguments: args } }, CallToolResultSchema, { timeout })
        } catch (e) {
            const why = e instanceof McpError ? e.message.replace(/^MCP error -?\d+: /, "") : message(e)
            throw config.hinted(`tool ${q(o.tool)} failed: ${s.registry.scrub(why)}`, `mcplexer status shows the state of server ${q(tool.server)}; mcplexer doctor checks its setup`)
        } finally {
            await client.close()
        }
        // the result reached this in-process client through the gateway's edge, which scrubbed it: its one scrubbing point
        if (o.json) {
            out.out(JSON.stringify(result, null, 2) + "\n")
        } else {
            for (const c of result.content) {
                if (c.type === "text") out.out(c.text.endsWith("\n") ? c.text : `${c.text}\n`)
                else if (c.type === "resource") out.out("text" in c.resource ? line(c.resource.text) : `(resource ${one(c.resource.uri)}, ${one(c.resource.mimeType ?? "binary")}: use --json to see it)\n`)
                else if (c.type === "resource_link") out.out(`(resource link ${one(c.uri)})\n`)
                else out.info(`(${c.type} content, ${one(c.mimeType)}: use --json to see it)`)
            }
            if (result.content.length === 0 && result.structuredContent !== undefined) {
                out.out(JSON.stringify(result.structuredContent, null, 2) + "\n")
            }
        }
        if (result.isError === true) {
            out.error(`tool ${q(o.tool)} reported an error`)
            return exit.error
        }
        return exit.ok
    } finally {
        await s.close()
    }
}

/** Answers a form with its defaults, or declines it when a required field has none (or it is a link to open). */
function answer(p: ElicitRequest["params"], out: Output): ElicitResult {
    out.info(`the server asks: ${indent(p.message)}`)
    if (p.mode === "url") {
        out.warn("declined: it asks to open a link, which --accept-defaults never does")
        return { action: "decline" }
    }
    const missing = (p.requestedSchema.required ?? []).filter(k => p.requestedSchema.properties[k]?.default === undefined)
    if (missing.length > 0) {
        out.warn(`declined: no default for ${missing.map(q).join(", ")}`)
        return { action: "decline" }
    }
    out.info("answered with the form's defaults (--accept-defaults)")
    return { action: "accept", content: {} }
}

/** The --args text as an object; a UsageError quoting the text otherwise. */
function parse(text: string): Record<string, unknown> {
    let v: unknown
    try {
        v = JSON.parse(text)
    } catch (e) {
        throw new UsageError(`--args ${q(text)} is not valid JSON: ${message(e)}`,
            `give the arguments as one JSON object, e.g. --args '{"message":"hi"}'`)
    }
    if (v === null || typeof v !== "object" || Array.isArray(v)) {
        throw new UsageError(`--args ${q(text)} is not a JSON object`, `give the arguments as one JSON object, e.g. --args '{"message":"hi"}'`)
    }
    return v as Record<string, unknown>
}

function unknown(name: string, list: Array<{ name: string; original: string }>): Error {
    const near = list.filter(t => t.original === name || t.name.toLowerCase() === name.toLowerCase() || t.name.endsWith(`__${name}`)).map(t => t.name)
    const hint = near.length
        ? `did you mean ${near.slice(0, 3).map(q).join(" or ")}?\nmcplexer tools lists the names`
        : list.length ? "mcplexer tools lists the names" : "no server offers any tool: mcplexer tools and mcplexer status show why"
    return config.hinted(`unknown tool ${q(name)}`, hint)
}

function line(s: string): string {
    return s.endsWith("\n") ? s : `${s}\n`
}

function q(s: string): string {
    return JSON.stringify(s)
}
