import { UriTemplate } from "@modelcontextprotocol/sdk/shared/uriTemplate.js"
import type { Prompt, Resource, ResourceTemplate, Tool } from "@modelcontextprotocol/sdk/types.js"
import type * as config from "../config/index.ts"
import type * as downstream from "../downstream/index.ts"
import * as names from "./names.ts"

/** Where a request goes: the server, the name the server knows it by ("" for a server-wide request), and the instance. */
export interface Route { server: string; original: string; key: downstream.Key }

/** Everything the client can list, built from the catalogs of every server. */
export interface Tables {
    tools: names.Table<Tool>
    prompts: names.Table<Prompt>
    routes: Map<string, Route>          // exposed tool name -> route
    promptRoutes: Map<string, Route>    // exposed prompt name -> route
    resources: Resource[]
    owners: Map<string, string>         // resource URI -> server
    templates: Array<{ server: string; template: ResourceTemplate; match?: UriTemplate }>
    /** naming collisions and names refused, one line each, saying how each was resolved */
    collisions: string[]
    unavailable: Map<string, unknown>   // server left out of the lists -> why it could not be listed
}

/** The lists that list_changed announces. */
export const listChanged = {
    tools: "notifications/tools/list_changed",
    prompts: "notifications/prompts/list_changed",
    resources: "notifications/resources/list_changed",
} as const

/** What the client was shown of one server, one string per list that list_changed announces. */
export type Shown = Record<keyof typeof listChanged, string>

/** What the client is shown of a catalog. */
export function shown(c: downstream.Catalog): Shown {
    return { tools: JSON.stringify(c.tools), prompts: JSON.stringify(c.prompts), resources: JSON.stringify([c.resources, c.templates]) }
}

/** What the client was shown of a server left out of the lists. */
export const absent: Shown = { tools: "", prompts: "", resources: "" }

/** The route of a server-wide request (resources, completion): the server with its own scope. */
export function serverRoute(c: config.Config, server: string): Route {
    return { server, original: "", key: { server, scope: c.servers.get(server)?.scope } }
}

/**
 * The tables of `servers` (sorted by name, so names come out the same every time) from the
 * catalogs that could be had; a server missing from `catalogs` is left out, `unavailable` says why.
 */
export function build(c: config.Config, servers: config.Server[], catalogs: Map<string, downstream.Catalog>, unavailable: Map<string, unknown>): Tables {
    const tools: Array<names.Item<Tool>> = []
    const prompts: Array<names.Item<Prompt>> = []
    const resources: Resource[] = []
    const owners = new Map<string, string>()
    const templates: Tables["templates"] = []
    const hidden: string[] = []
    for (const s of servers) {
        const cat = catalogs.get(s.name)
        if (cat === undefined) continue
        for (const x of cat.tools) tools.push({ server: s.name, original: x.name, prefix: s.prefix, item: x })
        for (const x of cat.prompts) prompts.push({ server: s.name, original: x.name, prefix: s.prefix, item: x })
        for (const x of cat.resources) {
            const first = owners.get(x.uri)
            if (first !== undefined) {
                hidden.push(`resource ${JSON.stringify(x.uri)} of server ${JSON.stringify(s.name)} is hidden: server ${JSON.stringify(first)} lists it too`)
                continue
            }
            owners.set(x.uri, s.name)
            resources.push(x)
        }
        for (const x of cat.templates) {
            // one template, one owner: the first server (by name) that lists it, as for resources
            const first = templates.find(t => t.template.uriTemplate === x.uriTemplate)
            if (first !== undefined) {
                hidden.push(`resource template ${JSON.stringify(x.uriTemplate)} of server ${JSON.stringify(s.name)} is hidden: server ${JSON.stringify(first.server)} lists it too`)
                continue
            }
            templates.push({ server: s.name, template: x, match: matcher(x.uriTemplate) })
        }
    }
    const t: Tables = {
        tools: names.build("tool", tools),
        prompts: names.build("prompt", prompts),
        routes: new Map(), promptRoutes: new Map(), resources, owners, templates, collisions: [], unavailable,
    }
    t.collisions = [...t.tools.refused, ...t.prompts.refused, ...t.tools.collisions, ...t.prompts.collisions, ...hidden]
    const route = (n: names.Named<unknown>): Route => ({ server: n.server, original: n.original, key: { server: n.server, scope: c.servers.get(n.server)?.scope } })
    for (const n of t.tools.list) t.routes.set(n.exposed, route(n))
    for (const n of t.prompts.list) t.promptRoutes.set(n.exposed, route(n))
    return t
}

/** The server a resource URI belongs to: the one that lists it, else the first whose template matches it. */
export function owner(t: Tables, uri: string): string | undefined {
    return t.owners.get(uri) ?? t.templates.find(x => x.match?.match(uri))?.server
}

function matcher(template: string): UriTemplate | undefined {
    try {
        return new UriTemplate(template)
    } catch {
        return undefined // a template the SDK cannot parse still lists; it just owns no URI
    }
}
