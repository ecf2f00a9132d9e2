import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js"
import { ErrorCode } from "@modelcontextprotocol/sdk/types.js"
import type * as config from "../config/index.ts"
import type * as redact from "../redact/index.ts"
import * as secrets from "../secrets/index.ts"
import { Calls, duration } from "./calls.ts"
import { learn } from "./catalog.ts"
import { drain, ended, fail, message, open, reach, stopped, type Conn, type Opener } from "./connect.ts"
import { Failure } from "./failure.ts"
import * as oauth from "./oauth.ts"
import * as remote from "./remote.ts"
import type { Catalog, Hooks, Key, Logger, RequestOptions, Signal, Status } from "./types.ts"

/** What an instance needs from its pool. */
export interface Owner {
    readonly vault: secrets.Vault
    /** for the stderr stream, which it scrubs across chunks and lines before it logs */
    readonly registry: redact.Registry
    readonly log: Logger
    readonly hooks: Hooks
    readonly env: NodeJS.ProcessEnv
    /** Starts watching the vault for changes from other processes, before anything is decrypted. */
    watch(): void
    /** The instance changed state: record it. */
    transition(i: Instance): void
    /** A connection came up (first start, restart or reconnect). */
    started(i: Instance, c: Conn): void
    /** The downstream announced that one of its lists changed. */
    listChanged(i: Instance, c: Conn): void
}

const noop = (): void => {}
const connectionClosed: number = ErrorCode.ConnectionClosed

/** How long in-flight calls on an instance being restarted for new secrets may run before they fail. */
export const drainGrace = 2000
/** Backoff after failures: 0.5 s doubling to 30 s; a connection up for a minute counts as healthy. */
export const backoff = { first: 500, max: 30_000, healthy: 60_000 }
/** One (server, scope): started lazily, restarted with backoff, stopped when idle. */
export class Instance {
    /** what status shows */
    state: Status["state"] = "stopped"
    /** the connection while running */
    conn: Conn | undefined
    /** starts after a failure or for new secrets */
    restarts = 0
    /** why it last failed */
    lastError: string | undefined
    /** when the running connection came up */
    since: Date | undefined
    /** in backoff: when the next start may be tried (ms since the epoch) */
    retryAt = 0
    // set by a failure or a restart for new secrets: the next start counts as a restart
    private recovering = false
    private failures = 0
    private starting: Promise<Conn> | undefined
    private opening: Conn | undefined
    private gen = 0
    private lastUsed = 0
    private idle: NodeJS.Timeout | undefined

    readonly key: Key
    server: config.Server
    private readonly owner: Owner

    constructor(key: Key, server: config.Server, owner: Owner) {
        this.key = key
        this.server = server
        this.owner = owner
    }

    /** Where status and logs name this instance. */
    get name(): string {
        return JSON.stringify(this.key.server)
    }

    /** The process id (and process group id) of a running stdio instance. */
    get pid(): number | undefined {
        return this.conn?.pid
    }

    /** Whether a process or session is up or coming up. */
    get live(): boolean {
        return this.state === "running" || this.state === "starting"
    }

    /** One request, starting the instance first if needed. */
    request(method: string, params: Record<string, unknown> | undefined, o?: RequestOptions): Promise<Record<string, unknown>> {
        const c = this.conn
        if (c !== undefined && this.state === "running") return this.call(c, method, params, o, false)
        return this.ensure().then(c2 => this.call(c2, method, params, o, false))
    }

    /** The running connection, started (once, however many callers) if there is none. */
    ensure(): Promise<Conn> {
        if (this.conn !== undefined && this.state === "running") return Promise.resolve(this.conn)
        if (this.starting) return this.starting
        if (this.state === "backoff") {
            const wait = this.retryAt - Date.now()
            if (wait > 0) {
                return Promise.reject(fail(ErrorCode.InternalError,
                    `server ${this.name} ${this.lastError ?? "failed"}; next try in ${duration(wait)}`))
            }
        }
        return this.begin(this.start(undefined, ++this.gen))
    }

    /** Stops the instance for good or until the next request; in-flight calls fail with `why`. */
    async stop(why: string): Promise<void> {
        const gen = ++this.gen
        this.disarm()
        const c = this.conn ?? this.opening
        this.conn = undefined
        if (c) await this.shut(c, fail(ErrorCode.ConnectionClosed, `server ${this.name} ${why} during the call`))
        if (this.starting) await this.starting.catch(noop)
        if (gen !== this.gen) return
        if (this.state !== "stopped") {
            this.set("stopped")
            if (c?.pid !== undefined) this.owner.log.info(`server ${this.name} stopped`, { server: this.key.server, scope: this.key.scope, pid: c.pid, why })
        }
    }

    /**
     * Replaces the running connection with one started from `r` (already resolved): new requests
     * wait for the new one; calls in flight on the old one get drainGrace to finish, then the old
     * process is stopped (stdin, SIGTERM, SIGKILL), and only then is the new one started.
     */
    async restart(r: secrets.Resolved, scope: string): Promise<void> {
        if (this.starting) await this.starting.catch(noop)
        const old = this.conn
        if (!old) return
        const gen = ++this.gen
        this.conn = undefined
        this.recovering = true
        this.disarm()
        const p = (async () => {
            await drain(old, drainGrace)
            await this.shut(old, fail(ErrorCode.ConnectionClosed,
                `server ${this.name} restarted during the call because the secrets of scope ${JSON.stringify(scope)} changed`))
            if (old.pid !== undefined) this.owner.log.info(`server ${this.name} stopped`, { server: this.key.server, scope: this.key.scope, pid: old.pid, why: "secrets changed" })
            return this.start(r, gen)
        })()
        this.set("starting")
        await this.begin(p)
    }

    /** The lists the server offers, all pages, only those its capabilities declare, as the server sent them. */
    async learn(c: Conn): Promise<Catalog> {
        return learn(c.client, (method, params) => this.call(c, method, params, undefined, false),
            (field, e) => { this.owner.log.debug(`server ${this.name} could not list ${field}`, { error: message(e) }) })
    }

    /** Sends a notification if a connection is up. */
    async notify(method: string, params?: Record<string, unknown>): Promise<void> {
        const c = this.conn
        if (c === undefined || this.state !== "running") return
        await c.client.notification({ method, params })
    }

    private begin(p: Promise<Conn>): Promise<Conn> {
        this.starting = p
        const clear = (): void => { if (this.starting === p) this.starting = undefined }
        p.then(clear, clear)
        return p
    }

    private async start(pre: secrets.Resolved | undefined, gen: number): Promise<Conn> {
        const o = this.owner
        this.set("starting")
        if (this.recovering) this.restarts++
        this.recovering = false
        let r = pre
        if (r === undefined) {
            o.watch()
            try {
                r = await secrets.resolve(o.vault, this.server, this.key.scope, { env: o.env, reason: "start" })
            } catch (e) {
                if (gen !== this.gen) throw stopped(this.name)
                this.lastError = message(e)
                this.recovering = true
                this.set("failed")
                o.log.warn(`server ${this.name} cannot start: ${this.lastError}`, { server: this.key.server, scope: this.key.scope })
                throw e
            }
        }
        o.registry.add(...r.values)
        if (gen !== this.gen) throw stopped(this.name)
        let c: Conn
        try {
            c = await open(this.opener(), r)
        } catch (e) {
            if (gen !== this.gen) throw stopped(this.name)
            if (e instanceof oauth.LoginNeeded || e instanceof secrets.MissingSecretError) {
                // nothing to retry until the person acts: no backoff, the next call tries again
                this.lastError = e.message
                this.recovering = true
                this.set("failed")
                throw e
            }
            const err = e instanceof Failure ? e : fail(ErrorCode.InternalError, `server ${this.name} failed to start: ${message(e)}`)
            this.failed(err.message)
            throw err
        }
        if (gen !== this.gen) {
            await this.shut(c, stopped(this.name))
            throw stopped(this.name)
        }
        this.conn = c
        this.since = new Date(c.startedAt)
        this.lastError = undefined
        this.set("running")
        o.log.info(`server ${this.name} started`, { server: this.key.server, scope: this.key.scope, pid: c.pid })
        this.used()
        o.started(this, c)
        return c
    }

    /** Connects: spawns the process, or reaches the URL; the initialize handshake included. */
    /** This instance as connect.ts opens for it. */
    private opener(): Opener {
        return {
            name: this.name, key: this.key, server: this.server, owner: this.owner,
            client: () => this.client(), closed: c => { this.closed(c) }, opening: c => { this.opening = c }, calls: t => this.calls(t),
        }
    }

    private client(): Client {
        const o = this.owner
        const key = this.key
        const client = new Client({ name: "mcplexer", version: "0.1.0" }, { capabilities: o.hooks.capabilities() })
        client.fallbackRequestHandler = async (req, extra) => {
            const params = req.params
            return await o.hooks.request(key, params === undefined ? { method: req.method } : { method: req.method, params }, extra.signal)
        }
        client.fallbackNotificationHandler = n => {
            this.notification(n)
            return Promise.resolve()
        }
        client.onerror = e => {
            o.log.debug(`server ${this.name}: ${e.message}`, { server: key.server, scope: key.scope })
        }
        return client
    }

    /** Our requests on a connected transport; its timeout is the server's as of the start. */
    private calls(t: Transport): Calls {
        return new Calls(t, { timeout: this.server.timeout, log: this.owner.log, name: this.name })
    }

    private notification(n: { method: string; params?: Record<string, unknown> }): void {
        const o = this.owner
        const c = this.conn
        if (c !== undefined && n.method.endsWith("/list_changed") && n.method !== "notifications/roots/list_changed") o.listChanged(this, c)
        const params = n.params
        try {
            o.hooks.notification(this.key, params === undefined ? { method: n.method } : { method: n.method, params })
        } catch (e) {
            o.log.warn(`a notification of server ${this.name} could not be relayed: ${message(e)}`)
        }
    }

    private call(c: Conn, method: string, params: Record<string, unknown> | undefined, o: RequestOptions | undefined, retried: boolean): Promise<Record<string, unknown>> {
        c.inflight++
        return c.calls.request(method, params, o).then(
            r => {
                this.done(c)
                return r
            },
            (e: unknown) => {
                this.done(c)
                if (!retried && c.remote !== undefined && remote.expired(e, c.remote)) {
                    return this.reconnect(c).then(c2 => this.call(c2, method, params, o, true))
                }
                // the token and its refresh were refused (or more scope is needed): log in, once
                if (!retried && c.auth !== undefined && oauth.unauthorized(e)) {
                    return c.auth.login().then(() => this.call(c, method, params, o, true))
                }
                throw this.error(c, e, o?.signal)
            })
    }

    private done(c: Conn): void {
        if (--c.inflight === 0 && c.drained) c.drained()
        this.used()
    }

    /** The error a caller gets: the downstream's own as it sent it, or ours naming the server. */
    private error(c: Conn, e: unknown, signal: Signal | undefined): Failure {
        if (signal?.aborted) return fail(ErrorCode.RequestTimeout, `request to server ${this.name} was cancelled`)
        if (c.auth !== undefined && oauth.unauthorized(e)) return c.auth.needed()
        if (e instanceof Failure) return e.code === connectionClosed && c.dead ? c.dead : e
        if (c.dead) return c.dead
        return fail(ErrorCode.InternalError, `server ${this.name}: ${message(e)}`)
    }

    /** A remote session the server forgot: connect again with the same headers (no new decrypt). */
    private reconnect(c: Conn): Promise<Conn> {
        if (this.conn !== c) return this.ensure()
        const fresh: Conn = { ...c, inflight: 0, stopping: false, startedAt: Date.now(), stderr: [], drained: undefined }
        delete fresh.dead
        this.conn = undefined
        this.owner.log.info(`server ${this.name} lost its session; reconnecting`, { server: this.key.server, scope: this.key.scope })
        const gen = this.gen
        const p = (async () => {
            c.stopping = true
            if (c.remote) await remote.close(c.remote)
            await reach(this.opener(), fresh)
            fresh.calls = this.calls(fresh.transport)
            if (gen !== this.gen) {
                await this.shut(fresh, stopped(this.name))
                throw stopped(this.name)
            }
            this.conn = fresh
            this.set("running")
            this.owner.started(this, fresh)
            return fresh
        })()
        this.set("starting")
        return this.begin(p)
    }

    /** The connection ended by itself (a crash, or a remote that went away). */
    private closed(c: Conn): void {
        if (c.stopping) return
        const exit = c.process?.exit
        const over = c.process?.overflow
        const what = exit ? ended(exit) : over !== undefined ? `wrote a line longer than ${over} bytes (max_line) and was stopped` : "closed the connection"
        c.dead = fail(ErrorCode.InternalError, `server ${this.name} ${what} during the call`)
        if (this.conn !== c) return
        this.conn = undefined
        this.disarm()
        this.owner.log.warn(`server ${this.name} ${what}`, { server: this.key.server, scope: this.key.scope, pid: c.pid, stderr: c.stderr.slice(-3) })
        if (Date.now() - c.startedAt >= backoff.healthy) this.failures = 0
        this.failed(what)
    }

    private failed(why: string): void {
        this.recovering = true
        this.failures++
        this.retryAt = Date.now() + Math.min(backoff.max, backoff.first * 2 ** (this.failures - 1))
        this.lastError = why.startsWith(`server ${this.name} `) ? why.slice(`server ${this.name} `.length) : why
        this.set("backoff")
    }

    /** Stops a connection: its process group (stdin, SIGTERM, SIGKILL) or its session. */
    private async shut(c: Conn, why: Failure): Promise<void> {
        c.stopping = true
        c.dead ??= why
        if (c.remote) await remote.close(c.remote)
        else if (c.process) {
            // fail the calls now rather than after the process is gone
            c.process.onclose?.()
            await c.process.close()
        }
        await c.client.close().catch(noop)
    }

    private set(state: Status["state"]): void {
        if (this.state === state && state !== "backoff") return
        this.state = state
        this.owner.transition(this)
    }

    private used(): void {
        this.lastUsed = Date.now()
        if (this.idle === undefined && this.conn !== undefined) this.arm(this.server.idleTimeout)
    }

    private arm(ms: number): void {
        // One timer per instance, moved forward lazily: no clearTimeout/setTimeout on every call.
        this.idle = setTimeout(() => {
            this.idle = undefined
            const c = this.conn
            if (c === undefined || this.state !== "running") return
            if (c.inflight > 0) return // re-armed when the last call ends
            if (this.owner.hooks.held?.(this.key)) return this.arm(this.server.idleTimeout)
            const left = this.lastUsed + this.server.idleTimeout - Date.now()
            if (left > 0) this.arm(left)
            else void this.stop("was stopped after being idle").catch(noop)
        }, ms)
        this.idle.unref()
    }

    private disarm(): void {
        if (this.idle !== undefined) clearTimeout(this.idle)
        this.idle = undefined
    }
}

/** Resolves when no call is in flight on `c`, or after `ms`. */

export { fail, message, type Conn } from "./connect.ts"
