/**
 * Opening one connection to a downstream, the moment its secrets are put to use: its process is
 * spawned with the resolved environment (its stderr scrubbed as a stream before it is logged), or
 * its URL reached with the resolved headers and, for an `oauth:` server, its tokens. instance.ts
 * decides when to open and what to do when a connection ends; this file opens, and names the
 * errors a start can end with.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js"
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js"
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js"
import type * as config from "../config/index.ts"
import * as redact from "../redact/index.ts"
import type * as secrets from "../secrets/index.ts"
import { duration, type Calls } from "./calls.ts"
import { Failure } from "./failure.ts"
import * as oauth from "./oauth.ts"
import * as remote from "./remote.ts"
import { Process, type Exit } from "./stdio.ts"
import type { Hooks, Key, Logger } from "./types.ts"

/** One live connection to a downstream: a process (or remote session) and the SDK client on it. */
export interface Conn {
    /** initialize, notifications and the downstream's own requests */
    client: Client
    transport: Transport
    /** our requests, beside the client (set once connected) */
    calls: Calls
    process?: Process
    remote?: remote.Remote
    /** kept for a remote reconnect only; a stdio instance keeps no value after spawning */
    headers?: { url: string; headers: Record<string, string> }
    /** an `oauth:` server's tokens, from the vault */
    auth?: oauth.Provider
    pid?: number
    startedAt: number
    inflight: number
    /** set when the connection ended, before in-flight calls are failed: the error they get */
    dead?: Failure
    stopping: boolean
    stderr: string[]
    drained?: () => void
}

/** What opening needs from the instance it opens for. */
export interface Opener {
    readonly name: string
    readonly key: Key
    readonly server: config.Server
    readonly owner: { readonly vault: secrets.Vault; readonly registry: redact.Registry; readonly log: Logger; readonly hooks: Hooks }
    /** a new SDK client wired to the instance's hooks */
    client(): Client
    /** the connection ended (its process exited, its transport closed) */
    closed(c: Conn): void
    /** the connection being opened, so that a stop meanwhile can end it; undefined once open */
    opening(c: Conn | undefined): void
    /** our requests on a connected transport */
    calls(t: Transport): Calls
}

const timedOut: number = ErrorCode.RequestTimeout

const stderrLines = 10
/** A start may take longer than a call (npx may download the server first): at least a minute. */
export const minStartTimeout = 60_000

export function startTimeout(s: config.Server): number {
    return Math.max(s.timeout, minStartTimeout)
}


/** Opens one connection for `x` with the values resolved for it: spawns the process, or reaches the URL. */
export async function open(x: Opener, r: secrets.Resolved): Promise<Conn> {
    const s = x.server
    const o = x.owner
    const c: Conn = {
        client: undefined as unknown as Client,
        transport: undefined as unknown as Transport,
        calls: undefined as unknown as Calls,
        startedAt: Date.now(),
        inflight: 0,
        stopping: false,
        stderr: [],
    }
    if (s.kind === "stdio") {
        const where = { server: x.key.server, scope: x.key.scope }
        // one stream for everything the process writes that is logged (stderr as it comes, and the
        // lines of stdout that are not JSON-RPC), so a value split between them is masked in both
        const flow = o.registry.stream()
        // a value begun there may go on in the answer of a call to this instance (issue 19 re-probe:
        // stderr "x <head>", then the result "<tail> end" showed the tail): its scrubber adopts the start
        o.hooks.logged?.(x.key, flow)
        const lines = redact.lines(o.registry, line => {
            c.stderr.push(line)
            if (c.stderr.length > stderrLines) c.stderr.shift()
            if (/\b(error|fatal|panic|exception|traceback)\b/i.test(line)) o.log.warn(`server ${x.name} stderr: ${line}`, where)
            else o.log.debug(`server ${x.name} stderr: ${line}`, where)
        }, flow)
        const p = new Process({
            command: s.command,
            args: r.args,
            env: r.env,
            ...(r.cwd === undefined ? {} : { cwd: r.cwd }),
            stderr: chunk => lines.write(chunk),
            garbage: (line, why) => o.log.warn(`server ${x.name} wrote something that is not JSON-RPC to stdout (skipped): ${truncate(flow.scrub(line))}`, { ...where, why }),
            ...(s.maxLine === undefined ? {} : { maxLine: s.maxLine }),
        })
        p.onclose = () => {
            lines.end()
            x.closed(c)
        }
        c.process = p
        c.transport = p
        c.client = x.client()
        x.opening(c)
        try {
            await c.client.connect(p, { timeout: startTimeout(s) })
        } catch (e) {
            await p.close()
            throw startError(x, c, e)
        } finally {
            x.opening(undefined)
        }
        c.pid = p.pid
    } else {
        const url = r.url ?? s.url
        c.headers = { url, headers: r.headers }
        if (s.oauth !== undefined) {
            const scope = x.key.scope ?? s.scope ?? ""
            c.auth = await new oauth.Provider({ server: s, scope, vault: o.vault, registry: o.registry, url, present: oauth.presenter(o.hooks, x.key) }).prepare()
        }
        await reach(x, c)
    }
    c.calls = x.calls(c.transport)
    return c
}

/** (Re)connects a remote conn with the headers resolved at start. */
export async function reach(x: Opener, c: Conn): Promise<void> {
    const h = c.headers!
    let rm: remote.Remote
    try {
        rm = await remote.connect(() => x.client(), h.url, h.headers, startTimeout(x.server), c.auth)
    } catch (e) {
        if (e instanceof oauth.LoginNeeded) throw e
        throw startError(x, c, e)
    }
    c.remote = rm
    c.client = rm.client
    c.transport = rm.transport
    const sdk = rm.transport.onclose
    rm.transport.onclose = () => {
        sdk?.()
        x.closed(c)
    }
}

function startError(x: Opener, c: Conn, e: unknown): Failure {
    if (e instanceof McpError && e.code === timedOut) {
        return fail(ErrorCode.RequestTimeout, `server ${x.name} did not answer initialize within ${duration(startTimeout(x.server))}`)
    }
    const exit = c.process?.exit
    if (exit) {
        const tail = c.stderr.length ? `; last stderr lines:\n${c.stderr.join("\n")}` : ""
        return fail(ErrorCode.InternalError, `server ${x.name} ${ended(exit)} at start${tail}`, { stderr: [...c.stderr] })
    }
    const what = x.server.kind === "stdio" ? `cannot run ${JSON.stringify(x.server.command)}` : `cannot connect to ${JSON.stringify(safeUrl(c.headers?.url ?? ""))}`
    return fail(ErrorCode.InternalError, `server ${x.name} ${what}: ${message(e)}`)
}

/** Waits until `c` has no call in flight, or `ms` passed. */
export function drain(c: Conn, ms: number): Promise<void> {
    if (c.inflight === 0) return Promise.resolve()
    return new Promise(done => {
        const t = setTimeout(done, ms)
        c.drained = () => {
            clearTimeout(t)
            done()
        }
    })
}

/** A Failure (failure.ts) with `code`, `text` and `data`. */
export function fail(code: number, text: string, data?: unknown): Failure {
    return new Failure(code, text, data)
}

export function stopped(name: string): Failure {
    return fail(ErrorCode.ConnectionClosed, `server ${name} was stopped while it was starting`)
}

export function ended(exit: Exit): string {
    return exit.code !== null ? `exited (code ${exit.code})` : `was killed by ${exit.signal ?? "a signal"}`
}

/** An error's message, or the thrown value as text. */
export function message(e: unknown): string {
    return e instanceof Error ? e.message : String(e)
}

function truncate(s: string): string {
    return s.length > 200 ? `${s.slice(0, 200)}…` : s
}

/** A URL for an error message: without user info or query, which may hold credentials. */
function safeUrl(u: string): string {
    try {
        const url = new URL(u)
        return `${url.protocol}//${url.host}${url.pathname}`
    } catch {
        return "(invalid url)"
    }
}
