/** What every occurrence of a live secret value is replaced with. */
export const mask = "[redacted]"

/** What a text that could not be scrubbed is replaced with (fail closed). */
export const failed = "[redacted: scrubbing failed]"

/**
 * The stretches of one text to mask, kept disjoint and in order as they are found. Overlapping
 * stretches become one mask; touching ones stay two, so "[redacted][redacted]" shows a value twice.
 */
export class Spans {
    private readonly at: number[] = [] // start, end, start, end, …
    private readonly more: number[] = [] // stretches found out of order (wrapped base64), merged in apply

    /** Adds [start, end); a negative start (a match that began in an earlier text) counts from 0. */
    readonly add = (start: number, end: number): void => {
        let s = start < 0 ? 0 : start
        let e = end
        if (e <= s) return
        const at = this.at
        // a later match may reach back over several earlier stretches: merge them all (amortized linear)
        while (at.length > 0 && at[at.length - 1]! > s) {
            const ps = at[at.length - 2]!
            const pe = at[at.length - 1]!
            if (ps < s) s = ps
            if (pe > e) e = pe
            at.length -= 2
        }
        at.push(s, e)
    }

    /** Adds [start, end) found in no particular order relative to the others. */
    readonly late = (start: number, end: number): void => {
        if (end > start) this.more.push(start < 0 ? 0 : start, end)
    }

    /** `s` with every stretch replaced by the mask; the spans are emptied for the next text. */
    apply(s: string): string {
        if (this.more.length !== 0) this.merge()
        const at = this.at
        if (at.length === 0) return s
        let out = ""
        let pos = 0
        for (let i = 0; i < at.length; i += 2) {
            out += s.slice(pos, at[i]) + mask
            pos = at[i + 1]!
        }
        at.length = 0
        return out + s.slice(pos)
    }

    /** Forgets every stretch (after a failure). */
    clear(): void {
        this.at.length = 0
        this.more.length = 0
    }

    /** Puts the late stretches among the others, in order, overlapping ones merged. */
    private merge(): void {
        const pairs: Array<[number, number]> = []
        for (const list of [this.at, this.more]) for (let i = 0; i < list.length; i += 2) pairs.push([list[i]!, list[i + 1]!])
        pairs.sort((x, y) => x[0] - y[0])
        this.at.length = 0
        this.more.length = 0
        for (const [s, e] of pairs) this.add(s, e)
    }
}
