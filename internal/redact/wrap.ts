import type { Automaton } from "./automaton.ts"

/** True when `s` may hold base64 wrapped in lines (a cheap test before `unwrap`). */
export function wrapped(s: string): boolean {
    return s.length > 17 && (s.includes("\n") || s.includes("\\n"))
}

// A wrapped line holds at least this many base64 characters (MIME wraps at 76 columns, PEM at 64)
const minWidth = 16

/**
 * Finds the forms that base64 wrapped in lines holds across its line breaks: a block is a line
 * that ends in at least 16 base64 characters (both alphabets, padding), the lines after it made of
 * such characters alone, and the start of the one after them; the break is a real one or a
 * JSON-escaped one (the text of a serialized document). Each block is read by `a` with its breaks
 * left out, and every form found is reported through `found(start, end)` as the stretch of `s` it
 * covers, breaks included. Linear in `s`: the line breaks are found with indexOf, and each
 * character is looked at from at most two of them. (A regular expression for the blocks took
 * about as long as the scan itself on prose with a line break every 60 characters.)
 */
export function unwrap(a: Automaton, s: string, found: (start: number, end: number) => void): void {
    const n = s.length
    let real = s.indexOf("\n")
    let escaped = s.indexOf("\\n")
    let prev = 0 // end of the previous break
    let block: number[] | undefined // start, end of each line of the block being read; made only for a block
    let open = false
    while (real !== -1 || escaped !== -1) {
        let start: number, end: number
        if (escaped === -1 || (real !== -1 && real < escaped)) {
            start = real > 0 && s.charCodeAt(real - 1) === 13 ? real - 1 : real
            end = real + 1
            real = s.indexOf("\n", end)
        } else {
            start = escaped >= prev + 2 && s.startsWith("\\r", escaped - 2) ? escaped - 2 : escaped
            end = escaped + 2
            escaped = s.indexOf("\\n", end)
        }
        // cheap refusals first: most line breaks are in prose, before or after a short word
        const next = end < n && base64(s.charCodeAt(end))
        let run = start
        const floor = open ? prev : Math.max(prev, start - minWidth)
        while (run > floor && base64(s.charCodeAt(run - 1))) run--
        if (next && start - run >= minWidth) {
            if (!(open && run === prev)) { // unless the line since the last break is base64 alone
                if (open) close(a, s, block!, found)
                while (run > prev && base64(s.charCodeAt(run - 1))) run--
                block = [run]
                open = true
            }
            block!.push(start, end)
        } else if (open) {
            close(a, s, block!, found)
            open = false
        }
        prev = end
    }
    if (open) close(a, s, block!, found)
}

/** Ends a block with the base64 run that starts right after its last break, and reads it. */
function close(a: Automaton, s: string, block: number[], found: (start: number, end: number) => void): void {
    const at = block[block.length - 1]!
    let e = at
    while (e < s.length && base64(s.charCodeAt(e))) e++
    if (e > at) block.push(e)
    else block.pop()
    if (block.length >= 4) read(a, s, block, found)
}

/** Scans the lines of one block joined, and reports what is found at its place in `s`. */
function read(a: Automaton, s: string, block: number[], found: (start: number, end: number) => void): void {
    // block: line start, line end, line start, line end, …; where each line starts in the joined text and in s
    const from: number[] = [], at: number[] = []
    let joined = ""
    for (let i = 0; i < block.length; i += 2) {
        from.push(joined.length)
        at.push(block[i]!)
        joined += s.slice(block[i], block[i + 1])
    }
    const place = (j: number): number => {
        let lo = 0, hi = from.length - 1 // the last line starting at or before j
        while (lo < hi) {
            const mid = (lo + hi + 1) >> 1
            if (from[mid]! <= j) lo = mid
            else hi = mid - 1
        }
        return at[lo]! + (j - from[lo]!)
    }
    a.scan(joined, 0, (start, end) => {
        const e = place(end - 1) + 1
        found(place(start), e)
    })
}

function base64(c: number): boolean {
    return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 47 && c <= 57) || c === 43 || c === 61 || c === 95 || c === 45
}
