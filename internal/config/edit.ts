import type { Document, YAMLMap } from "yaml"
import { parse } from "./load.ts"
import { document, yaml } from "./yaml.ts"

/** What `add` puts into config.yaml: scopes (name → description) and servers (name → entry). */
export interface Additions {
    scopes: Record<string, string>
    servers: Record<string, Record<string, unknown>>
}

/** The servers (as plain data) and scope names of a config's text, for comparing before adding. */
export function entries(text: string): { servers: Map<string, unknown>; scopes: Set<string> } {
    const doc = document(text)
    const servers = new Map<string, unknown>()
    const scopes = new Set<string>()
    const s: unknown = doc.get("servers")
    if (yaml().isMap(s)) for (const p of s.items) servers.set(String(yaml().isScalar(p.key) ? p.key.value : p.key), yaml().isNode(p.value) ? p.value.toJSON() : p.value)
    const a: unknown = doc.get("auth_scopes")
    if (yaml().isMap(a)) for (const p of a.items) scopes.add(String(yaml().isScalar(p.key) ? p.key.value : p.key))
    return { servers, scopes }
}

/**
 * Returns `text` with the scopes and servers of `a` added (a server of the same name is replaced),
 * editing the YAML document in place so every comment and every other entry stays as written.
 * The result is parsed and validated before it is returned: a config this makes never fails to load.
 */
export function add(text: string, file: string, a: Additions): string {
    const doc = document(text)
    const scopes = section(doc, "auth_scopes")
    for (const [name, description] of Object.entries(a.scopes)) {
        if (!scopes.has(name)) scopes.set(name, doc.createNode({ description }, { flow: true }))
    }
    const servers = section(doc, "servers")
    for (const [name, entry] of Object.entries(a.servers)) {
        const node = doc.createNode(entry) as YAMLMap
        const args = node.get("args", true)
        // one line per server's command reads best: args: ["-y", "@scope/server"]
        if (yaml().isSeq(args)) args.flow = true
        servers.set(name, node)
    }
    const out = doc.toString({ lineWidth: 0 })
    parse(out, file)
    return out
}

/** The top-level map `key`, made (block style) when missing, empty or written as a flow `{}`. */
function section(doc: Document, key: string): YAMLMap {
    const v: unknown = doc.get(key, true)
    if (yaml().isMap(v)) {
        if (v.items.length === 0) v.flow = false
        return v
    }
    const m = doc.createNode({}) as YAMLMap
    m.flow = false
    const comment = yaml().isScalar(v) ? v.comment ?? v.commentBefore : undefined
    if (comment) m.comment = comment
    doc.set(key, m)
    return m
}
