import type { Alias, Document, LineCounter, Node, YAMLError } from "yaml"
import { yaml } from "./yaml.ts"
import { maxExpansion, resolve } from "./aliases.ts"
import { ConfigError } from "./error.ts"
import { checkName } from "./names.ts"
import { suggest } from "./suggest.ts"

/** A key of a YAML map and its value (undefined when empty); `at` is where a wrong or missing value is reported. */
export interface Entry { name: string; key: Node; value: Node | undefined; at: Node }

/** A list item (undefined when empty) and where to report it. */
export interface Item { value: Node | undefined; at: Node }

const syntaxHints: Partial<Record<YAMLError["code"], string>> = {
    DUPLICATE_KEY: "a name may appear only once in a map: merge the two entries",
    TAB_AS_INDENT: "indent with spaces, not tabs",
    MULTIPLE_DOCS: "the config is one YAML document: remove the extra \"---\"",
    TAG_RESOLVE_FAILED: "remove the tag: the config uses plain strings, numbers, booleans, lists and maps",
}

/** Reads a parsed YAML document node by node, turning every mistake into a ConfigError at its position. */
export class Reader {
    readonly file: string
    private readonly doc: Document
    private readonly lines: LineCounter
    private targets = new Map<Alias, Node | undefined>()

    constructor(file: string, doc: Document, lines: LineCounter) {
        this.file = file
        this.doc = doc
        this.lines = lines
    }

    /** Throws a ConfigError at the start of `at`. */
    fail(at: Node | undefined, message: string, hint: string): never {
        throw this.error(at?.range?.[0] ?? 0, message, hint)
    }

    /** The document's first syntax error or warning, as a ConfigError. */
    syntax(e: YAMLError): never {
        const message = e.message.replace(/^[A-Z](?![A-Z])/, c => c.toLowerCase()).replace(/\.$/, "")
        throw this.error(e.pos[0], message, syntaxHints[e.code] ?? "check the indentation; quote a value that contains \": \" or \" #\", starts with a special character, or holds { } [ ] inside a { } or [ ] list")
    }

    private error(offset: number, message: string, hint: string): ConfigError {
        const { line, col } = this.lines.linePos(offset)
        return new ConfigError(message, { file: this.file, line, col }, hint)
    }

    /** Resolves the document's aliases, refusing more expansion than the reader should walk. */
    aliases(): void {
        const r = resolve(this.doc)
        if ("excess" in r) {
            this.fail(r.excess, `aliases expand the config past ${maxExpansion} values`, "write the shared part out where it is needed, or share fewer and smaller anchored values")
        }
        this.targets = r.targets
    }

    /** Follows an alias (once aliases() has run); an empty or null value is undefined. */
    node(v: unknown): Node | undefined {
        const n = yaml().isAlias(v) ? this.targets.get(v) : v
        if (yaml().isScalar(n) && n.value === null) return undefined
        return yaml().isMap(n) || yaml().isSeq(n) || yaml().isScalar(n) ? n : undefined
    }

    /** The entries of a map keyed by name; an empty value has none. */
    entries(v: unknown, where: string, hint: string): Entry[] {
        const node = this.node(v)
        if (node === undefined) return []
        if (!yaml().isMap(node)) this.fail(node, `${where} must be a map`, hint)
        const seen = new Set<string>()
        return node.items.map(pair => {
            const key = pair.key as Node
            if (!yaml().isScalar(key) || key.value === null || typeof key.value === "object") {
                this.fail(key, `${where}: a key must be a plain name`, hint)
            }
            // a name like 123 or true is read as it was written, not as a number
            const name = typeof key.value === "string" ? key.value : key.source ?? JSON.stringify(key.value)
            if (seen.has(name)) this.fail(key, "map keys must be unique", syntaxHints.DUPLICATE_KEY ?? "")
            seen.add(name)
            const value = this.node(pair.value)
            return { name, key, value, at: value ?? key }
        })
    }

    /** The entries of a settings map, refusing any key not in `known`. */
    fields(v: unknown, where: string, known: readonly string[], hint: string): Map<string, Entry> {
        const out = new Map<string, Entry>()
        for (const e of this.entries(v, where, hint)) {
            if (!known.includes(e.name)) {
                const near = suggest(e.name, known)
                const message = where === "the config" ? `unknown top-level key ${q(e.name)}` : `unknown key ${q(e.name)} in ${where}`
                this.fail(e.key, message, near ? `did you mean ${q(near)}?` : `known keys here: ${known.join(", ")}`)
            }
            out.set(e.name, e)
        }
        return out
    }

    /** The items of a list; an empty value has none. */
    items(e: Entry, what: string, hint: string): Item[] {
        if (e.value === undefined) return []
        if (!yaml().isSeq(e.value)) this.fail(e.at, `${what} must be a list`, hint)
        return e.value.items.map(raw => {
            const value = this.node(raw)
            return { value, at: value ?? (raw as Node) }
        })
    }

    /** A string value. */
    string(e: Entry | Item, what: string, hint = ""): string {
        if (yaml().isScalar(e.value) && typeof e.value.value === "string") return e.value.value
        this.fail(e.at, `${what} must be a string`, hint || "quote it: \"…\"")
    }

    /** A string, or a number or boolean taken exactly as written (so 0755 stays "0755"). */
    text(e: Entry | Item, what: string, hint: string): string {
        const v = e.value
        if (yaml().isScalar(v)) {
            if (typeof v.value === "string") return v.value
            if (typeof v.value === "number" || typeof v.value === "boolean") return v.source ?? String(v.value)
        }
        this.fail(e.at, `${what} must be a string`, hint)
    }

    /** true or false. */
    bool(e: Entry, what: string): boolean {
        if (yaml().isScalar(e.value) && typeof e.value.value === "boolean") return e.value.value
        this.fail(e.at, `${what} must be true or false`, "write true or false, without quotes")
    }

    /** One of a fixed set of words. */
    choice<T extends string>(e: Entry, what: string, options: readonly T[]): T {
        const v = yaml().isScalar(e.value) ? e.value.value : undefined
        if (typeof v === "string" && (options as readonly string[]).includes(v)) return v as T
        const list = options.map(q)
        const near = typeof v === "string" ? suggest(v, options) : undefined
        this.fail(e.at, `${what} must be ${list.slice(0, -1).join(", ")} or ${list.at(-1) ?? ""}`, near ? `did you mean ${q(near)}?` : `one of ${options.join(", ")}`)
    }

    /** Checks an entry's key as a name of `kind`. */
    name(kind: "scope" | "server" | "workspace", e: Entry): void {
        try {
            checkName(kind, e.name)
        } catch (err) {
            this.fail(e.key, (err as Error).message, (err as Error & { hint: string }).hint)
        }
    }
}

/** The subject of a message about the setting `name` inside `where` (the top level when ""). */
export function label(where: string, name: string): string {
    return where ? `${where}: ${q(name)}` : q(name)
}

/** A value quoted for a message. */
export function q(s: string): string {
    return JSON.stringify(s)
}
