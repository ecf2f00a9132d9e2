import assert from "node:assert/strict"
import { test } from "node:test"
import { forms } from "../../internal/redact/forms.ts"
import * as redact from "../../internal/redact/index.ts"

/** The masking by definition: every occurrence of every form, overlapping ones joined, in quadratic time. */
function naive(values: string[], s: string): string {
    const spans: Array<[number, number]> = []
    for (const f of values.flatMap(forms)) {
        for (let at = s.indexOf(f); at !== -1; at = s.indexOf(f, at + 1)) spans.push([at, at + f.length])
    }
    spans.sort((a, b) => a[0] - b[0])
    let out = ""
    let pos = 0
    let start = -1
    let end = -1
    for (const [a, b] of spans) {
        if (a < end) {
            end = Math.max(end, b)
            continue
        }
        if (start !== -1) out += s.slice(pos, start) + redact.mask
        if (start !== -1) pos = end
        start = a
        end = b
    }
    return start === -1 ? s : out + s.slice(pos, start) + redact.mask + s.slice(end)
}

test("scrub agrees with the definition on random values and texts of a small alphabet", () => {
    let seed = 42
    const rand = (n: number) => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
        return (seed >>> 8) % n
    }
    const alphabet = "abAB01+/=%\n"
    const word = (min: number, max: number) => Array.from({ length: min + rand(max - min + 1) }, () => alphabet[rand(alphabet.length)]).join("")
    for (let round = 0; round < 300; round++) {
        const values = Array.from({ length: 1 + rand(5) }, () => word(4, 12))
        const r = redact.create()
        r.add(...values)
        // text built of pieces of the values' forms and noise, so that matches and near-matches abound
        const pieces = values.flatMap(forms)
        let s = ""
        while (s.length < 300) {
            const f = pieces[rand(pieces.length)]!
            s += rand(3) === 0 ? word(0, 6) : f.slice(rand(3), f.length - rand(3))
        }
        assert.equal(r.scrub(s), naive(values, s), `round ${round}: ${JSON.stringify(values)} in ${JSON.stringify(s)}`)
    }
})
