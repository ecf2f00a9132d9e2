/**
 * The JSON-RPC line boundary (downstream.Reader, on a downstream's stdout and the client's stdin):
 * a byte stream of messages, lines that are not JSON-RPC, empty lines, CRLF endings, multibyte
 * text and lines at and over max_line, read in any chunking. What must hold: the same messages and
 * the same garbage as one whole read, in the same order; a line over max_line is never handed on,
 * and stops the stream at the same place however it was read.
 */
import * as fc from "fast-check"
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js"
import * as downstream from "../../internal/downstream/index.ts"
import type { Property } from "./kit.ts"

const max = 200

/** One line of the stream, without its ending. */
const line = fc.oneof(
    fc.record({ id: fc.nat(), text: fc.string({ unit: "binary", maxLength: 60 }) }).map(m => JSON.stringify({ jsonrpc: "2.0", id: m.id, result: { text: m.text } })),
    fc.record({ method: fc.string({ maxLength: 10 }), pad: fc.nat({ max: 260 }) }).map(m => JSON.stringify({ jsonrpc: "2.0", method: m.method, params: { p: "x".repeat(m.pad) } })),
    fc.string({ maxLength: 40 }).filter(s => !s.includes("\n")),
    fc.constant(""),
    fc.constant(JSON.stringify({ jsonrpc: "1.0", id: 1 })),
    fc.nat({ max: 8 }).map(n => "y".repeat(max - 4 + n)),
)

interface Seen { messages: JSONRPCMessage[]; garbage: string[]; over: boolean }

/** Reads `chunks` as the stdio transports do: stops at the first return over max. */
function read(chunks: Buffer[]): Seen {
    const seen: Seen = { messages: [], garbage: [], over: false }
    const r = new downstream.Reader({ message: m => seen.messages.push(m), garbage: l => seen.garbage.push(l) })
    for (const c of chunks) {
        if (r.push(c, () => false, max) > max) {
            seen.over = true
            break
        }
    }
    return seen
}

const properties: Property[] = [
    {
        name: "any chunking of a JSON-RPC stream gives the messages of one whole read",
        runs: 200,
        make: () => fc.property(
            fc.array(fc.record({ line, crlf: fc.boolean() }), { maxLength: 20 }),
            fc.array(fc.nat(), { maxLength: 30 }),
            (lines, cuts) => {
                const bytes = Buffer.from(lines.map(l => l.line + (l.crlf ? "\r\n" : "\n")).join(""))
                const at = [...new Set(cuts.map(c => c % (bytes.length + 1)))].sort((a, b) => a - b)
                const chunks: Buffer[] = []
                let from = 0
                for (const c of at) {
                    chunks.push(bytes.subarray(from, c))
                    from = c
                }
                chunks.push(bytes.subarray(from))
                const whole = read([bytes])
                const cut = read(chunks)
                if (JSON.stringify(cut) !== JSON.stringify(whole)) throw new Error("a chunked read differs from the whole read")
                for (const g of [...whole.garbage, ...whole.messages.map(m => JSON.stringify(m))]) {
                    if (Buffer.byteLength(g) > max) throw new Error("a line over max_line was handed on")
                }
            },
        ),
    },
]

export default properties
