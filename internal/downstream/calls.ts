import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js"
import { ErrorCode, type JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js"
import * as wire from "../wire/index.ts"
import { Failure } from "./failure.ts"
import { Ids } from "./ids.ts"
import type { Logger, Progress, RequestOptions, Signal } from "./types.ts"

type Result = Record<string, unknown>

/** One request in flight; it is its own abort listener, so no closure is made per request. */
class Pending {
    resolve!: (r: Result) => void
    reject!: (e: unknown) => void
    /** when it times out (performance.now()), moved on by progress */
    deadline = 0
    readonly calls: Calls
    readonly id: number
    readonly onprogress: ((p: Progress) => void) | undefined
    readonly signal: Signal | undefined

    constructor(calls: Calls, id: number, o: RequestOptions | undefined) {
        this.calls = calls
        this.id = id
        this.onprogress = o?.onprogress
        this.signal = o?.signal
    }

    /** The caller's signal aborted. */
    handleEvent(): void {
        this.calls.cancel(this)
    }
}

function sweep(c: Calls): void {
    c.sweep()
}

/**
 * The requests of one connection, written straight to its transport rather than through the SDK
 * Client's request machinery, which zod-checks every incoming message and allocates a closure set
 * per request: responses and progress for our ids are taken from the transport's onmessage before
 * the Client sees them, synchronously (so no progress is lost to the SDK's race, DESIGN decision 8).
 * Everything else (initialize, the downstream's own requests and notifications) goes on to the Client.
 *
 * Once `Calls` is made (after initialize), the SDK Client sends no request of its own on the
 * connection, so a response or progress token is ours exactly when its id is pending here: there
 * are no id ranges. Anything else (a late answer, the downstream's own requests and notifications)
 * goes on to the Client. The id doubles as the progress token.
 *
 * Errors are Failures: the downstream's JSON-RPC error as it sent it, a timeout as -32001 naming
 * the server and `{ timeout }`, a closed connection as -32000.
 */
export class Calls {
    /** ms a request may go without an answer or progress */
    readonly timeout: number
    private readonly t: Transport
    private readonly pending = new Ids<Pending>()
    private next = 1
    private ended = false
    // One timer for the connection, due at the earliest deadline or before: no timer is set or
    // cleared per request (in a latency-bound loop that was a libuv timer start and stop per call).
    private timer: NodeJS.Timeout | undefined
    private readonly log: Logger
    private readonly name: string

    constructor(t: Transport, o: { timeout: number; log: Logger; name: string }) {
        this.t = t
        this.timeout = o.timeout
        this.log = o.log
        this.name = o.name
        const sdk = t.onmessage
        t.onmessage = (m, extra) => {
            if (!this.take(m)) sdk?.(m, extra)
        }
        const closed = t.onclose
        t.onclose = () => {
            closed?.()
            this.close()
        }
    }

    /** Sends one request; `params._meta.progressToken` is replaced by ours when `o.onprogress` listens, else removed. */
    request(method: string, params: Result | undefined, o?: RequestOptions): Promise<Result> {
        const signal = o?.signal
        if (signal?.aborted) return Promise.reject(new Error("cancelled before it was sent"))
        if (this.ended) return Promise.reject(closedError())
        const id = this.next++
        const p = new Pending(this, id, o)
        let out = params
        if (p.onprogress !== undefined) {
            out = { ...params, _meta: { ...(params?._meta as Result | undefined), progressToken: id } }
        } else if (params !== undefined && hasToken(params)) {
            // a token meant for someone else: the downstream's progress would have nowhere to go
            const { progressToken: _, ...meta } = params._meta as Result
            out = { ...params, _meta: meta }
        }
        const promise = new Promise<Result>((resolve, reject) => {
            p.resolve = resolve
            p.reject = reject
        })
        p.deadline = performance.now() + this.timeout
        if (this.timer === undefined) this.arm(this.timeout)
        signal?.addEventListener("abort", p)
        this.pending.set(id, p)
        this.t.send(wire.request(id, method, out)).catch((e: unknown) => {
            if (this.finish(p)) p.reject(e)
        })
        return promise
    }

    /** The caller gave up: the downstream is told, the caller gets its signal's reason. */
    cancel(p: Pending): void {
        if (!this.finish(p)) return
        const reason = p.signal?.reason
        this.notifyCancelled(p.id, String(reason))
        p.reject(reason)
    }

    /** Times out the requests past their deadline and waits for the next one. */
    sweep(): void {
        this.timer = undefined
        const now = performance.now()
        let next = Infinity
        for (const p of this.pending.values()) {
            if (p.deadline <= now) this.expire(p)
            else if (p.deadline < next) next = p.deadline
        }
        if (next !== Infinity) this.arm(next - now)
    }

    private arm(ms: number): void {
        // unref: a pending request keeps nothing alive that its connection does not
        this.timer = setTimeout(sweep, Math.max(1, Math.ceil(ms)), this)
        this.timer.unref()
    }

    /** No answer or progress within the timeout. */
    private expire(p: Pending): void {
        if (!this.finish(p)) return
        this.notifyCancelled(p.id, "request timed out")
        p.reject(new Failure(ErrorCode.RequestTimeout, `server ${this.name} did not answer within ${duration(this.timeout)}`, { timeout: this.timeout }))
    }

    /** The connection ended: every pending request fails at once. */
    private close(): void {
        this.ended = true
        if (this.timer !== undefined) clearTimeout(this.timer)
        this.timer = undefined
        if (this.pending.size === 0) return
        for (const p of this.pending.values()) if (this.finish(p)) p.reject(closedError())
    }

    /** Takes the message if it answers or reports progress on one of our requests. */
    private take(m: JSONRPCMessage): boolean {
        const id = (m as { id?: unknown }).id
        if (id !== undefined) {
            if ((m as { method?: unknown }).method !== undefined || typeof id !== "number") return false
            const p = this.pending.get(id)
            if (p === undefined || !this.finish(p)) return false
            if ("result" in m) {
                const r = m.result
                if (typeof r === "object" && r !== null) p.resolve(r)
                else p.reject(new Error("the result is not an object"))
            } else if ("error" in m) {
                const e = m.error
                p.reject(new Failure(e.code, e.message, e.data))
            } else {
                p.reject(new Error("the answer has neither a result nor an error"))
            }
            return true
        }
        if ((m as { method?: unknown }).method !== "notifications/progress") return false
        const params = (m as { params?: Result }).params
        const token = params?.progressToken
        if (typeof token !== "number") return false
        const p = this.pending.get(token)
        // progress after its answer, or for a request gone: nobody to tell (the SDK would call it an error)
        if (p === undefined || p.onprogress === undefined) return true
        p.deadline = performance.now() + this.timeout
        const { progressToken: _, ...rest } = params!
        try {
            p.onprogress(rest as unknown as Progress)
        } catch (e) {
            this.log.warn(`progress of server ${this.name} could not be relayed: ${e instanceof Error ? e.message : String(e)}`)
        }
        return true
    }

    /** Forgets a pending request; false when it was settled already. */
    private finish(p: Pending): boolean {
        if (this.pending.get(p.id) !== p) return false
        this.pending.delete(p.id)
        p.signal?.removeEventListener("abort", p)
        return true
    }

    private notifyCancelled(requestId: number, reason: string): void {
        if (this.ended) return
        this.t.send(wire.notification("notifications/cancelled", { requestId, reason })).catch((e: unknown) => {
            this.log.debug(`server ${this.name}: cannot send a cancellation: ${e instanceof Error ? e.message : String(e)}`)
        })
    }
}

function closedError(): Failure {
    return new Failure(ErrorCode.ConnectionClosed, "connection closed")
}

/** 60000 → "60s", 1500 → "1.5s", 250 → "250ms". */
export function duration(ms: number): string {
    if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`
    const s = ms / 1000
    return `${Number.isInteger(s) ? s : s.toFixed(1)}s`
}

function hasToken(params: Result): boolean {
    const meta = params._meta
    return typeof meta === "object" && meta !== null && "progressToken" in meta
}
