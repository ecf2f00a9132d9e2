import * as wire from "../wire/index.ts"
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js"

/** What a Reader hands on: each message, and each line that is not one (with why). */
export interface Sink {
    message(m: JSONRPCMessage): void
    garbage(line: string, why: string): void
}

/**
 * Reads MCP's stdio framing, one JSON-RPC message per line, on both sides of mcplexer (a
 * downstream's stdout, the client's stdin). Only a cheap shape check: no schema validation on the
 * hot path; the receiver classifies what it gets.
 */
export class Reader {
    // A partial line is kept as the chunks it came in and joined once, when its newline comes:
    // concatenating at every chunk re-copied the whole line each time, and a 30 MB result took
    // 9.4 s instead of a fraction of one.
    private parts: Buffer[] = []
    private size = 0
    private readonly sink: Sink

    constructor(sink: Sink) {
        this.sink = sink
    }

    /**
     * Feeds one chunk; hands on every complete line until `stopped()` says the stream closed
     * meanwhile. Returns how many bytes wait for their newline; or, when a line is longer than
     * `max` bytes, its length (over `max`), having handed on nothing from it on: the caller stops
     * the stream. A line whose newline comes in the same read as its end is checked too, so no
     * line over `max` is ever parsed, whatever the size of the reads.
     */
    push(chunk: Buffer, stopped: () => boolean, max = Infinity): number {
        let start = 0
        let at = chunk.indexOf(10)
        while (at !== -1) {
            const size = this.size + at - start
            if (size > max) {
                this.clear()
                return size
            }
            let line = chunk.subarray(start, at)
            if (this.parts.length) {
                this.parts.push(line)
                line = Buffer.concat(this.parts, this.size + line.length)
                this.parts = []
                this.size = 0
            }
            const end = line.length > 0 && line[line.length - 1] === 13 ? line.length - 1 : line.length
            const text = line.toString("utf8", 0, end)
            start = at + 1
            if (text.length) this.deliver(text)
            if (stopped()) return 0
            at = chunk.indexOf(10, start)
        }
        if (start < chunk.length) {
            this.parts.push(start === 0 ? chunk : chunk.subarray(start))
            this.size += chunk.length - start
        }
        return this.size
    }

    /** Drops a partial line (the stream ended). */
    clear(): void {
        this.parts = []
        this.size = 0
    }

    private deliver(line: string): void {
        let m: unknown
        try {
            m = JSON.parse(line)
        } catch (e) {
            this.sink.garbage(line, unparsable(e))
            return
        }
        if (typeof m !== "object" || m === null || (m as { jsonrpc?: unknown }).jsonrpc !== wire.version) {
            this.sink.garbage(line, "not a JSON-RPC 2.0 message")
            return
        }
        this.sink.message(m as JSONRPCMessage)
    }
}

/**
 * Why a line is not JSON, by position only: JSON.parse's message quotes the line (`Unexpected
 * token 'G', "Gq7XkP2mZr"... is not valid JSON`), and a quote cut anywhere in a value is not a form
 * scrubbing can recognise, so no text of the parser's ever reaches a log or an error (issue 19).
 */
export function unparsable(e: unknown): string {
    const text = e instanceof Error ? e.message : ""
    const at = /\bat position (\d+)/.exec(text)?.[1]
    if (at !== undefined) return `not JSON (at position ${at})`
    if (/\bend of JSON input\b/.test(text)) return "not JSON (it ends early)"
    return "not JSON (an unexpected character)"
}

/**
 * Writes JSON-RPC messages one per line, and the messages of one tick in one write: under load a
 * read brings many requests or answers at once, and a write for each (a syscall, and a wakeup of
 * the reader) was most of the CPU serve spent per call. A lone message waits one nextTick (no
 * event-loop turn) and costs nothing more.
 */
export class Writer {
    private out = ""
    private waiting: Promise<void> | undefined
    private readonly stream: NodeJS.WritableStream

    constructor(stream: NodeJS.WritableStream) {
        this.stream = stream
    }

    /** Queues one message; resolves at once, or when the stream drains if it is full. */
    write(m: JSONRPCMessage): Promise<void> {
        const line = `${JSON.stringify(m)}\n`
        if (this.out === "") process.nextTick(this.flush)
        this.out += line
        return this.waiting ?? Promise.resolve()
    }

    /** Writes what is queued now (before the stream is ended, for one). */
    readonly flush = (): void => {
        if (this.out === "") return
        const text = this.out
        this.out = ""
        if (!this.stream.write(text) && this.waiting === undefined) {
            this.waiting = new Promise(done => this.stream.once("drain", () => {
                this.waiting = undefined
                done()
            }))
        }
    }
}
