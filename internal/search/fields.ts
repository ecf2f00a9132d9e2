/**
 * What of a tool is searched, field by field: the words of its name, its server, title and
 * description, and the names and descriptions of its parameters (nested ones too).
 */
import { stem, stopwords, words } from "./tokens.ts"

/** A tool as the index takes it: its client-visible name, its server, and what the client is shown. */
export interface Tool {
    /** The name the model calls it by (`github__create_issue`, or the bare name without a prefix). */
    name: string
    /** The server it comes from. */
    server: string
    title?: string
    description?: string
    inputSchema?: unknown
}

/** The searched fields, in the order their weights are listed. */
export const fields = ["name", "server", "title", "description", "params", "paramText"] as const

/** One searched field. */
export type Field = (typeof fields)[number]

/** A tool's text per field, as words (not yet stemmed). */
export type Texts = Record<Field, string[]>

// a schema is outside text: a deep or huge one must not make indexing slow
const maxDepth = 6
const maxProperties = 500

/** The parameter names and the parameter prose (descriptions, titles, enum values) of a JSON schema. */
function params(schema: unknown): { names: string[]; text: string[] } {
    const names: string[] = []
    const text: string[] = []
    let seen = 0
    const walk = (s: unknown, depth: number): void => {
        if (depth > maxDepth || typeof s !== "object" || s === null || seen > maxProperties) return
        const o = s as Record<string, unknown>
        if (typeof o.properties === "object" && o.properties !== null) {
            for (const [key, p] of Object.entries(o.properties as Record<string, unknown>)) {
                if (++seen > maxProperties) return
                names.push(...words(key))
                walk(p, depth + 1)
            }
        }
        if (depth > 0) {
            for (const k of ["description", "title"]) if (typeof o[k] === "string") text.push(...words(o[k]))
            if (Array.isArray(o.enum)) for (const v of o.enum) if (typeof v === "string") text.push(...words(v))
        }
        walk(o.items, depth + 1)
        walk(o.additionalProperties, depth + 1)
        for (const k of ["anyOf", "oneOf", "allOf"]) if (Array.isArray(o[k])) for (const x of o[k] as unknown[]) walk(x, depth + 1)
    }
    walk(schema, 0)
    return { names, text }
}

/** The words of each field of a tool; the name without its `<server>__` prefix (the server has its own field). */
export function texts(t: Tool): Texts {
    const bare = t.name.startsWith(`${t.server}__`) ? t.name.slice(t.server.length + 2) : t.name
    const p = params(t.inputSchema)
    return {
        name: words(bare),
        server: words(t.server),
        title: words(t.title ?? ""),
        description: words(t.description ?? ""),
        params: p.names,
        paramText: p.text,
    }
}

/**
 * Splits run-together name words (`sequentialthinking`) into two words when one of them is a word
 * the catalog uses elsewhere and both have at least 4 letters (the word at least 8); the run-together word is kept too,
 * so a query that names it still finds it.
 */
export function split(name: string[], vocabulary: ReadonlySet<string>): string[] {
    const out: string[] = []
    for (const w of name) {
        out.push(w)
        if (vocabulary.has(w) || w.length < 8) continue
        // the split whose known part is longest: "sequentialthinking" is sequential + thinking, not sequentialthin + king
        let best = 0
        let at = 0
        for (let i = 4; i <= w.length - 4; i++) {
            const known = Math.max(vocabulary.has(w.slice(0, i)) ? i : 0, vocabulary.has(w.slice(i)) ? w.length - i : 0)
            if (known > best) [best, at] = [known, i]
        }
        if (at > 0) out.push(w.slice(0, at), w.slice(at))
    }
    return out
}

/** The terms of a field's words: stopwords out, stemmed. */
export function stems(ws: string[]): string[] {
    return ws.filter(w => !stopwords.has(w)).map(stem)
}
