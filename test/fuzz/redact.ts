/**
 * The redaction boundary: random secrets, written in random claimed forms inside random text, cut
 * into random chunks. What must hold for every case: a whole text is scrubbed exactly as a naive
 * reference does it (every occurrence of every form found with indexOf, overlapping ones merged);
 * whatever the chunking, no secret and no claimed form of it survives a stream; and scrubbing text
 * made to be hard (ellipses, line breaks, base64 lines, near-misses of the forms) stays bounded
 * in time.
 */
import * as fc from "fast-check"
import { forms } from "../../internal/redact/forms.ts"
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

/** The naive reference: every occurrence of every form, by indexOf; overlapping stretches merged, touching ones kept apart. */
function naive(values: string[], text: string): string {
    const spans: Array<[number, number]> = []
    for (const v of values) {
        for (const f of forms(v)) {
            for (let at = text.indexOf(f); at !== -1; at = text.indexOf(f, at + 1)) spans.push([at, at + f.length])
        }
    }
    spans.sort((a, b) => a[0] - b[0] || b[1] - a[1])
    let out = ""
    let pos = 0
    let cur: [number, number] | undefined
    for (const [s, e] of spans) {
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

function text(p: { secrets: string[]; pieces: Array<{ which: number; form: number; pre: number; before: string }>; after: string }): string {
    return p.pieces.map(x => x.before + encode(p.secrets[x.which % p.secrets.length]!, x.form, x.pre)).join("") + p.after
}

function registry(values: string[]): redact.Registry {
    const r = redact.create()
    r.add(...values)
    return r
}

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

export default properties
