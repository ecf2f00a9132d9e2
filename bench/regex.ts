/**
 * The floor the redaction bench compares against: the registry as it was before the Aho–Corasick
 * matcher (one regular expression of every value, then indexOf per value), kept only for the bench;
 * it masks through the registry's own Spans, as the registry does.
 */
import { Spans } from "../internal/redact/spans.ts"
const minLength = 4

/** The registry before this change, reduced to add and scrub: one regular expression of all values. */
export class Regex {
    private readonly counts = new Map<string, number>()
    // Longest first, so that of two values where one contains the other the longer is found first;
    // rebuilt only when the set changes, never on the scrubbing path.
    private sorted: string[] = []
    // One alternation of every value: a single scan answers "is any value in here" for the common no.
    private any: RegExp | undefined
    private shortest = Infinity

    add(...values: string[]): void {
        let changed = false
        for (const v of values) {
            if (typeof v !== "string" || !long(v)) continue
            const n = this.counts.get(v)
            this.counts.set(v, (n ?? 0) + 1)
            if (n === undefined) changed = true
        }
        if (changed) this.rebuild()
    }

    scrub(s: string): string {
        // The hot path: most strings hold no secret, so find out with as little work as possible.
        if (s.length < this.shortest || this.any === undefined || !this.any.test(s)) return s
        return replace(s, this.sorted)
    }

    private rebuild(): void {
        this.sorted = [...this.counts.keys()].sort((a, b) => b.length - a.length)
        this.shortest = this.sorted.length ? this.sorted[this.sorted.length - 1]!.length : Infinity
        this.any = this.sorted.length ? new RegExp(this.sorted.map(escape).join("|")) : undefined
    }
}

function long(v: string): boolean {
    if (v.length >= minLength * 2) return true // at most two UTF-16 units per code point
    let n = 0
    for (const _ of v) if (++n >= minLength) return true
    return false
}

function escape(v: string): string {
    return v.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&")
}

/** Masks the union of all occurrences of all values in s. */
function replace(s: string, vs: readonly string[]): string {
    const found: Array<[number, number]> = []
    for (const v of vs) {
        // Step by one, not by v.length: occurrences of one value may overlap each other ("aaaa" in "aaaaa").
        for (let at = s.indexOf(v); at !== -1; at = s.indexOf(v, at + 1)) found.push([at, at + v.length])
    }
    found.sort((a, b) => a[0] - b[0])
    const spans = new Spans()
    for (const [a, b] of found) spans.add(a, b)
    return spans.apply(s)
}
