import picomatch from "picomatch"
import type { Document, YAMLMap, YAMLSeq } from "yaml"
import { hinted } from "./error.ts"
import { parse } from "./load.ts"
import { yaml } from "./yaml.ts"

/** One switch to flip: `pattern` is a name or glob over `server`'s own tool names, `tools` the names it covers today. */
export interface Switch { server: string; pattern: string; tools: string[]; disabled: boolean }

/**
 * The entry of a server's `tools.disabled` list that switches `tool` (its own name) off, if any:
 * the last entry that matches decides, and `!glob` switches back on, as in a .gitignore.
 */
export function disabledBy(list: string[], tool: string): string | undefined {
    let by: string | undefined
    for (const entry of list) {
        const negated = entry.startsWith("!")
        if (glob(negated ? entry.slice(1) : entry)(tool)) by = negated ? undefined : entry
    }
    return by
}

const globs = new Map<string, (s: string) => boolean>()
function glob(pattern: string): (s: string) => boolean {
    let m = globs.get(pattern)
    if (m === undefined) globs.set(pattern, m = picomatch(pattern, { dot: true }))
    return m
}

/**
 * Returns `text` with each switch written into its server's `tools.disabled` list, editing the
 * YAML document in place so every comment, every other entry and the key order stay as written.
 * Disabling adds the pattern (and drops a `!pattern` that re-enabled it); enabling drops the
 * pattern, and, when a glob still disables the tool, adds `!name` after it: the list reads like
 * a .gitignore, the last entry that matches a tool decides. The result is parsed and validated
 * before it is returned.
 */
export function switches(text: string, file: string, list: Switch[]): string {
    const doc = yaml().parseDocument(text)
    for (const s of list) {
        const seq = disabledList(doc, s.server, file)
        const items = () => seq.items.map(i => String(yaml().isScalar(i) ? i.value : i))
        const drop = (entry: string) => {
            for (let i = seq.items.length - 1; i >= 0; i--) if (items()[i] === entry) seq.items.splice(i, 1)
        }
        if (s.disabled) {
            drop(`!${s.pattern}`)
            if (!items().includes(s.pattern)) seq.items.push(doc.createNode(s.pattern))
        } else {
            drop(s.pattern)
            const now = items()
            if (s.tools.some(t => disabledBy(now, t) !== undefined)) seq.items.push(doc.createNode(`!${s.pattern}`))
        }
    }
    const out = doc.toString({ lineWidth: 0 })
    parse(out, file)
    return out
}

/** `servers.<server>.tools.disabled`, made (flow style, one line) when missing. */
function disabledList(doc: Document, server: string, file: string): YAMLSeq {
    const entry: unknown = doc.getIn(["servers", server], true)
    if (!yaml().isMap(entry)) throw hinted(`server ${JSON.stringify(server)} is not in ${file}`, "see the servers with: mcplexer status")
    let tools: unknown = entry.get("tools", true)
    if (!yaml().isMap(tools)) {
        tools = doc.createNode({ disabled: [] }, { flow: true })
        entry.set("tools", tools)
    }
    const t = tools as YAMLMap
    let seq: unknown = t.get("disabled", true)
    if (!yaml().isSeq(seq)) {
        seq = doc.createNode([], { flow: true })
        t.set("disabled", seq)
    }
    return seq as YAMLSeq
}
