/**
 * The parsing floor: `node --import tsx bench/parse.ts <command> [args…]` spawns the server and
 * relays every message with the reader and writer `serve` uses (internal/downstream/jsonl.ts):
 * each line parsed, a request given an id of its own and its answer the client's id back, and
 * written again. No routing, no policy, no audit, no scrubbing: whatever `serve` costs beyond
 * it is the gateway's own work; whatever it costs beyond the byte relay is parsing.
 *
 * With PARSE_AUDIT=<database file>, it also leaves the audit row every call through `serve` must
 * leave, through serve's own trail (gateway/audit.ts: queued, scrubbed, written in batches to
 * SQLite): the floor of a hop that parses and audits.
 */
import { spawn } from "node:child_process"
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js"
import { Ids } from "../internal/downstream/ids.ts"
import { Reader, Writer } from "../internal/downstream/jsonl.ts"
import { Trail } from "../internal/gateway/audit.ts"
import * as redact from "../internal/redact/index.ts"
import * as store from "../internal/store/index.ts"

const [command, ...args] = process.argv.slice(2)
if (command === undefined) {
    process.stderr.write("usage: parse.ts <command> [args…]\n")
    process.exit(2)
}

type Message = JSONRPCMessage & { id?: string | number; method?: string; params?: { name?: string; arguments?: Record<string, unknown> } }

const db = process.env.PARSE_AUDIT
const trail = db === undefined ? undefined : new Trail(store.open(db), m => process.stderr.write(`${m}\n`), redact.create())

const child = spawn(command, args, { stdio: ["pipe", "pipe", "inherit"] })
const toServer = new Writer(child.stdin), toClient = new Writer(process.stdout)
const ids = new Ids<{ id: string | number; tool?: string; args?: Record<string, unknown>; started: number }>()
let next = 1
const fromClient = new Reader({
    message: m => {
        const x = m as Message
        if (x.id === undefined || x.method === undefined) return void toServer.write(m)
        const id = next++
        ids.set(id, { id: x.id, tool: x.params?.name, args: x.params?.arguments, started: performance.now() })
        void toServer.write({ ...x, id })
    },
    garbage: () => { /* nothing to relay */ },
})
const fromServer = new Reader({
    message: m => {
        const x = m as Message
        const asked = typeof x.id === "number" && x.method === undefined ? ids.get(x.id) : undefined
        if (asked === undefined) return void toClient.write(m)
        ids.delete(x.id as number)
        if (trail !== undefined && asked.tool !== undefined) {
            // the row serve's router leaves for a call (gateway/route.ts)
            trail.add({
                action: "call", actor: "mcplexer-bench", tool: asked.tool, server: "everything", scope: undefined, workspace: "", route: "default",
                detail: { arguments: asked.args === undefined ? [] : Object.keys(asked.args) }, status: "ok", latency: Math.round(performance.now() - asked.started),
            })
        }
        void toClient.write({ ...x, id: asked.id })
    },
    garbage: () => { /* nothing to relay */ },
})
process.stdin.on("data", (b: Buffer) => fromClient.push(b, () => false))
child.stdout.on("data", (b: Buffer) => fromServer.push(b, () => false))
child.stdin.on("error", () => { /* the server is gone: its exit ends us */ })
child.on("exit", (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)))
for (const s of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(s, () => child.kill(s))
