/**
 * The redaction boundary: random secrets, written in random claimed forms inside random text, cut
 * into random chunks. What must hold for every case: a whole text is scrubbed exactly as a naive
 * reference does it (every occurrence of every form found with indexOf, overlapping ones merged);
 * whatever the chunking, no secret and no claimed form of it survives a stream; a stream that
 * adopts another masks all the reference masks in the other's last text and its own; and scrubbing text
 * made to be hard (ellipses, line breaks, base64 lines, near-misses of the forms) stays bounded
 * in time.
 */
import * as fc from "fast-check"
import { forms, minLength } from "../../internal/redact/forms.ts"
import * as redact from "../../internal/redact/index.ts"
import type { Property } from "./kit.ts"

/** Secrets of the characters every encoding treats differently, at least 8 characters. */
const secret = fc.array(fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", ..."/+&<\"\\é🔑 =%"), { minLength: 8, maxLength: 40 })
    .map(cs => cs.join(""))
    .filter(s => (s.match(/[A-Za-z0-9]/g) ?? []).length >= 8)

/** Filler that holds no character of any encoding's alphabet (so a run of them in the output is a leak). */
const filler = fc.array(fc.constantFrom(" ", ",", ";", ":", "!", "?", "#", "(", ")", "[", "]", "{", "}", "\t", "|"), { maxLength: 12 }).map(cs => cs.join(""))

const hexUnit = (upper: boolean) => (c: string) => {
    const h = c.charCodeAt(0).toString(16).padStart(4, "0")
    return `\\u${upper ? h.toUpperCase() : h}`
}

/** Every claimed form, written here independently of forms.ts. */
function encode(v: string, form: number, pre: number): string {
    const json = JSON.stringify(v).slice(1, -1)
    const bytes = Buffer.concat([Buffer.alloc(pre, 0x41), Buffer.from(v)])
    switch (form % 14) {
        case 0: return v
        case 1: return bytes.toString("base64")
        case 2: return bytes.toString("base64url")
        case 3: return json
        case 4: return json.replace(/[\u0080-\uffff]/g, hexUnit(false))
        case 5: return json.replace(/[\u0080-\uffff]/g, hexUnit(true))
        case 6: return json.replace(/[<>&]/g, hexUnit(false))
        case 7: return json.replace(/\//g, "\\/")
        case 8: return JSON.stringify(json).slice(1, -1)
        case 9: return encodeURIComponent(v)
        case 10: return encodeURIComponent(v).replace(/%[0-9A-F]{2}/g, x => x.toLowerCase())
        case 11: return new URLSearchParams({ q: v }).toString().slice(2)
        case 12: return Buffer.from(v).toString("hex")
        default: return Buffer.from(v).toString("hex").toUpperCase()
    }
}

/** Every occurrence of every form, by indexOf, as [start, end) in order of start (longest first). */
function occurrences(values: string[], text: string): Array<[number, number]> {
    const spans: Array<[number, number]> = []
    for (const v of values) {
        for (const f of forms(v)) {
            for (let at = text.indexOf(f); at !== -1; at = text.indexOf(f, at + 1)) spans.push([at, at + f.length])
        }
    }
    return spans.sort((a, b) => a[0] - b[0] || b[1] - a[1])
}

/** The naive reference: every occurrence of every form, by indexOf; overlapping stretches merged, touching ones kept apart. */
function naive(values: string[], text: string): string {
    let out = ""
    let pos = 0
    let cur: [number, number] | undefined
    for (const [s, e] of occurrences(values, text)) {
        if (cur !== undefined && s < cur[1]) {
            cur[1] = Math.max(cur[1], e)
            continue
        }
        if (cur !== undefined) {
            out += text.slice(pos, cur[0]) + redact.mask
            pos = cur[1]
        }
        cur = [s, e]
    }
    if (cur !== undefined) {
        out += text.slice(pos, cur[0]) + redact.mask
        pos = cur[1]
    }
    return out + text.slice(pos)
}

/**
 * Whether `out` can be `text` with stretches masked, none of the units marked in `must` left
 * showing: the text between the masks is placed leftmost (which never hurts the pieces after it).
 */
function covers(text: string, out: string, must: Uint8Array): boolean {
    const shown = (from: number, n: number) => {
        for (let i = from; i < from + n; i++) if (must[i]) return true
        return false
    }
    const pieces = out.split(redact.mask)
    if (pieces.length === 1) return out === text && !shown(0, text.length)
    const first = pieces[0]!
    const last = pieces[pieces.length - 1]!
    if (!text.startsWith(first) || shown(0, first.length)) return false
    let end = first.length
    for (const p of pieces.slice(1, -1)) {
        let at = text.indexOf(p, end + 1)
        while (at !== -1 && shown(at, p.length)) at = text.indexOf(p, at + 1)
        if (at === -1) return false
        end = at + p.length
    }
    const at = text.length - last.length
    return at >= end + 1 && text.endsWith(last) && !shown(at, last.length)
}

/** Longest run of characters an encoding of a secret may hold, once the masks are taken out. */
function longestRun(s: string): number {
    let best = 0
    for (const run of s.split(redact.mask).join(" ").split(/[^A-Za-z0-9]+/)) best = Math.max(best, run.length)
    return best
}

/** Text with each secret in one of its forms, between fillers. */
const planted = fc.record({
    secrets: fc.array(secret, { minLength: 1, maxLength: 3 }),
    pieces: fc.array(fc.record({ which: fc.nat(), form: fc.nat(), pre: fc.integer({ min: 0, max: 2 }), before: filler }), { minLength: 1, maxLength: 6 }),
    after: filler,
})

/** One of the secrets, in one of its forms: the piece an arbitrary `x` names. */
function piece(secrets: string[], x: { which: number; form: number; pre: number }): string {
    return encode(secrets[x.which % secrets.length]!, x.form, x.pre)
}

function text(p: { secrets: string[]; pieces: Array<{ which: number; form: number; pre: number; before: string }>; after: string }): string {
    return p.pieces.map(x => x.before + piece(p.secrets, x)).join("") + p.after
}

function registry(values: string[]): redact.Registry {
    const r = redact.create()
    r.add(...values)
    return r
}

/**
 * A hand-over (Stream.adopt): stream A first ends on starts of forms that nothing continues, then on
 * a start of one more (often shorter than the others), which stream B, adopting A, goes on with.
 */
const handover = fc.record({
    secrets: fc.array(secret, { minLength: 1, maxLength: 3 }),
    earlier: fc.array(fc.record({ which: fc.nat(), form: fc.nat(), pre: fc.integer({ min: 0, max: 2 }), before: filler, cut: fc.nat() }), { maxLength: 4 }),
    split: fc.record({ which: fc.nat(), form: fc.nat(), pre: fc.integer({ min: 0, max: 2 }), before: filler, cut: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.nat()) }),
    rest: fc.array(fc.record({ which: fc.nat(), form: fc.nat(), pre: fc.integer({ min: 0, max: 2 }), before: filler }), { maxLength: 3 }),
    after: filler,
    cuts: fc.array(fc.nat(), { maxLength: 6 }),
})

/** A start of a form cut anywhere, at the end of a text of its own. */
const cutForm = fc.record({ which: fc.nat(), form: fc.nat(), pre: fc.integer({ min: 0, max: 2 }), before: filler, cut: fc.nat() })

/**
 * Starts held across texts: several unrelated starts of different depths, then the last one, which
 * later texts go on with; in one stream with keys ("type", "text") walked between its texts as
 * between content items, or in streams that a fresh one adopts, one or two in either order. The
 * values may be one the start of another (a form completed in one text that a longer one goes on
 * from in the next), and B's texts are then often cut right where the shorter form ends.
 */
const several = fc.record({
    secrets: fc.oneof(fc.array(secret, { minLength: 1, maxLength: 3 }), fc.tuple(secret, secret).map(([p, more]) => [p, p + more])),
    earlier: fc.array(cutForm, { maxLength: 5 }),
    other: fc.array(cutForm, { maxLength: 4 }),
    split: fc.record({ which: fc.nat(), form: fc.nat(), pre: fc.integer({ min: 0, max: 2 }), before: filler, cut: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.nat()) }),
    how: fc.constantFrom("one stream", "adopt", "adopt two, the last second", "adopt two, the last first"),
    keys: fc.boolean(),
    atPrefix: fc.boolean(),
    rest: fc.array(fc.record({ which: fc.nat(), form: fc.nat(), pre: fc.integer({ min: 0, max: 2 }), before: filler }), { maxLength: 3 }),
    after: filler,
    cuts: fc.array(fc.nat(), { maxLength: 6 }),
})

/** Hard text for the matcher: ellipses, quotes, line breaks, base64 lines, and starts of the forms cut short. */
const hard = fc.record({
    s: secret,
    parts: fc.array(fc.oneof(
        fc.constantFrom("...", "…", "\"...", "\n", "\r\n", "\\n", " ", "=", "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY\n"),
        fc.nat({ max: 40 }).map(n => ({ cut: n })),
    ), { maxLength: 400 }),
    repeat: fc.integer({ min: 1, max: 40 }),
})

const properties: Property[] = [
    {
        name: "a whole text is scrubbed as the naive reference scrubs it",
        runs: 150,
        make: () => fc.property(planted, p => {
            const t = text(p)
            // what the reference leaves out: starts cut by an ellipsis, base64 wrapped in lines
            fc.pre(!/\\n|\n|\.\.\.|…/.test(t))
            const got = registry(p.secrets).scrub(t)
            if (got !== naive(p.secrets, t)) throw new Error("the registry and the naive reference disagree")
        }),
    },
    {
        name: "no secret or form of it survives a stream, however the text is cut",
        runs: 150,
        make: () => fc.property(planted, fc.array(fc.nat(), { maxLength: 12 }), (p, cuts) => {
            const t = text(p)
            const at = [...new Set(cuts.map(c => c % (t.length + 1)))].sort((a, b) => a - b)
            const chunks: string[] = []
            let from = 0
            for (const c of at) {
                chunks.push(t.slice(from, c))
                from = c
            }
            chunks.push(t.slice(from))
            const s = registry(p.secrets).stream()
            const out = chunks.map(c => s.scrub(c)).join("")
            for (const v of p.secrets) if (out.includes(v)) throw new Error("a secret survived")
            // what a split may leave: fewer than 4 units of a start, and a base64 stretch's edge
            // and the encoding of the bytes before it (up to 4)
            const run = longestRun(out)
            if (run >= 8) throw new Error(`a run of ${run} characters of an encoding survived`)
        }),
    },
    {
        name: "every string of an object is scrubbed, as a stream in document order",
        runs: 100,
        make: () => fc.property(planted, p => {
            const t = text(p)
            const half = t.length >> 1
            const o = { content: [{ type: "text", text: t.slice(0, half) }, { type: "text", text: t.slice(half) }] }
            const out = JSON.stringify(registry(p.secrets).stream().scrubObject(o))
            for (const v of p.secrets) if (out.includes(JSON.stringify(v).slice(1, -1))) throw new Error("a secret survived")
        }),
    },
    {
        name: "a stream that adopts another masks all the naive reference masks in A's last text and its own",
        runs: 300,
        make: () => fc.property(handover, h => {
            const { secrets } = h
            const r = registry(secrets)
            const a = r.stream()
            for (const e of h.earlier) {
                const f = piece(secrets, e)
                a.scrub(e.before + f.slice(0, 1 + e.cut % f.length))
            }
            const f = piece(secrets, h.split)
            const k = 1 + h.split.cut % (f.length - 1)
            const last = h.split.before + f.slice(0, k)
            a.scrub(last)
            const b = r.stream()
            b.adopt(a)
            // B's texts: the rest of the form A's last text began, then more, cut anywhere
            const rest = f.slice(k) + text({ secrets, pieces: h.rest, after: h.after })
            const at = [...new Set(h.cuts.map(c => 1 + c % rest.length))].sort((x, y) => x - y)
            goesOn(b, secrets, last, rest, at, [], "B")
        }),
    },
    {
        name: "the texts going on from the last of several held starts show nothing the naive reference masks (keys between, or adopted from one or two streams)",
        runs: 300,
        make: () => fc.property(several, h => {
            const { secrets } = h
            const r = registry(secrets)
            const keys = h.keys || h.how === "one stream" ? ["type", "text", "text"] : []
            const starts = (s: redact.Stream, items: Array<{ which: number; form: number; pre: number; before: string; cut: number }>) => {
                for (const e of items) {
                    const f = piece(secrets, e)
                    s.scrub(e.before + f.slice(0, 1 + e.cut % f.length))
                    for (const k of keys) s.scrub(k)
                }
            }
            const a = r.stream()
            starts(a, h.earlier)
            const f = piece(secrets, h.split)
            const k = 1 + h.split.cut % (f.length - 1)
            const last = h.split.before + f.slice(0, k)
            a.scrub(last)
            for (const key of keys) a.scrub(key)
            let b = a
            if (h.how !== "one stream") {
                b = r.stream()
                const c = r.stream()
                starts(c, h.other)
                if (h.how === "adopt two, the last second") b.adopt(c)
                b.adopt(a)
                if (h.how === "adopt two, the last first") b.adopt(c)
            }
            const rest = f.slice(k) + text({ secrets, pieces: h.rest, after: h.after })
            const at = new Set(h.cuts.map(c => 1 + c % rest.length))
            if (h.atPrefix) {
                // where a shorter form that f begins with ends: another value's, or f unpadded
                for (const v of secrets) {
                    const g = encode(v, h.split.form, h.split.pre)
                    if (g.length < f.length && f.startsWith(g) && g.length > k) at.add(g.length - k)
                }
                if (f.indexOf("=") > k) at.add(f.indexOf("=") - k)
            }
            const cuts = [...at].filter(c => c < rest.length).sort((x, y) => x - y)
            goesOn(b, secrets, last, rest, cuts, keys, `B (${h.how})`)
        }),
    },
    {
        name: "scrubbing hard text stays bounded in time",
        runs: 40,
        timeout: 2000,
        make: () => fc.property(hard, h => {
            const r = registry([h.s])
            const unit = h.parts.map(x => typeof x === "string" ? x : h.s.slice(0, x.cut)).join("")
            const t = unit.repeat(h.repeat)
            r.scrub(t)
            const s = r.stream()
            for (let i = 0; i < t.length; i += 4096) s.scrub(t.slice(i, i + 4096))
        }),
    },
]

/**
 * Stream `b` scrubs `rest`, cut at `cuts` (each text followed by `keys`), after a stream that ended
 * on `last`: each of its outputs must mask what the naive reference masks in `last + rest`, but for
 * a start left showing at a text's end, fewer than minLength units of a form a later text finishes.
 */
function goesOn(b: redact.Stream, secrets: string[], last: string, rest: string, cuts: number[], keys: string[], name: string): void {
    const all = last + rest
    for (let i = 0, from = 0; from < rest.length; i++) {
        const to = i < cuts.length ? cuts[i]! : rest.length
        if (to <= from) continue
        const t = rest.slice(from, to)
        const out = b.scrub(t)
        for (const key of keys) b.scrub(key)
        const start = last.length + from
        const end = last.length + to
        const must = new Uint8Array(t.length)
        for (const [s, e] of occurrences(secrets, all)) {
            if (e <= start || s >= end || (e > end && end - s < minLength)) continue
            for (let j = Math.max(s, start); j < Math.min(e, end); j++) must[j - start] = 1
        }
        if (!covers(t, out, must)) throw new Error(`text ${i} of ${name} shows what the naive reference masks`)
        from = to
    }
}

export default properties
