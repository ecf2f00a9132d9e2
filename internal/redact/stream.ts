import type { Automaton } from "./automaton.ts"
import { minLength } from "./forms.ts"
import { failed, Spans } from "./spans.ts"
import { walk } from "./walk.ts"
import { unwrap, wrapped } from "./wrap.ts"

/**
 * A scrubber for consecutive texts of one stream: the progress or log notifications of one request,
 * the content items of one result, the lines of a downstream's stderr.
 */
export interface Stream {
    /**
     * Scrubs the next text of the stream: masks whole forms in it, the rest of a form that began in
     * the texts before it, and a trailing start (at least `minLength` units) of a form that the next
     * text could complete. Never delays or holds text back.
     */
    scrub(s: string): string
    /** The strings of v in document order (a key before its value), as consecutive texts of this stream. */
    scrubObject<T>(v: T): T
    /**
     * How many units at the end of the texts so far start a form, however few (a start shorter
     * than `minLength` is left unmasked until a next text continues it): what a caller still
     * holding those units may mask when the next text turns out to continue them.
     */
    readonly pending: number
    /**
     * Takes on the starts of values that `other` (another stream of the same registry) holds: the
     * ones its texts ended on last and the deepest, beside this stream's own, whatever order two
     * others are adopted in: what a text of this stream continues is masked as if it had followed
     * it here. For the ways out of one request that have streams of their own (a downstream's log
     * notifications or stderr, then the request's result).
     */
    adopt(other: Stream): void
}

// How many starts a stream holds at most: the deepest and the ones its texts ended on last, enough
// for the keys walked between two content items and for two adopted streams' (so the order they
// are adopted in does not matter). Each text is read from each of them only while it goes on with
// it, so at most room + 1 times: linear.
const room = 8

/**
 * The matcher's state carried from one text to the next: `cur`, the state after all text so far, as
 * if the texts were one; and `held`, the starts of forms that texts ended on, kept across texts that
 * do not continue them, oldest first. They are what masks a value split across two content items,
 * whose texts are separated by keys and "type": "text" in document order. A start is replaced by
 * where a text that goes on with it to its end leaves it (after a form completed right at the end,
 * what may still go on from it: a longer form, unpadded base64 before its padding, a value that
 * begins another), and let go when `room` newer ones push it out (the deepest stays). None
 * displaces another: keys ending by accident in a start of a form as deep as a real one displaced
 * it (found by the fuzz property: "text" ends in "xt", the start of the base64 of a value whose
 * start "lm" the item before ended on); and a deeper start held alone hid a newer shorter one
 * (issue 19: 10 units of a value, keys, then 3 units of it, keys, then the rest showed).
 */
export class Flow implements Stream {
    private a: Automaton | undefined
    private cur = 0
    private held: number[] = []
    private readonly source: () => Automaton | undefined

    /** `source` gives the automaton of the values live now (it changes when values are added or removed). */
    constructor(source: () => Automaton | undefined) {
        this.source = source
    }

    scrub(s: string): string {
        try {
            return this.next(s)
        } catch {
            this.cur = 0
            this.held = []
            return failed
        }
    }

    get pending(): number {
        return this.a === undefined ? 0 : this.a.depthOf(this.cur)
    }

    adopt(other: Stream): void {
        if (!(other instanceof Flow) || other === this) return
        const a = this.source()
        if (a !== this.a) this.move(a)
        if (a !== other.a) other.move(a)
        if (a === undefined) return
        // the other's starts beside this one's, none superseding another: which of two streams
        // ended on its start later is not known here (an edge adopting the log notifications'
        // deep start from long ago, then the stderr's newer short one, showed the rest of the
        // short one while the deeper won: issue 19); the other's `cur` is among them
        this.held = merge(a, this.held, other.held)
    }

    scrubObject<T>(v: T): T {
        try {
            // a registry that cannot scrub fails the whole object, not each string; an empty one passes it
            if (this.source() === undefined) return v
            return walk(v, s => this.scrub(s)) as T
        } catch {
            return failed as T
        }
    }

    private next(s: string): string {
        const a = this.source()
        if (a !== this.a) this.move(a)
        if (a === undefined || s.length === 0) return s
        const spans = new Spans()
        let kept: number[] | undefined // held starts this text does not go on with to its end
        let going: number[] | undefined // where it leaves those it does, then the start it ends in
        const first = s.charCodeAt(0)
        for (const h of this.held) {
            // most texts do not go on with a start at all: told by their first unit, without follow
            if (a.depthOf(a.next(h, first)) <= 1) {
                (kept ??= []).push(h)
                continue
            }
            const f = a.follow(s, h)
            if (f.upto > 0) spans.add(0, f.upto)
            // a text that only carries a start on, never finishing it, is masked once the start is
            // long enough to be one; a start still shorter may be ordinary text (a key, a word)
            if (f.state !== -1 && a.depthOf(f.state) >= minLength) spans.add(0, s.length)
            if (f.state !== -1) {
                // a form completed right at the text's end is held on as what can still go on from
                // it: a longer form (padded base64 after unpadded, in the next item), or a start it
                // ends in; it used to be let go, and the rest of the longer one showed
                const g = a.live(f.state)
                if (g !== 0 && going?.includes(g) !== true) (going ??= []).push(g)
            } else {
                // one that a text goes on with and breaks off from is held all the same: the text may
                // be a key that happened to go on with it ("type" after "aaaaaaa" of "aaaaaaat")
                (kept ??= []).push(h)
            }
        }
        const end = a.scan(s, this.cur, spans.add, minLength)
        const d = a.depthOf(end)
        // a start shorter than minLength is left to show, but held all the same, so that the rest
        // of the value in a later text is masked (issue 19 re-probe: "Gq7" then, two keys later,
        // the 15 units after it passed)
        if (d >= minLength) spans.add(s.length - d, s.length)
        if (d > 0 && going?.includes(end) !== true) (going ??= []).push(end)
        if (wrapped(s)) unwrap(a, s, spans.late)
        this.cur = end
        if (going === undefined) {
            if (kept === undefined) this.held = []
            else if (kept.length !== this.held.length) this.held = kept
        } else if (kept === undefined) {
            this.held = trim(a, going)
        } else {
            let j = 0
            for (const k of kept) if (!going.includes(k)) kept[j++] = k
            kept.length = j
            for (const g of going) kept.push(g)
            this.held = trim(a, kept)
        }
        return spans.apply(s)
    }

    /** Carries the states into a rebuilt automaton through the text they stand for. */
    private move(a: Automaton | undefined): void {
        const old = this.a
        this.cur = old && a && this.cur ? a.walk(old.path(this.cur)) : 0
        const held: number[] = []
        if (old && a) {
            for (const h of this.held) {
                const u = a.walk(old.path(h))
                if (u !== 0 && !held.includes(u)) held.push(u)
            }
        }
        this.held = held
        this.a = a
    }
}

/**
 * The starts of two streams, kept as `trim` keeps them: the ones each ended on last are taken from
 * both in turn, so that the order two streams are adopted in matters not.
 */
function merge(a: Automaton, mine: number[], theirs: number[]): number[] {
    const both: number[] = [] // newest first
    for (let i = 1; i <= Math.max(mine.length, theirs.length); i++) {
        for (const list of [mine, theirs]) {
            const h = list[list.length - i]
            if (h !== undefined && !both.includes(h)) both.push(h)
        }
    }
    return trim(a, both.reverse())
}

/** At most `room` of the starts, oldest first: the deepest, and the ones ended on last. */
function trim(a: Automaton, held: number[]): number[] {
    if (held.length <= room) return held
    let deepest = 0
    for (let i = 1; i < held.length; i++) if (a.depthOf(held[i]!) > a.depthOf(held[deepest]!)) deepest = i
    const from = held.length - (room - 1)
    return deepest >= from ? held.slice(held.length - room) : [held[deepest]!, ...held.slice(from)]
}
