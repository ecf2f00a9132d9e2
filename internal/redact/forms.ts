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
 * see it, and as the usual encoders write it: the value; each line of a multi-line value (a PEM
 * split into log lines); base64, standard and URL-safe, at each of the three byte alignments it can
 * sit at inside longer data (so base64("user:" + value), as Basic auth sends it, is caught; base64
 * wrapped in lines is joined by the registry before matching); JSON-string-escaped (see `json`), and
 * escaped twice; URL-encoded (encodeURIComponent, RFC 3986, form encoding), with upper- or lowercase
 * `%xx`; hex in both cases. Forms shorter than `minLength` are left out; a variant that writes the
 * value the same as another costs nothing (most tokens have no character any variant escapes).
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
    for (const j of json(value)) all.add(j)
    // escaped twice: a JSON document carried as a string inside another (a tool result's text)
    all.add(JSON.stringify(JSON.stringify(value).slice(1, -1)).slice(1, -1))
    const urls = [new URLSearchParams({ v: value }).toString().slice(2)]
    const uri = encodeUri(value)
    if (uri !== undefined) urls.push(uri, uri.replace(/[!'()*]/g, c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    for (const u of urls) {
        all.add(u)
        all.add(u.replace(/%[0-9A-F]{2}/g, x => x.toLowerCase())) // Python's quote and Go write uppercase, some encoders lowercase
    }
    return [...all].filter(f => !tooShort(f))
}

/**
 * The JSON-string-escaped forms of a value, as the usual encoders write them: JSON.stringify's;
 * non-ASCII as `\u00e9` or `\u00E9` (Python's ensure_ascii, Java, PHP); HTML-sensitive characters
 * as `\u003c`-style escapes (Go's encoding/json: `<>&` and U+2028/9, lowercase) or `\u003C`-style
 * with non-ASCII too (.NET: `<>&'+` and the backtick, uppercase); and `/` as `\/` (PHP, some
 * Java), with non-ASCII kept or escaped.
 */
function json(value: string): string[] {
    const plain = JSON.stringify(value).slice(1, -1)
    const nonAscii = /[\u0080-\uffff]/g
    const lower = escaper(false), upper = escaper(true)
    const ascii = plain.replace(nonAscii, lower)
    const go = plain.replace(/[<>&\u2028\u2029]/g, lower)
    const dotnet = plain.replace(/[<>&'+`\u0080-\uffff]/g, upper)
    return [plain, ascii, plain.replace(nonAscii, upper), go, dotnet, plain.replace(/\//g, "\\/"), ascii.replace(/\//g, "\\/")]
}

function escaper(upper: boolean): (c: string) => string {
    return c => {
        const h = c.charCodeAt(0).toString(16).padStart(4, "0")
        return `\\u${upper ? h.toUpperCase() : h}`
    }
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
