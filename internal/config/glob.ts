import { createRequire } from "node:module"
import type picomatch from "picomatch"
import { q, type Item, type Reader } from "./reader.ts"

// picomatch compiles nested extglobs in time that grows with the square of their depth (+( 5,000
// deep took 175 s): a tool pattern matches names of at most 64 characters, so these bounds take
// nothing a route needs, and keep the worst pattern under about 0.1 s to compile
const maxPattern = 1024
const maxNesting = 8

/** How to write a "tools" list, for every error about one. */
export const toolsHint = "list the tool name patterns it covers: tools: [\"github__*\"]"

// picomatch costs ~9 ms to import and only routes need it: load it on first use
const require = createRequire(import.meta.url)
let pm: typeof picomatch | undefined

/** A tool pattern, checked to be small enough and to compile. */
export function glob(r: Reader, item: Item, where: string): string {
    const pattern = r.string(item, `${where}: each of "tools"`, toolsHint)
    if (!pattern) r.fail(item.at, `${where}: a tool pattern is empty`, toolsHint)
    if (pattern.length > maxPattern) {
        r.fail(item.at, `${where}: a tool pattern is longer than ${maxPattern} characters`, "split it into several patterns of the \"tools\" list")
    }
    if (nesting(pattern) > maxNesting) {
        r.fail(item.at, `${where}: tool pattern ${q(pattern)} nests groups more than ${maxNesting} deep`, "flatten it: write alternatives as several patterns of the \"tools\" list")
    }
    // an anchored list of patterns shared by many routes is compiled once
    if (compiled.has(pattern)) return pattern
    pm ??= require("picomatch") as typeof picomatch
    try {
        // strictBrackets and debug make picomatch throw instead of quietly matching nothing
        pm.makeRe(pattern, { strictBrackets: true, debug: true })
    } catch (err) {
        r.fail(item.at, `${where}: invalid tool pattern ${q(pattern)}`, (err as Error).message.replace(/^[A-Z]/, c => c.toLowerCase()))
    }
    if (compiled.size >= 10_000) compiled.clear()
    compiled.add(pattern)
    return pattern
}

// patterns known to compile, for the process's lifetime (bounded)
const compiled = new Set<string>()

/** How deep groups ( ), { } and [ ] nest in a pattern, a backslash escaping the next character. */
function nesting(pattern: string): number {
    let depth = 0, most = 0
    for (let i = 0; i < pattern.length; i++) {
        const c = pattern[i]
        if (c === "\\") i++
        else if (c === "(" || c === "{" || c === "[") most = Math.max(most, ++depth)
        else if ((c === ")" || c === "}" || c === "]") && depth > 0) depth--
    }
    return most
}
