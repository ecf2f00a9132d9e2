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
     * Takes on the start of a value that `other` (another stream of the same registry) ended on
     * last (the one it holds when its texts so far end in none), when it is longer than this
     * stream's own: what a text of this stream continues is masked as if it had followed it here.
     * For the ways out of one request that have streams of their own (a downstream's log
     * notification or stderr, then the request's result).
     */
    adopt(other: Stream): void
}

/**
 * The matcher's state carried from one text to the next. Two states are kept: `cur`, the state after
 * all text so far, as if the texts were one; and `held`, the state after the last text that ended in
 * a start of a form, kept across texts that do not continue it. The second is what masks a value
 * split across two content items, whose texts are separated by keys and "type": "text" in document
 * order. Following `held` stops where the text stops continuing it, so each text is still read at
 * most twice: linear.
 */
export class Flow implements Stream {
    private a: Automaton | undefined
    private cur = 0
    private held = 0
    private readonly source: () => Automaton | undefined

    /** `source` gives the automaton of the values live now (it changes when values are added or removed). */
    constructor(source: () => Automaton | undefined) {
        this.source = source
    }

    scrub(s: string): string {
        try {
            return this.next(s)
        } catch {
            this.cur = this.held = 0
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
        // the start the other's texts end on, not the deeper one it may still hold from before: a
        // long-lived stderr stream that once ended on 10 units of a value, then on 3, handed over
        // the 10 and the answer going on from the 3 showed the rest (issue 19)
        const last = a.depthOf(other.cur) > 0 ? other.cur : other.held
        if (last === 0) return
        if (this.held === 0 || a.depthOf(this.held) < a.depthOf(last)) this.held = last
        // and a next text read right after it, when this stream has nothing of its own going: it
        // then also goes on with a longer form that a form completed at the other's end begins
        // (padded base64 after unpadded), which `held` gives up as done with
        if (this.cur === 0 && a.depthOf(other.cur) > 0) this.cur = other.cur
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
        let held = this.held
        // whether this text carried the held start further without finishing it
        let going = false
        if (held !== 0 && held !== this.cur) {
            const f = a.follow(s, held)
            if (f.upto > 0) spans.add(0, f.upto)
            // a text that only carries a start on, never finishing it, is masked once the start is
            // long enough to be one; a start still shorter may be ordinary text (a key, a word)
            if (f.state !== -1 && a.depthOf(f.state) >= minLength) spans.add(0, s.length)
            going = f.state !== -1 && f.upto < s.length
            // a completed form is done with (also when the text ends right at its end); a form still
            // going on is held further; a text that does not touch it leaves it held
            held = going ? f.state : f.upto > 0 || f.state !== -1 ? 0 : held
        }
        const end = a.scan(s, this.cur, spans.add, minLength)
        const d = a.depthOf(end)
        if (d >= minLength) {
            spans.add(s.length - d, s.length)
            // this text's own trailing start wins over an older one it did not continue
            if (held === 0 || !going || a.depthOf(held) <= d) held = end
        } else if (d > 0 && (held === 0 || a.depthOf(held) < d)) {
            // a start shorter than minLength is left to show, but held all the same, so that the
            // rest of the value in a later text is masked (issue 19 re-probe: "Gq7" then, two keys
            // later, the 15 units after it passed); the deeper of two short starts is kept
            held = end
        }
        if (wrapped(s)) unwrap(a, s, spans.late)
        this.cur = end
        this.held = held
        return spans.apply(s)
    }

    /** Carries the states into a rebuilt automaton through the text they stand for. */
    private move(a: Automaton | undefined): void {
        const old = this.a
        this.cur = old && a && this.cur ? a.walk(old.path(this.cur)) : 0
        this.held = old && a && this.held ? a.walk(old.path(this.held)) : 0
        this.a = a
    }
}
