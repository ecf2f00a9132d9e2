import { Automaton } from "./automaton.ts"
import { forms, minLength, tooShort } from "./forms.ts"
import { failed, Spans } from "./spans.ts"
import { Flow, type Stream } from "./stream.ts"
import { walk } from "./walk.ts"
import { unwrap, wrapped } from "./wrap.ts"

/** The set of secret values live in this process, and the scrubbing that removes them. */
export interface Registry {
    /**
     * Adds values; each brings its forms: itself, each line of a multi-line value (lines of at least
     * minLength), base64 (standard and URL-safe, padded or not, at the three byte alignments, so
     * base64("user:" + value) is caught), JSON-string-escaped, URL-encoded, hex (lower and upper).
     * Values shorter than 4 characters are ignored. Adding a value twice needs two removes.
     */
    add(...values: string[]): void
    /** Undoes one add of each value; a value stays masked while any add of it is outstanding. */
    remove(...values: string[]): void
    /**
     * Masks every form of every value, in time linear in s; overlapping occurrences become one mask.
     * Never throws; on any internal failure returns `failed` (fail closed), and no error it raises
     * ever carries a value or a pattern.
     */
    scrub(s: string): string
    /**
     * Scrubs every string inside plain objects and arrays, object keys included. Returns `v` itself when
     * nothing changed, else a copy of only the parts that changed. Other objects (Date, Buffer, class
     * instances) are returned as they are.
     */
    scrubObject<T>(v: T): T
    /** A scrubber for consecutive texts of one stream: see Stream. */
    stream(): Stream
    /** Length (UTF-16 units) of the longest form, 0 when empty. */
    readonly longest: number
    /** How many distinct values are registered. */
    readonly size: number
}

/** Creates an empty registry. */
export function create(): Registry {
    return new Values()
}

class Values implements Registry {
    private readonly counts = new Map<string, number>()
    // Built on the first scrub after a change, not in add: adding values is a map update, and a batch
    // of adds costs one build. A build is linear in the total length of all forms.
    private built: Automaton | undefined
    private stale = false
    // one for every scrub: scrubbing is synchronous and calls nothing outside this package. Saves an
    // object, an array and a closure per string (200-byte messages in bench/redact.ts: 50 → 98 and 290 MB/s in two runs)
    private readonly spans = new Spans()

    get size(): number {
        return this.counts.size
    }

    get longest(): number {
        try {
            return this.automaton()?.longest ?? 0
        } catch {
            // no automaton: the longest form any value can have (9 units per unit, URL-encoded)
            let n = 0
            for (const v of this.counts.keys()) n = Math.max(n, v.length * 9)
            return n
        }
    }

    add(...values: string[]): void {
        for (const v of values) {
            if (typeof v !== "string" || tooShort(v)) continue
            const n = this.counts.get(v)
            this.counts.set(v, (n ?? 0) + 1)
            if (n === undefined) this.stale = true
        }
    }

    remove(...values: string[]): void {
        for (const v of values) {
            const n = this.counts.get(v)
            if (n === undefined) continue
            if (n > 1) {
                this.counts.set(v, n - 1)
            } else {
                this.counts.delete(v)
                this.stale = true
            }
        }
    }

    scrub(s: string): string {
        try {
            const a = this.automaton()
            if (a === undefined) return s
            // the hot path: most strings hold no secret; a short one cannot, unless cut off by an ellipsis
            if (s.length < a.shortest && !s.includes("...") && !s.includes("…")) return s
            a.scan(s, 0, this.spans.add, minLength)
            if (wrapped(s)) unwrap(a, s, this.spans.late)
            return this.spans.apply(s)
        } catch {
            this.spans.clear()
            return failed
        }
    }

    scrubObject<T>(v: T): T {
        if (this.counts.size === 0) return v
        try {
            this.automaton() // a registry that cannot scrub fails the whole object, not each string
            return walk(v, s => this.scrub(s)) as T
        } catch {
            return failed as T
        }
    }

    stream(): Stream {
        return new Flow(() => this.automaton())
    }

    /** The automaton of the values live now, undefined when there are none; throws when it cannot be built. */
    private automaton(): Automaton | undefined {
        if (this.stale) {
            this.built = undefined // a failed build must not leave the old set in use
            const patterns: string[] = []
            for (const v of this.counts.keys()) for (const f of forms(v)) patterns.push(f)
            this.built = patterns.length ? new Automaton(patterns) : undefined
            this.stale = false
        }
        return this.built
    }
}
