/**
 * An Aho–Corasick automaton over UTF-16 code units, built once for a set of patterns and then only
 * read. Written here rather than taken from @monyone/aho-corasick (1.1.11, whose source was read
 * first): it keeps a Map and a Set per trie node (gigabytes for the 13 to 26 million nodes of a 1 MB
 * value's forms), copies output sets along failure links (quadratic for forms nested in each
 * other), and its `hasKeywordInText` walks code points over a trie of code units. Here a node is an
 * index into typed arrays, 15 bytes each, and building and scanning are both linear: measured, a
 * 1 MB value takes 240 MB (base64 text) to 460 MB (every printable character) and 2 to 4 s to add
 * on a busy two-core machine.
 *
 * Nodes are numbered in insertion order, so a pattern's new nodes are consecutive: the child of `u`
 * is usually `u + 1`, found without a map; the few other children (one per pattern at most, where it
 * leaves the trie) are in `branches`, and the root's in a table of all 65536 units. So a node needs
 * no parent pointer: its parent is `v - 1`, or a root or branch child's, kept in `up`.
 */
export class Automaton {
    /** Length of the longest pattern. */
    readonly longest: number
    /** Length of the shortest pattern: shorter text holds none. */
    readonly shortest: number
    private readonly label: Uint16Array // the unit on the edge into the node
    private readonly fail: Int32Array
    private readonly out: Int32Array // length of the longest pattern ending at the node, 0 for none
    private readonly depth: Int32Array
    private readonly flags: Uint8Array // chained: u + 1 is a child of u; branchy: u has children in `branches`
    private readonly branches = new Map<number, number>() // node * 65536 + unit → child
    private readonly up = new Map<number, number>() // child → parent, for children that are not u + 1
    private readonly root = new Int32Array(65536)
    // the first `head` units of every pattern; undefined when a pattern is shorter than 4 or there are too many
    private readonly starts: RegExp | undefined
    private readonly head: number // units of each pattern in `starts`
    private n = 1 // nodes in use; node 0 is the root

    constructor(patterns: readonly string[]) {
        let total = 1
        let longest = 0
        let shortest = Infinity
        for (const p of patterns) {
            total += p.length
            if (p.length > longest) longest = p.length
            if (p.length < shortest) shortest = p.length
        }
        this.longest = longest
        this.shortest = shortest
        this.label = new Uint16Array(total + 1)
        this.fail = new Int32Array(total + 1).fill(-1)
        this.out = new Int32Array(total + 1)
        this.depth = new Int32Array(total + 1)
        this.flags = new Uint8Array(total + 1)
        for (const p of patterns) this.insert(p)
        this.head = Math.min(shortest, 16) // longer heads let the engine skip further
        this.starts = this.head >= 4 ? prefilter(patterns, this.head) : undefined
        this.link(patterns)
    }

    /** The state after `from` reads the unit `c`. */
    next(from: number, c: number): number {
        let u = from
        while (u !== 0) {
            const v = this.child(u, c)
            if (v !== -1) return v
            u = this.fail[u]!
        }
        return this.root[c]!
    }

    /**
     * Reads `s` from state `from` and calls `found(start, end)` for the longest pattern ending at each
     * position (`start` is negative when it began before `s`), and for each start of a pattern of at
     * least `cut` units followed by an ellipsis; returns the state at the end.
     */
    scan(s: string, from: number, found: (start: number, end: number) => void, cut = Infinity): number {
        const { root, out, starts, head } = this
        const n = s.length
        let u = from
        // Where the next ellipsis of each kind and the next pattern head start, at or after the place
        // they were last looked for from: each is searched for again only once the scan has passed
        // it, so every search goes over new text only. Searching afresh from each root visit made
        // text full of ellipses quadratic (issue 19: 1 MiB took 209 s).
        const cutting = cut !== Infinity
        let dots = cutting ? -1 : n
        let dash = cutting ? -1 : n
        let next = -1
        for (let i = 0; i < n; i++) {
            if (u === 0 && starts !== undefined) {
                // at the root, jump to the next place where the first units of a pattern occur (the
                // text's last few units, and those before an ellipsis, are read one by one): 64 KiB
                // without values, 20 values, bench/redact.ts: 87 → 161 and 57 → 401 MB/s in two runs
                if (dots < i) dots = find(s, "...", i)
                if (dash < i) dash = find(s, "…", i)
                if (next < i) {
                    starts.lastIndex = i
                    next = starts.test(s) ? starts.lastIndex - head : n
                }
                let to = next < n ? next : Math.max(i, n - head + 1)
                const mark = dots < dash ? dots : dash
                // a start cut by the ellipsis (shorter than `head`, or the prefilter finds it) begins
                // at most `head` units before it: read from there, even when `to` is the text's tail
                // and the ellipsis is in it (issue 19 re-probe: `"Gq7XkP2m... (+8 chars)` passed)
                if (mark - head < to) to = Math.max(i, mark - head)
                i = to
                if (i >= n) break
            }
            const c = s.charCodeAt(i)
            // a start of a pattern of `cut` units or more, cut off by an ellipsis: found too
            if (u !== 0 && (c === 0x22 || c === 0x2e || c === 0x2026) && this.depth[u]! >= cut && ellipsis(s, i)) found(i - this.depth[u]!, i)
            u = u === 0 ? root[c]! : this.next(u, c)
            if (u === 0) continue
            const o = out[u]!
            if (o !== 0) found(i + 1 - o, i + 1)
        }
        return u
    }

    /**
     * Reads `s` from state `from` only while what was read before `s` still belongs to the match:
     * `upto` is the end of the last pattern in `s` that began before it (0 for none), and `state` the
     * state at the end of `s` when all of `s` continued a pattern's start, else -1.
     */
    follow(s: string, from: number): { upto: number; state: number } {
        let u = from
        let upto = 0
        for (let i = 0; i < s.length; i++) {
            u = this.next(u, s.charCodeAt(i))
            if (this.depth[u]! <= i + 1) return { upto, state: -1 }
            if (this.out[u]! > i + 1) upto = i + 1
        }
        return { upto, state: u }
    }

    /**
     * The deepest state on `u`'s failure chain, `u` first, that one more unit can go on from (0 for
     * none): after a form completed at the end of a text, the start a next text may still continue
     * (the form itself when a longer one goes on from it, unpadded base64 before its padding; or a
     * start it ends in, "aaaa" of the value "aaaaaaaaa" just completed). Reading a unit from `u`
     * gives the same state as from it, but it is shallower, or 0 when nothing can go on.
     */
    live(u: number): number {
        let v = u
        while (v !== 0 && (this.flags[v]! & (chained | branchy)) === 0) v = this.fail[v]!
        return v
    }

    /** How many units the state has read of the pattern starts it stands for. */
    depthOf(u: number): number {
        return this.depth[u]!
    }

    /** The units read to reach state `u` (the longest suffix of the text that starts a pattern). */
    path(u: number): string {
        const units = new Uint16Array(this.depth[u]!)
        for (let v = u, i = units.length - 1; v > 0; v = this.parentOf(v), i--) units[i] = this.label[v]!
        return Buffer.from(units.buffer, units.byteOffset, units.byteLength).toString("utf16le")
    }

    /** The state reached from the root by reading `s`. */
    walk(s: string): number {
        let u = 0
        for (let i = 0; i < s.length; i++) u = this.next(u, s.charCodeAt(i))
        return u
    }

    private child(u: number, c: number): number {
        if (u === 0) return this.root[c] || -1
        const v = u + 1
        const f = this.flags[u]!
        if ((f & chained) !== 0 && this.label[v] === c) return v
        if ((f & branchy) !== 0) return this.branches.get(u * 65536 + c) ?? -1
        return -1
    }

    private parentOf(v: number): number {
        return (this.flags[v - 1]! & chained) !== 0 ? v - 1 : this.up.get(v) ?? 0
    }

    private insert(p: string): void {
        let u = 0
        let i = 0
        for (; i < p.length; i++) {
            const v = this.child(u, p.charCodeAt(i))
            if (v === -1) break
            u = v
        }
        for (; i < p.length; i++) {
            const c = p.charCodeAt(i)
            const v = this.n++
            if (u === 0) {
                this.root[c] = v
            } else if (v === u + 1) {
                this.flags[u]! |= chained
            } else {
                this.branches.set(u * 65536 + c, v)
                this.flags[u]! |= branchy
                this.up.set(v, u)
            }
            this.label[v] = c
            this.depth[v] = this.depth[u]! + 1
            u = v
        }
        if (p.length > 0) this.out[u] = p.length
    }

    /**
     * Failure links, level by level: a cursor per pattern steps one unit deeper per round, so every
     * node is reached after all shallower ones without a queue; linear in the total pattern length.
     */
    private link(patterns: readonly string[]): void {
        this.fail[0] = 0
        const at = new Int32Array(patterns.length)
        let active = Int32Array.from(patterns.keys()).filter(k => patterns[k]!.length > 0)
        let still = new Int32Array(active.length)
        for (let d = 0, count = active.length; count > 0; d++) {
            let kept = 0
            for (let j = 0; j < count; j++) {
                const k = active[j]!
                const p = patterns[k]!
                const c = p.charCodeAt(d)
                const u = at[k]!
                const v = this.child(u, c)
                at[k] = v
                if (this.fail[v] === -1) {
                    const f = u === 0 ? 0 : this.next(this.fail[u]!, c)
                    this.fail[v] = f
                    if (this.out[v] === 0) this.out[v] = this.out[f]!
                }
                if (d + 1 < p.length) still[kept++] = k
            }
            ;[active, still] = [still, active]
            count = kept
        }
    }
}

const chained = 1
const branchy = 2

/** Where `what` next occurs at or after `i`, `s.length` for nowhere. */
function find(s: string, what: string, i: number): number {
    const at = s.indexOf(what, i)
    return at === -1 ? s.length : at
}

/**
 * True when an ellipsis starts at `i`, after an optional closing quote: how error messages and log
 * previews cut quoted input (V8's JSON.parse: `Unexpected token 's', "sk-live-4f"... is not valid JSON`).
 */
function ellipsis(s: string, i: number): boolean {
    const j = s.charCodeAt(i) === 0x22 ? i + 1 : i
    return s.charCodeAt(j) === 0x2026 || s.startsWith("...", j)
}


/**
 * A regular expression of the first `head` units of each pattern, which V8 finds in text faster
 * than a loop can step: a few dozen bytes per pattern, whatever the length of the values, so never
 * the giant expression this automaton replaces. Undefined when there are so many that the engine
 * might refuse it (its error, which would quote the units, is dropped here).
 */
function prefilter(patterns: readonly string[], head: number): RegExp | undefined {
    const heads = new Set<string>()
    for (const p of patterns) heads.add(p.slice(0, head))
    if (heads.size > 4096) return undefined
    const unit = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`
    try {
        return new RegExp([...heads].map(h => h.replace(/[^]/g, unit)).join("|"), "g")
    } catch {
        return undefined
    }
}
