/**
 * The HTTP floor: `node --import tsx bench/floor.ts <port> <command> [args…]` spawns a stdio MCP
 * server and relays Streamable HTTP to it with nothing but `node:http`: a POST's body becomes one
 * line on the server's stdin, and the line that answers its id becomes the JSON response; a POST
 * holding no request gets 202. No session, no checks, no SSE. Whatever it costs beyond a direct
 * stdio call is the least any HTTP front of a stdio server can cost.
 */
import { spawn } from "node:child_process"
import { createServer, type ServerResponse } from "node:http"
import { createInterface } from "node:readline"

const [port, command, ...args] = process.argv.slice(2)
if (port === undefined || command === undefined) {
    process.stderr.write("usage: floor.ts <port> <command> [args…]\n")
    process.exit(2)
}

const child = spawn(command, args, { stdio: ["pipe", "pipe", "inherit"] })
const waiting = new Map<string, ServerResponse>()
createInterface({ input: child.stdout }).on("line", line => {
    let id: unknown
    try {
        id = (JSON.parse(line) as { id?: unknown }).id
    } catch {
        return
    }
    const res = waiting.get(JSON.stringify(id))
    if (res === undefined) return
    waiting.delete(JSON.stringify(id))
    res.writeHead(200, { "content-type": "application/json" }).end(line)
})

const server = createServer((req, res) => {
    if (req.method !== "POST") {
        res.writeHead(405).end()
        return
    }
    const chunks: Buffer[] = []
    req.on("data", (b: Buffer) => chunks.push(b))
    req.on("end", () => {
        const text = Buffer.concat(chunks).toString()
        const m = JSON.parse(text) as { id?: unknown; method?: string }
        if (m.id === undefined || m.method === undefined) res.writeHead(202).end()
        else waiting.set(JSON.stringify(m.id), res)
        child.stdin.write(text + "\n")
    })
})
server.listen(Number(port), "127.0.0.1", () => process.stderr.write(`floor listening on ${port}\n`))
child.on("exit", code => process.exit(code ?? 1))
for (const s of ["SIGINT", "SIGTERM"] as const) process.once(s, () => { child.kill(s); process.exit(0) })
