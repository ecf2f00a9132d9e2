/**
 * What `/mcp` reads a request from and writes an answer to: node:http's IncomingMessage and
 * ServerResponse under `serve --http`, or a web Request and Response (hono's `app.request`, in
 * tests), behind one pair of small interfaces, so that the gate, the sessions and their channels
 * never know which. Nothing here looks inside a body.
 */
import type { IncomingMessage, ServerResponse } from "node:http"
import * as wire from "../wire/index.ts"

/** A request as the endpoint reads it, from node:http or from a web Request. */
export interface In {
    readonly method: string
    /** a header's value; `name` is lowercase */
    header(name: string): string | undefined
    /** every header, for the SDK Server's request info */
    headers(): Record<string, string | string[] | undefined>
    /** the body, or undefined when it is longer than `max` bytes (reading stops there); rejects when the client went away */
    body(max: number): Promise<Buffer | undefined>
}

/** Where an answer goes. */
export interface Out {
    /** a whole answer */
    send(status: number, headers: Record<string, string>, body?: string): void
    /** the head of an event stream; `write` its events, then `end` */
    open(headers: Record<string, string>): void
    write(chunk: string): void
    end(): void
    /** the client hung up, or the answer is complete */
    readonly closed: boolean
    /** `f` runs when the connection closes, early or not */
    onclose(f: () => void): void
}

/** A JSON-RPC error about the request as a whole (no id), with its HTTP status. */
export function refuse(out: Out, status: number, code: number, message: string, headers: Record<string, string> = {}): void {
    out.send(status, { "content-type": "application/json", ...headers }, JSON.stringify(wire.failure(null, wire.error(code, message))))
}

/** A request on node:http. */
export class NodeIn implements In {
    private readonly req: IncomingMessage
    constructor(req: IncomingMessage) {
        this.req = req
    }

    get method(): string {
        return this.req.method ?? ""
    }

    header(name: string): string | undefined {
        const v = this.req.headers[name]
        return typeof v === "string" ? v : v === undefined ? undefined : v.join(", ")
    }

    headers(): Record<string, string | string[] | undefined> {
        return this.req.headers
    }

    body(max: number): Promise<Buffer | undefined> {
        const req = this.req
        return new Promise((resolve, reject) => {
            const chunks: Buffer[] = []
            let n = 0
            const data = (b: Buffer) => {
                n += b.length
                if (n <= max) return void chunks.push(b)
                req.off("data", data)
                req.pause()
                resolve(undefined)
            }
            req.on("data", data)
            req.once("end", () => { resolve(n > max ? undefined : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)) })
            req.once("close", () => { if (!req.complete && n <= max) reject(new Error("the client went away")) })
        })
    }
}

/** An answer on node:http. */
export class NodeOut implements Out {
    private readonly res: ServerResponse
    constructor(res: ServerResponse) {
        this.res = res
    }

    send(status: number, headers: Record<string, string>, body?: string): void {
        const res = this.res
        if (res.headersSent || res.destroyed) return
        // its length said, or Node would frame it in chunks: more bytes, one more write
        res.writeHead(status, { ...headers, "content-length": body === undefined ? "0" : String(Buffer.byteLength(body)) }).end(body)
    }

    open(headers: Record<string, string>): void {
        if (this.res.headersSent || this.res.destroyed) return
        this.res.writeHead(200, headers)
        this.res.flushHeaders()
    }

    write(chunk: string): void {
        if (!this.closed) this.res.write(chunk)
    }

    end(): void {
        if (!this.res.writableEnded) this.res.end()
    }

    get closed(): boolean {
        return this.res.destroyed || this.res.writableEnded
    }

    onclose(f: () => void): void {
        this.res.once("close", f)
    }
}

/** A web Request. */
export class WebIn implements In {
    private readonly req: Request
    constructor(req: Request) {
        this.req = req
    }

    get method(): string {
        return this.req.method
    }

    header(name: string): string | undefined {
        return this.req.headers.get(name) ?? undefined
    }

    headers(): Record<string, string> {
        return Object.fromEntries(this.req.headers)
    }

    async body(max: number): Promise<Buffer | undefined> {
        const body = this.req.body
        if (body === null) return Buffer.alloc(0)
        const chunks: Uint8Array[] = []
        let n = 0
        for await (const c of body as AsyncIterable<Uint8Array>) {
            n += c.length
            // leaving the loop cancels the stream: nothing more is read
            if (n > max) return undefined
            chunks.push(c)
        }
        return Buffer.concat(chunks)
    }
}

/** An answer as a web Response, ready in `response` once its head is known. */
export class WebOut implements Out {
    readonly response: Promise<Response>
    private resolve!: (r: Response) => void
    private controller?: ReadableStreamDefaultController<Uint8Array>
    private done = false
    private readonly closers: Array<() => void> = []
    private readonly encoder = new TextEncoder()

    constructor() {
        this.response = new Promise(resolve => { this.resolve = resolve })
    }

    send(status: number, headers: Record<string, string>, body?: string): void {
        if (this.done || this.controller !== undefined) return
        this.done = true
        const { connection: _, ...rest } = headers
        this.resolve(new Response(body ?? null, { status, headers: rest }))
        this.closed_()
    }

    open(headers: Record<string, string>): void {
        if (this.done || this.controller !== undefined) return
        const body = new ReadableStream<Uint8Array>({
            start: c => { this.controller = c },
            cancel: () => {
                this.done = true
                this.closed_()
            },
        })
        this.resolve(new Response(body, { status: 200, headers }))
    }

    write(chunk: string): void {
        if (this.done) return
        try {
            this.controller?.enqueue(this.encoder.encode(chunk))
        } catch { /* the reader went away */ }
    }

    end(): void {
        if (this.done) return
        this.done = true
        try {
            this.controller?.close()
        } catch { /* the reader went away */ }
        if (this.controller === undefined) this.resolve(new Response(null, { status: 200 }))
        this.closed_()
    }

    get closed(): boolean {
        return this.done
    }

    onclose(f: () => void): void {
        if (this.done) return f()
        this.closers.push(f)
    }

    private closed_(): void {
        for (const f of this.closers.splice(0)) f()
    }
}
