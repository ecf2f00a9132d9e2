import picomatch from "picomatch"
import type { Node, Pair, YAMLMap, YAMLSeq } from "yaml"
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
 * Returns `text` with each switch written into its server's `tools.disabled` list. Disabling adds
 * the pattern (and drops a `!pattern` that re-enabled it); enabling drops the pattern, and, when a
 * glob still disables one of its tools, adds `!pattern` after it. The text is edited where the list
 * is and nowhere else (yaml's own printer would realign every comment and respace every flow
 * list of the file): every other line stays byte for byte. The result is parsed and validated
 * before it is returned.
 */
export function switches(text: string, file: string, list: Switch[]): string {
    let out = text
    for (const s of list) out = flip(out, file, s)
    parse(out, file)
    return out
}

function flip(text: string, file: string, s: Switch): string {
    const doc = yaml().parseDocument(text)
    const entry: unknown = doc.getIn(["servers", s.server], true)
    if (!yaml().isMap(entry)) throw hinted(`server ${JSON.stringify(s.server)} is not in ${file}`, "see the servers with: mcplexer status")
    const tools: unknown = entry.get("tools", true)
    const seq: unknown = yaml().isMap(tools) ? tools.get("disabled", true) : undefined
    const before = yaml().isSeq(seq) ? seq.items.map(i => String(yaml().isScalar(i) ? i.value : i)) : []
    const after = next(before, s)
    if (after.join("\n") === before.join("\n")) return text
    if (yaml().isSeq(seq)) return edit(text, seq, before, after)
    if (yaml().isMap(tools)) return add(text, tools, "disabled", `[${after.map(scalar).join(", ")}]`)
    return add(text, entry, "tools", `{ disabled: [${after.map(scalar).join(", ")}] }`)
}

/** The list after one switch. */
function next(list: string[], s: Switch): string[] {
    if (s.disabled) return [...list.filter(e => e !== `!${s.pattern}`), ...list.includes(s.pattern) ? [] : [s.pattern]]
    const left = list.filter(e => e !== s.pattern)
    return s.tools.some(t => disabledBy(left, t) !== undefined) ? [...left, `!${s.pattern}`] : left
}

/** A list item as YAML writes it: plain when it can be, quoted when it must be (`"!name"`). */
function scalar(v: string): string {
    return yaml().stringify(v).trimEnd()
}

/** `text` with the items of `seq` (now `before`) made `after`: a flow list rewritten in place, a block list by whole lines. */
function edit(text: string, seq: YAMLSeq, before: string[], after: string[]): string {
    const [start, end] = range(seq)
    if (seq.flow || after.length === 0) return text.slice(0, start) + `[${after.map(scalar).join(", ")}]` + text.slice(end)
    const lines = seq.items.map(i => whole(text, range(i as Node)))
    const indent = text.slice(lines[0]![0], text.indexOf("-", lines[0]![0]))
    // items that stay keep their lines (and comments); removed ones lose theirs; new ones go last
    const edits: Array<[from: number, to: number, insert: string]> = []
    for (let i = 0; i < before.length; i++) if (!after.includes(before[i]!)) edits.push([lines[i]![0], lines[i]![1], ""])
    const added = after.filter(e => !before.includes(e))
    const tail = lines.at(-1)![1]
    if (added.length) edits.push([tail, tail, added.map(e => `${indent}- ${scalar(e)}\n`).join("")])
    let out = text
    for (const [from, to, insert] of edits.sort((a, b) => b[0] - a[0])) out = out.slice(0, from) + insert + out.slice(to)
    return out
}

/** `text` with `key: value` added to map `m`: inside a flow map's braces, or as a line after a block map's last. */
function add(text: string, m: YAMLMap, key: string, value: string): string {
    const [start, end] = range(m)
    if (m.flow) {
        const close = text.lastIndexOf("}", end - 1)
        let at = close
        while (at > start && /\s/.test(text[at - 1]!)) at--
        const empty = text[at - 1] === "{"
        return text.slice(0, at) + `${empty ? " " : ", "}${key}: ${value}` + text.slice(at, close) + (empty ? " " : "") + text.slice(close)
    }
    const last = m.items.at(-1) as Pair<Node, Node | null> | undefined
    const first = m.items[0] as Pair<Node, Node | null> | undefined
    const from = first?.key ? range(first.key)[0] : start
    const indent = text.slice(text.lastIndexOf("\n", from - 1) + 1, from)
    const tail = last?.value ? range(last.value)[1] : last?.key ? range(last.key)[1] : end
    const [, lineEnd] = whole(text, [tail, tail])
    const nl = lineEnd > 0 && text[lineEnd - 1] === "\n" ? "" : "\n"
    return text.slice(0, lineEnd) + `${nl}${indent}${key}: ${value}\n` + text.slice(lineEnd)
}

function range(n: Node): [number, number] {
    const r = n.range
    if (r === undefined || r === null) throw new Error("a YAML node without a position")
    return [r[0], r[1]]
}

/** The whole lines a span covers: from the start of its first line to just past its last line's newline (its comment included). */
function whole(text: string, [start, end]: [number, number]): [number, number] {
    const from = text.lastIndexOf("\n", start - 1) + 1
    const nl = text.indexOf("\n", Math.max(end - 1, start))
    return [from, nl < 0 ? text.length : nl + 1]
}
