/** Values shorter than this many characters (code points) are never masked: they would shred ordinary text. */
export const minLength = 4

/** True when a value is too short to be masked (fewer than `minLength` code points). */
export function tooShort(value: string): boolean {
    if (value.length >= minLength * 2) return false // at most two UTF-16 units per code point
    let n = 0
    for (const _ of value) if (++n >= minLength) return false
    return true
}

/**
 * Every form in which a value can leave the process, as the GitHub Actions runner's value encoders
 * see it: the value; each line of a multi-line value (a PEM split into log lines); base64, standard
 * and URL-safe, at each of the three byte alignments it can sit at inside longer data (so
 * base64("user:" + value), as Basic auth sends it, is caught); JSON-string-escaped, with and without
 * non-ASCII escaped; URL-encoded (encodeURIComponent, RFC 3986, form encoding); hex in both cases.
 * Forms shorter than `minLength` are left out.
 */
export function forms(value: string): string[] {
    const all = new Set<string>([value])
    if (/[\r\n]/.test(value)) for (const line of value.split(/\r\n|\r|\n/)) all.add(line)
    const bytes = Buffer.from(value, "utf8")
    for (const b of base64(bytes)) {
        all.add(b)
        all.add(b.replace(/\+/g, "-").replace(/\//g, "_"))
    }
    const hex = bytes.toString("hex")
    all.add(hex)
    all.add(hex.toUpperCase())
    const json = JSON.stringify(value).slice(1, -1)
    all.add(json)
    all.add(json.replace(/[\u0080-\uffff]/g, c => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`))
    const form = new URLSearchParams({ v: value }).toString().slice(2)
    all.add(form)
    const uri = encodeUri(value)
    if (uri !== undefined) {
        all.add(uri)
        all.add(uri.replace(/[!'()*]/g, c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    }
    return [...all].filter(f => !tooShort(f))
}

/**
 * The base64 text that depends only on the value's bytes, for the value starting at each offset
 * (0, 1 or 2) of a three-byte group: the characters whose six bits all come from the value, then
 * the same run completed as if the data ended with the value, unpadded and padded. The first and
 * last characters of the value's stretch mix in bits of its neighbours, so they cannot be matched.
 */
function base64(bytes: Buffer): string[] {
    const out: string[] = []
    const n = bytes.length
    for (let k = 0; k < 3; k++) {
        const enc = Buffer.concat([Buffer.alloc(k), bytes]).toString("base64")
        const begin = Math.ceil((8 * k) / 6)
        const end = Math.floor((8 * k + 8 * n) / 6)
        out.push(enc.slice(begin, end), enc.slice(begin).replace(/=+$/, ""), enc.slice(begin))
    }
    return out
}

/** encodeURIComponent, or undefined for text it refuses (a lone surrogate); form encoding still covers it. */
function encodeUri(value: string): string | undefined {
    try {
        return encodeURIComponent(value)
    } catch {
        return undefined
    }
}
