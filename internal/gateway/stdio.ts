import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js"
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js"
import * as downstream from "../downstream/index.ts"

/** The longest line a client may send (the SDK's own stdio reader has the same cap). */
export const maxLine = 10 * 1024 * 1024

/**
 * The client's side of `serve` over stdio: newline-delimited JSON-RPC on stdin and stdout. Each
 * line is parsed once and checked for `jsonrpc: "2.0"` only, by the reader the downstream side
 * uses too (downstream.Reader): the gateway takes tools/call itself and the SDK Server checks
 * everything else it is handed, so the SDK transport's zod check of every line is paid for nothing.
 * It does not notice stdin closing; serve watches stdin for that.
 */
export class Stdio implements Transport {
    onclose?: () => void
    onerror?: (error: Error) => void
    onmessage?: (message: JSONRPCMessage) => void

    private readonly stdin: NodeJS.ReadableStream
    private readonly out: downstream.Writer
    private readonly reader = new downstream.Reader({
        message: m => this.onmessage?.(m),
        garbage: (_, why) => this.onerror?.(new Error(`a line that is not a JSON-RPC 2.0 message: ${why}`)),
    })
    private closed = false
    private end: (why: string) => void = () => {}
    /**
     * Settles, with why, once the connection is closed: by the gateway, or by this transport when
     * the client sent a line over `maxLine`. serve stops then, as when stdin ends (issue 19
     * re-probe: after an 11 MiB line it stayed up with no client, its downstreams running).
     */
    readonly ended = new Promise<string>(resolve => { this.end = resolve })

    constructor(stdin: NodeJS.ReadableStream = process.stdin, stdout: NodeJS.WritableStream = process.stdout) {
        this.stdin = stdin
        this.out = new downstream.Writer(stdout)
        // EPIPE once the client is gone: reported, never an uncaught error that skips serve's clean stop
        stdout.on("error", (e: Error) => { this.onerror?.(e) })
    }

    start(): Promise<void> {
        this.stdin.on("data", this.ondata)
        this.stdin.on("error", this.onstdinerror)
        return Promise.resolve()
    }

    send(message: JSONRPCMessage): Promise<void> {
        return this.out.write(message)
    }

    close(): Promise<void> {
        if (this.closed) return Promise.resolve()
        this.closed = true
        this.out.flush()
        this.stdin.off("data", this.ondata)
        this.stdin.off("error", this.onstdinerror)
        // pause only a stdin nobody else reads, or the process would stay alive reading it
        if (this.stdin.listenerCount("data") === 0) this.stdin.pause()
        this.reader.clear()
        this.onclose?.()
        this.end("the connection was closed")
        return Promise.resolve()
    }

    private readonly stopped = (): boolean => this.closed

    private readonly onstdinerror = (e: Error): void => {
        this.onerror?.(e)
    }

    private readonly ondata = (chunk: Buffer): void => {
        if (this.reader.push(chunk, this.stopped, maxLine) > maxLine) {
            this.onerror?.(new Error(`a line longer than ${maxLine} bytes: closing the connection`))
            this.end(`the client sent a line longer than ${maxLine} bytes`)
            void this.close()
        }
    }
}
