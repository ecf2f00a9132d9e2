/** What every occurrence of a live secret value is replaced with. */
export const mask = "[redacted]"

/** Values shorter than this many characters (code points) are never masked: they would shred ordinary text. */
export const minLength = 4

/** The set of secret values live in this process, and the scrubbing that removes them. */
export interface Registry {
    /** Adds values to mask; values shorter than 4 characters are ignored. Adding a value twice needs two removes. */
    add(...values: string[]): void
    /** Undoes one add of each value; a value stays masked while any add of it is outstanding. */
    remove(...values: string[]): void
    /** Replaces every occurrence of every value with "[redacted]"; overlapping occurrences become one mask. */
    scrub(s: string): string
    /**
     * Scrubs every string inside plain objects and arrays, object keys included. Returns `v` itself when
     * nothing changed, else a copy of only the parts that changed. Other objects (Date, Buffer, class
     * instances) are returned as they are.
     */
    scrubObject<T>(v: T): T
    /** A scrubber for consecutive texts of one stream (REDACT-API.md). */
    stream(): Stream
    /** The length in UTF-16 units of the longest value (0 when empty), for callers that scrub a stream. */
    readonly longest: number
    /** How many distinct values are masked. */
    readonly size: number
}

// NAIVE STAND-IN, gateway branch: the smallest `stream()` and `failed` of REDACT-API.md so the
// gateway's edge compiles and runs; each text is scrubbed on its own (a value split across two
// texts is not caught). The redact branch's version replaces this whole block.
/** A scrubber for consecutive texts of one stream. */
export interface Stream {
    scrub(s: string): string
    scrubObject<T>(v: T): T
}
/** What a message that could not be scrubbed is replaced with. */
export const failed = "[redacted: scrubbing failed]"
// END NAIVE STAND-IN

/** Creates an empty registry. */
export function create(): Registry {
    return new Values()
}

class Values implements Registry {
    private readonly counts = new Map<string, number>()
    // Longest first, so that of two values where one contains the other the longer is found first;
    // rebuilt only when the set changes, never on the scrubbing path.
    private sorted: string[] = []
    // One alternation of every value: a single scan answers "is any value in here" for the common no.
    private any: RegExp | undefined
    private shortest = Infinity
    private max = 0

    get size(): number {
        return this.counts.size
    }

    get longest(): number {
        return this.max
    }

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

    remove(...values: string[]): void {
        let changed = false
        for (const v of values) {
            const n = this.counts.get(v)
            if (n === undefined) continue
            if (n > 1) {
                this.counts.set(v, n - 1)
            } else {
                this.counts.delete(v)
                changed = true
            }
        }
        if (changed) this.rebuild()
    }

    scrub(s: string): string {
        // The hot path: most strings hold no secret, so find out with as little work as possible.
        if (s.length < this.shortest || this.any === undefined || !this.any.test(s)) return s
        return replace(s, this.sorted)
    }

    stream(): Stream {
        return this // NAIVE STAND-IN (see above)
    }

    scrubObject<T>(v: T): T {
        if (this.counts.size === 0) return v
        return this.walk(v, 0) as T
    }

    private walk(v: unknown, depth: number): unknown {
        if (typeof v === "string") return this.scrub(v)
        if (typeof v !== "object" || v === null || depth > 200) return v
        if (Array.isArray(v)) {
            let out: unknown[] | undefined
            for (let i = 0; i < v.length; i++) {
                const x: unknown = v[i]
                const y = this.walk(x, depth + 1)
                if (y !== x && out === undefined) out = v.slice(0, i)
                if (out !== undefined) out.push(y)
            }
            return out ?? v
        }
        const proto = Object.getPrototypeOf(v) as unknown
        if (proto !== Object.prototype && proto !== null) return v
        const o = v as Record<string, unknown>
        let out: Record<string, unknown> | undefined
        const keys = Object.keys(o)
        for (let i = 0; i < keys.length; i++) {
            const k = keys[i]!
            const x = o[k]
            const k2 = this.scrub(k)
            const y = this.walk(x, depth + 1)
            if ((y !== x || k2 !== k) && out === undefined) {
                out = {}
                for (let j = 0; j < i; j++) out[keys[j]!] = o[keys[j]!]
            }
            if (out !== undefined) define(out, k2, y)
        }
        return out ?? v
    }

    private rebuild(): void {
        this.sorted = [...this.counts.keys()].sort((a, b) => b.length - a.length)
        this.max = this.sorted[0]?.length ?? 0
        this.shortest = this.sorted.length ? this.sorted[this.sorted.length - 1]!.length : Infinity
        this.any = this.sorted.length ? new RegExp(this.sorted.map(escape).join("|")) : undefined
    }
}

/** A key like "__proto__" must become an own property of the copy, not its prototype. */
function define(o: Record<string, unknown>, k: string, v: unknown): void {
    if (k === "__proto__") Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true })
    else o[k] = v
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
    const spans: Array<[number, number]> = []
    for (const v of vs) {
        // Step by one, not by v.length: occurrences of one value may overlap each other ("aaaa" in "aaaaa").
        for (let at = s.indexOf(v); at !== -1; at = s.indexOf(v, at + 1)) spans.push([at, at + v.length])
    }
    spans.sort((a, b) => a[0] - b[0])
    let out = ""
    let pos = 0
    let start = -1
    let end = -1
    for (const [a, b] of spans) {
        if (a < end) {
            if (b > end) end = b
            continue
        }
        if (start !== -1) {
            out += s.slice(pos, start) + mask
            pos = end
        }
        start = a
        end = b
    }
    out += s.slice(pos, start) + mask + s.slice(end)
    return out
}
