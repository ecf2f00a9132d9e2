/**
 * What the bundle uses in place of the string-width package, which yargs' help layout imports:
 * string-width builds a Unicode segmenter and an emoji regular expression when it loads, a fifth
 * of every CLI start, to measure text that here is our own help in English. Counts code points,
 * with ANSI escapes removed; East Asian wide characters count two.
 */
export default function width(s: string): number {
    let n = 0
    // eslint-disable-next-line no-control-regex
    for (const ch of s.replace(/\u001b\[[0-9;]*m/g, "")) {
        const c = ch.codePointAt(0) ?? 0
        if (c < 0x20 || (c >= 0x7f && c < 0xa0) || (c >= 0x300 && c < 0x370) || c === 0x200b) continue
        n += (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf) || (c >= 0xac00 && c <= 0xd7a3)
            || (c >= 0xf900 && c <= 0xfaff) || (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60)
            || (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x1f300 && c <= 0x1faff) || (c >= 0x20000 && c <= 0x3fffd) ? 2 : 1
    }
    return n
}
