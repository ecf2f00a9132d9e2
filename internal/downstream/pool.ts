import { ErrorCode } from "@modelcontextprotocol/sdk/types.js"
import * as config from "../config/index.ts"
import type * as redact from "../redact/index.ts"
import * as secrets from "../secrets/index.ts"
import * as store from "../store/index.ts"
import * as catalog from "./catalog.ts"
import { fail, Instance, message, type Conn, type Owner } from "./instance.ts"
import { reap } from "./stdio.ts"
import type { Catalog, Hooks, Key, Logger, Pool, PoolOptions, RequestOptions, Status } from "./types.ts"

/** How often the vault is asked whether another process wrote to it, while instances run. */
export const pollInterval = 1000

/** Creates the pool of downstream instances; nothing starts until a request needs it. */
export function pool(o: PoolOptions): Pool {
    return new Instances(o)
}

class Instances implements Pool, Owner {
    readonly vault: secrets.Vault
    readonly registry: redact.Registry
    readonly log: Logger
    readonly hooks: Hooks
    readonly env: NodeJS.ProcessEnv
    private config: config.Config
    // server → scope ("" for none) → instance
    private readonly instances = new Map<string, Map<string, Instance>>()
    private readonly live = new Set<Instance>()
    private readonly stopping = new Set<Promise<void>>()
    private readonly catalogs = new Map<string, { fingerprint: string; catalog: Catalog }>()
    private readonly learning = new Map<string, Promise<Catalog>>()
    // whether the first lookup has read every stored catalog at once: one query at start, not one
    // per server (a 20-server start to tools/list 196-198 ms against 208-211, 2026-11-26)
    private primed = false
    // rows this process wrote, with the time of its last write, to delete only our own on close
    private readonly rows = new Map<string, { server: string; scope: string; updatedAt: Date }>()
    private readonly deps = new WeakMap<Instance, Set<string>>()
    private poll: NodeJS.Timeout | undefined
    private snapshot: Map<string, string> | undefined
    private closed = false

    constructor(o: PoolOptions) {
        this.vault = o.vault
        this.registry = o.registry
        this.log = o.log
        this.hooks = o.hooks
        this.env = o.env
        this.config = o.config
        void this.reap()
    }

    request(key: Key, method: string, params: Record<string, unknown> | undefined, o?: RequestOptions): Promise<Record<string, unknown>> {
        let i: Instance
        try {
            i = this.instance(key)
        } catch (e) {
            return Promise.reject(e instanceof Error ? e : new Error(String(e)))
        }
        return i.request(method, params, o)
    }

    async notify(method: string, params?: Record<string, unknown>): Promise<void> {
        const all: Array<Promise<void>> = []
        for (const i of this.live) {
            all.push(i.notify(method, params).catch((e: unknown) => {
                this.log.debug(`notification ${method} to server ${i.name} failed: ${message(e)}`)
            }))
        }
        await Promise.all(all)
    }

    cached(server: string): Catalog | undefined {
        const s = this.config.servers.get(server)
        if (!s) return undefined
        const fp = catalog.fingerprint(s)
        if (!this.primed) {
            this.primed = true
            for (const [name, c] of catalog.readAll(this.vault.store, this.config.servers)) {
                this.catalogs.set(name, { fingerprint: catalog.fingerprint(this.config.servers.get(name)!), catalog: c })
            }
        }
        const mem = this.catalogs.get(server)
        if (mem && mem.fingerprint === fp) return mem.catalog
        const c = catalog.read(this.vault.store, s)
        if (c) this.catalogs.set(server, { fingerprint: fp, catalog: c })
        return c
    }

    async catalog(server: string, o?: { refresh?: boolean }): Promise<Catalog> {
        if (!o?.refresh) {
            const c = this.cached(server)
            if (c) return c
        }
        const s = this.server(server)
        const i = this.instance({ server, scope: s.scope })
        const c = await i.ensure()
        return this.learning.get(server) ?? this.learn(i, c)
    }

    status(): Status[] {
        const out: Status[] = []
        for (const [name, s] of this.config.servers) {
            const by = this.instances.get(name)
            if (!by || by.size === 0) {
                out.push({ server: name, ...(s.scope === undefined ? {} : { scope: s.scope }), state: "stopped", restarts: 0 })
                continue
            }
            for (const i of by.values()) out.push(status(i))
        }
        return out
    }

    async restartScope(scope: string): Promise<void> {
        const targets: Instance[] = []
        for (const by of this.instances.values()) {
            for (const i of by.values()) if (i.live && this.dependencies(i).has(scope)) targets.push(i)
        }
        await Promise.all(targets.map(async i => {
            let r: secrets.Resolved
            try {
                r = await this.resolve(i, `restart: secrets of scope "${scope}" changed`)
            } catch (e) {
                this.log.warn(`server ${i.name} keeps its old secrets: ${message(e)}`, { server: i.key.server, scope: i.key.scope })
                return
            }
            this.log.info(`restarting server ${i.name}: the secrets of scope ${JSON.stringify(scope)} changed`, { server: i.key.server, scope: i.key.scope })
            try {
                await i.restart(r, scope)
            } catch (e) {
                this.log.warn(`server ${i.name} did not come back after new secrets: ${message(e)}`, { server: i.key.server, scope: i.key.scope })
                return
            }
            await this.learning.get(i.key.server)?.catch(noop)
        }))
    }

    async stop(key: Key, why: string): Promise<void> {
        const i = this.instances.get(key.server)?.get(key.scope ?? "")
        if (i === undefined || !i.live) return
        await i.stop(why).catch((e: unknown) => {
            this.log.warn(`stopping server ${i.name} failed: ${message(e)}`)
        })
    }

    configure(c: config.Config): void {
        const before = this.config
        this.config = c
        const names = new Set([...before.servers.keys(), ...c.servers.keys()])
        for (const name of names) {
            const a = before.servers.get(name)
            const b = c.servers.get(name)
            const by = this.instances.get(name)
            if (a && b && catalog.fingerprint(a) === catalog.fingerprint(b)) {
                // only timeouts or naming moved: running instances take them as they are
                for (const i of by?.values() ?? []) i.server = b
                continue
            }
            this.instances.delete(name)
            this.catalogs.delete(name)
            for (const i of by?.values() ?? []) this.retire(i, b ? "was stopped because its definition changed" : "was removed from the config")
            if (a) this.hooks.changed?.(name)
        }
    }

    async close(): Promise<void> {
        this.closed = true
        if (this.poll) clearInterval(this.poll)
        this.poll = undefined
        for (const by of this.instances.values()) for (const i of by.values()) this.retire(i, "was stopped because mcplexer is shutting down")
        this.instances.clear()
        while (this.stopping.size) await Promise.all([...this.stopping])
        try {
            for (const r of this.rows.values()) store.instances.remove(this.vault.store, r.server, r.scope, r.updatedAt)
        } catch (e) {
            this.log.warn(`could not clear instance status rows: ${message(e)}`)
        }
        this.rows.clear()
    }

    // Owner: what instances call back.

    watch(): void {
        if (this.poll || this.closed) return
        try {
            this.vault.store.changed()
            this.snapshot = this.scopes()
        } catch (e) {
            this.log.warn(`cannot watch the vault for changes: ${message(e)}`)
            return
        }
        this.poll = setInterval(() => this.tick(), pollInterval)
        this.poll.unref()
    }

    transition(i: Instance): void {
        if (i.live) this.live.add(i)
        else this.live.delete(i)
        const now = new Date()
        const row = {
            server: i.key.server,
            scope: i.key.scope ?? "",
            state: i.state,
            pid: i.pid ?? null,
            owner: process.pid,
            restarts: i.restarts,
            // the status table's one scrubbing point: the row is read by other processes
            lastError: i.lastError === undefined ? null : this.registry.scrub(i.lastError),
            startedAt: i.since ?? null,
            updatedAt: now,
        }
        try {
            store.instances.put(this.vault.store, row)
            this.rows.set(`${row.server}\0${row.scope}`, { server: row.server, scope: row.scope, updatedAt: now })
        } catch (e) {
            this.log.warn(`could not record the state of server ${i.name}: ${message(e)}`)
        }
    }

    started(i: Instance, c: Conn): void {
        this.hooks.started?.(i.key)
        const s = this.config.servers.get(i.key.server)
        if (!s || s !== i.server) return
        // a live instance refreshes the cache (DESIGN decision 4); the default scope's catalog is the server's
        if (i.key.scope === s.scope || this.cached(s.name) === undefined) void this.learn(i, c).catch(noop)
    }

    listChanged(i: Instance, c: Conn): void {
        void this.learn(i, c).catch(noop)
    }

    // Internals.

    /**
     * Stops, in the background, what an earlier mcplexer on this database left running when it
     * was killed together with its watchdog: processes carrying its mark (stdio.reap), found by
     * the owners of the instance rows it could not delete.
     */
    private async reap(): Promise<void> {
        try {
            const owners = store.instances.all(this.vault.store).flatMap(r => (r.owner === null ? [] : [r.owner]))
            const pids = await reap(owners)
            if (pids.length > 0) this.log.warn(`stopped ${pids.length} downstream process(es) an earlier mcplexer left running`, { pids: pids.join(" ") })
        } catch (e) {
            this.log.debug(`could not look for downstream processes left running: ${message(e)}`)
        }
    }

    private learn(i: Instance, c: Conn): Promise<Catalog> {
        const name = i.key.server
        const running = this.learning.get(name)
        if (running) return running
        const p = (async () => {
            try {
                // the catalog cache's one scrubbing point: it is kept in SQLite (DESIGN decision 3)
                const cat = this.registry.scrubObject(await i.learn(c))
                this.remember(i.server, cat)
                return cat
            } catch (e) {
                this.log.warn(`could not learn what server ${i.name} offers: ${message(e)}`, { server: name })
                throw e
            } finally {
                this.learning.delete(name)
            }
        })()
        this.learning.set(name, p)
        return p
    }

    private remember(s: config.Server, cat: Catalog): void {
        if (this.config.servers.get(s.name) !== s) return // the definition moved on while we learned
        const before = this.cached(s.name)
        const moved = !catalog.same(before, cat)
        this.catalogs.set(s.name, { fingerprint: catalog.fingerprint(s), catalog: cat })
        if (!moved) return
        try {
            catalog.write(this.vault.store, s, cat)
        } catch (e) {
            this.log.warn(`could not cache the catalog of server ${JSON.stringify(s.name)}: ${message(e)}`)
        }
        this.hooks.changed?.(s.name)
    }

    private instance(key: Key): Instance {
        if (this.closed) throw fail(ErrorCode.ConnectionClosed, "mcplexer is shutting down")
        let by = this.instances.get(key.server)
        const scope = key.scope ?? ""
        let i = by?.get(scope)
        if (i !== undefined) return i
        const s = this.server(key.server)
        if (!by) this.instances.set(key.server, by = new Map<string, Instance>())
        i = new Instance({ server: key.server, scope: key.scope }, s, this)
        by.set(scope, i)
        return i
    }

    private server(name: string): config.Server {
        const s = this.config.servers.get(name)
        if (!s) throw fail(ErrorCode.InvalidParams, `unknown server ${JSON.stringify(name)}`)
        return s
    }

    private retire(i: Instance, why: string): void {
        const p = i.stop(why).catch((e: unknown) => {
            this.log.warn(`stopping server ${i.name} failed: ${message(e)}`)
        }).finally(() => this.stopping.delete(p))
        this.stopping.add(p)
    }

    private resolve(i: Instance, reason: string): Promise<secrets.Resolved> {
        return secrets.resolve(this.vault, i.server, i.key.scope, { env: this.env, reason })
    }

    /** The scopes an instance reads: its own, and any a ${secret:scope/KEY} of its definition names. */
    private dependencies(i: Instance): Set<string> {
        let d = this.deps.get(i)
        if (d) return d
        d = new Set<string>()
        if (i.key.scope !== undefined) d.add(i.key.scope)
        const s = i.server
        const texts = s.kind === "stdio"
            ? [s.command, ...s.args, ...Object.values(s.env), s.cwd ?? ""]
            : [s.url, ...Object.values(s.headers)]
        for (const t of texts) {
            let parts: config.Part[]
            try {
                parts = config.template(t)
            } catch {
                continue
            }
            for (const p of parts) if (typeof p === "object" && "secret" in p && p.secret.scope !== undefined) d.add(p.secret.scope)
        }
        this.deps.set(i, d)
        return d
    }

    /** Each scope's key set and update times, from the index only (never decrypts). */
    private scopes(): Map<string, string> {
        const by = new Map<string, string[]>()
        for (const e of this.vault.list()) {
            if (config.isOAuthKey(e.key)) continue // a token refresh is no reason to restart anything
            let l = by.get(e.scope)
            if (!l) by.set(e.scope, l = [])
            l.push(`${e.key}@${e.updatedAt.getTime()}`)
        }
        const out = new Map<string, string>()
        for (const [scope, l] of by) out.set(scope, l.sort().join(","))
        return out
    }

    private tick(): void {
        if (this.live.size === 0) {
            clearInterval(this.poll)
            this.poll = undefined
            return
        }
        let now: Map<string, string>
        try {
            if (!this.vault.store.changed()) return
            now = this.scopes()
        } catch (e) {
            this.log.warn(`cannot check the vault for changes: ${message(e)}`)
            return
        }
        const before = this.snapshot ?? new Map<string, string>()
        this.snapshot = now
        for (const scope of new Set([...before.keys(), ...now.keys()])) {
            if (before.get(scope) === now.get(scope)) continue
            this.log.debug(`the secrets of scope ${JSON.stringify(scope)} changed`)
            this.restartScope(scope).catch((e: unknown) => {
                this.log.warn(`restarting the servers of scope ${JSON.stringify(scope)} failed: ${message(e)}`)
            })
        }
    }
}

function status(i: Instance): Status {
    return {
        server: i.key.server,
        ...(i.key.scope === undefined ? {} : { scope: i.key.scope }),
        state: i.state,
        ...(i.pid === undefined ? {} : { pid: i.pid }),
        restarts: i.restarts,
        ...(i.lastError === undefined ? {} : { lastError: i.lastError }),
        ...(i.since === undefined || i.state !== "running" ? {} : { since: i.since }),
    }
}

function noop(): void {}
