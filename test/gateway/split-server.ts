/**
 * A downstream for the split tests (split.test.ts): one tool, `split { how }`, sends the value of
 * $TOKEN back cut in two, the halves by two ways out of one request (or of the process), each
 * half at the very end or start of its string, where only a stream that carries the first half's
 * start to the second catches it.
 */
import { Server } from "@modelcontextprotocol/sdk/server/index.js"
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js"
import { CallToolRequestSchema, ListToolsRequestSchema, McpError, type CallToolResult } from "@modelcontextprotocol/sdk/types.js"

const server = new Server({ name: "split", version: "1.0.0" }, { capabilities: { tools: {}, logging: {} } })
server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: [{ name: "split", description: "sends $TOKEN back in two halves", inputSchema: { type: "object", properties: { how: { type: "string" }, cut: { type: "number" } } } }],
}))

// the gap between two writes that must reach mcplexer as two: at 40 ms, 8 runs at once of
// split.test.ts on two cores failed 10 of 24 times (two writes arrived in one read, or stdout was
// read before the stderr written 40 ms earlier, which mcplexer cannot tell from one write); at 200 ms, 16 of 16 passed
const pause = () => new Promise(r => setTimeout(r, 200))
const done: CallToolResult = { content: [{ type: "text", text: "done" }] }

server.setRequestHandler(CallToolRequestSchema, async (req, extra): Promise<CallToolResult> => {
    const v = process.env.TOKEN ?? ""
    const cut = req.params.arguments?.cut
    const half = typeof cut === "number" ? cut : Math.floor(v.length / 2)
    const [head, tail] = [v.slice(0, half), v.slice(half)]
    switch (req.params.arguments?.how) {
        case "error":
            throw new McpError(-32000, `cannot use ${head}`, { rest: tail })
        case "sampling":
            await server.createMessage({
                messages: [{ role: "user", content: { type: "text", text: `use ${head}` } }, { role: "user", content: { type: "text", text: `${tail} now` } }],
                maxTokens: 5,
            })
            return done
        case "elicitation":
            await server.elicitInput({ message: `type ${head}`, requestedSchema: { type: "object", properties: { k: { type: "string", default: `${tail} here` } } } })
            return done
        case "progress": {
            const token = req.params._meta?.progressToken
            if (token !== undefined) await extra.sendNotification({ method: "notifications/progress", params: { progressToken: token, progress: 1, message: `at ${head}` } })
            return { content: [{ type: "text", text: `${tail} done` }] }
        }
        case "loggers":
            await server.sendLoggingMessage({ level: "info", logger: "one", data: `from ${head}` })
            await server.sendLoggingMessage({ level: "info", logger: "two", data: `${tail} end` })
            return done
        case "log-result":
            await server.sendLoggingMessage({ level: "info", data: `from ${head}` })
            return { content: [{ type: "text", text: `${tail} end` }] }
        case "stderr-stdout":
            process.stderr.write(`x ${head}\n`)
            await pause()
            process.stdout.write(`${tail} is not json-rpc\n`)
            await pause()
            return done
        case "stderr-result":
            process.stderr.write(`x ${head}\n`)
            await pause()
            return { content: [{ type: "text", text: `${tail} end` }] }
        case "garbage":
            process.stdout.write(`not json ${head}\n`)
            await pause()
            process.stdout.write(`${tail} not json either\n`)
            await pause()
            return done
        case "interleaved":
            // two writers on one stderr: a partial write, the other's line run into it, the rest
            process.stderr.write(`one: ${head}`)
            await pause()
            process.stderr.write(`two: something else\n`)
            await pause()
            process.stdout.write("garbage between\n")
            await pause()
            process.stderr.write(`${tail} end of one\n`)
            await pause()
            return done
        default:
            return done
    }
})

await server.connect(new StdioServerTransport())
