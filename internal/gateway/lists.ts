// What clients list: the tables built from every server's catalog, rebuilt when one moves.
import type * as config from "../config/index.ts"
import type * as downstream from "../downstream/index.ts"
import * as tables from "./tables.ts"
import { absent, listChanged, shown, type Shown, type Tables } from "./tables.ts"

/**
 * What every client can list, built from the catalog of every server (the catalog cache first:
 * nothing is started or decrypted when it is warm) and rebuilt when a catalog or the config
 * moves; `announce` tells the clients which lists changed.
 */
export class Lists {
    /** the tables as of the last build, if still current */
    current?: Tables
    /** bumped whenever the tables must be rebuilt (a catalog or the config moved) */
    generation = 0
    private config: config.Config
    private readonly pool: () => downstream.Pool
    private readonly log: downstream.Logger
    private readonly announce: (method: string) => void
    private readonly observe: (catalogs: Map<string, downstream.Catalog>) => void
    private loading?: { generation: number; promise: Promise<Tables> }
    // what the clients were last shown of each server, to announce only the lists that moved
    private readonly shown = new Map<string, Shown>()

    /** `observe` sees every catalog a build uses first: the pins compare each tool with what was approved (shape.ts). */
    constructor(o: { config: config.Config; pool: () => downstream.Pool; log: downstream.Logger; announce: (method: string) => void; observe: (catalogs: Map<string, downstream.Catalog>) => void }) {
        this.config = o.config
        this.observe = o.observe
        this.pool = o.pool
        this.log = o.log
        this.announce = o.announce
    }

    /** Takes a reloaded configuration: every list may have moved. */
    configure(c: config.Config): void {
        this.config = c
        this.generation++
        this.current = undefined
        this.shown.clear()
        for (const method of Object.values(listChanged)) this.announce(method)
    }

    /** The current tables, rebuilt once if `ok` says they lack what the client asked for. */
    async having(ok: (t: Tables) => boolean): Promise<Tables> {
        const t = this.current
        if (t !== undefined && ok(t)) return t
        return this.refresh()
    }

    /** The tables as of now; concurrent callers share one build. */
    refresh(): Promise<Tables> {
        if (this.loading?.generation === this.generation) return this.loading.promise
        const generation = this.generation
        const promise = this.load().then(t => {
            if (generation === this.generation) this.current = t
            return t
        }).finally(() => {
            if (this.loading?.generation === generation) this.loading = undefined
        })
        this.loading = { generation, promise }
        return promise
    }

    /** A server's catalog moved: rebuild on the next request, and announce the lists that changed. */
    changed(server: string): void {
        this.generation++
        this.current = undefined
        const before = this.shown.get(server)
        // never shown (not listed yet, or the listing that is starting it now): nothing to announce
        if (before === undefined) return
        let after: Shown | undefined
        try {
            const c = this.pool().cached(server)
            after = c && shown(c)
        } catch {
            after = undefined
        }
        for (const kind of Object.keys(listChanged) as Array<keyof typeof listChanged>) {
            if (after === undefined || before[kind] !== after[kind]) this.announce(listChanged[kind])
        }
        this.shown.set(server, after ?? absent)
    }

    /** The route of a server-wide request (resources, completion): the server with its own scope. */
    serverRoute(server: string): tables.Route {
        return tables.serverRoute(this.config, server)
    }

    private async load(): Promise<Tables> {
        const pool = this.pool()
        const servers = [...this.config.servers.values()].sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
        const catalogs = new Map<string, downstream.Catalog>()
        const unavailable = new Map<string, unknown>()
        await Promise.all(servers.map(async s => {
            try {
                catalogs.set(s.name, pool.cached(s.name) ?? await pool.catalog(s.name))
            } catch (e) {
                unavailable.set(s.name, e)
                // left out of the lists; the pool's status says why
                const error = e instanceof Error ? e.message : String(e)
                this.log.warn(`server ${JSON.stringify(s.name)} is left out of the lists: ${error}`, { server: s.name, error })
            }
        }))
        for (const s of servers) {
            const c = catalogs.get(s.name)
            this.shown.set(s.name, c === undefined ? absent : shown(c))
        }
        try {
            this.observe(catalogs)
        } catch (e) {
            // the pins could not be read or written (a locked database): what was pinned still decides
            this.log.warn(`could not compare the tools with their pins: ${e instanceof Error ? e.message : String(e)}`)
        }
        const t = tables.build(this.config, servers, catalogs, unavailable)
        // a refused name is a server trying another's namespace (and scope): say so each time it is seen
        for (const line of [...t.tools.refused, ...t.prompts.refused]) this.log.warn(line)
        return t
    }
}
