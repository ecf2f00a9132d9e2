/**
 * A downstream for the line-length tests, speaking JSON-RPC by hand: tools `pid`, and `flood`,
 * whose answer is one line that never ends (the server keeps writing until it is killed).
 */
import { createInterface } from "node:readline"

const send = (m: unknown): boolean => process.stdout.write(JSON.stringify(m) + "\n")

createInterface({ input: process.stdin }).on("line", line => {
    const m = JSON.parse(line) as { id?: number; method: string; params?: { protocolVersion?: string; name?: string } }
    if (m.id === undefined) return
    const reply = (result: unknown) => send({ jsonrpc: "2.0", id: m.id, result })
    if (m.method === "initialize") reply({ protocolVersion: m.params?.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: "flood", version: "1" } })
    else if (m.method === "tools/list") reply({ tools: ["pid", "flood"].map(name => ({ name, inputSchema: { type: "object" } })) })
    else if (m.method === "tools/call" && m.params?.name === "pid") reply({ content: [{ type: "text", text: String(process.pid) }] })
    else if (m.method === "tools/call") {
        process.stdout.write(`{"jsonrpc":"2.0","id":${m.id},"result":{"content":[{"type":"text","text":"`)
        const chunk = "x".repeat(1 << 20)
        const more = (): void => {
            while (process.stdout.write(chunk)) { /* until the pipe is full */ }
            process.stdout.once("drain", more)
        }
        more()
    } else send({ jsonrpc: "2.0", id: m.id, error: { code: -32601, message: "no such method" } })
})
