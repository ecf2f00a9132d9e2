/**
 * The parsing floor: `node --import tsx bench/parse.ts <command> [args…]` spawns the server and
 * relays every message with the reader and writer `serve` uses (internal/downstream/jsonl.ts):
 * each line parsed, a request given an id of its own and its answer the client's id back, and
 * written again. No routing, no policy, no audit, no scrubbing: whatever `serve` costs beyond
 * it is the gateway's own work; whatever it costs beyond the byte relay is parsing.
 */
import { spawn } from "node:child_process"
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js"
import { Reader, Writer } from "../internal/downstream/jsonl.ts"

const [command, ...args] = process.argv.slice(2)
if (command === undefined) {
    process.stderr.write("usage: parse.ts <command> [args…]\n")
    process.exit(2)
}

type Message = JSONRPCMessage & { id?: string | number; method?: string }

const child = spawn(command, args, { stdio: ["pipe", "pipe", "inherit"] })
const toServer = new Writer(child.stdin), toClient = new Writer(process.stdout)
const ids = new Map<number, string | number>()
let next = 1
const fromClient = new Reader({
    message: m => {
        const x = m as Message
        if (x.id === undefined || x.method === undefined) return void toServer.write(m)
        const id = next++
        ids.set(id, x.id)
        void toServer.write({ ...x, id })
    },
    garbage: () => { /* nothing to relay */ },
})
const fromServer = new Reader({
    message: m => {
        const x = m as Message
        const id = typeof x.id === "number" && x.method === undefined ? ids.get(x.id) : undefined
        if (id === undefined) return void toClient.write(m)
        ids.delete(x.id as number)
        void toClient.write({ ...x, id })
    },
    garbage: () => { /* nothing to relay */ },
})
process.stdin.on("data", (b: Buffer) => fromClient.push(b, () => false))
child.stdout.on("data", (b: Buffer) => fromServer.push(b, () => false))
child.stdin.on("error", () => { /* the server is gone: its exit ends us */ })
child.on("exit", (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)))
for (const s of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(s, () => child.kill(s))
