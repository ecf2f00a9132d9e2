import { StringDecoder } from "node:string_decoder"
import type { Registry } from "./registry.ts"
import { minLength } from "./forms.ts"
import { failed, mask } from "./spans.ts"
import type { Stream } from "./stream.ts"

/** A line splitter for a byte stream (a downstream's stderr) that hands on each line already scrubbed. */
export interface Lines {
    /** Feeds bytes or text; every complete line is passed on, scrubbed, without its line ending. */
    write(chunk: Buffer | string): void
    /** Passes on what is left after the last line ending. */
    end(): void
}

/** Lines longer than this are cut, so a stream without line endings cannot grow memory without bound. */
export const maxLine = 16 * 1024

/**
 * Splits a stream into lines and calls `each` with every line scrubbed. The text is scrubbed as it
 * arrives, each chunk's part of each line as one text of `stream` (a new Stream of `r` when not
 * given), and joined into lines after: so a value split across chunks or lines is masked, and so is
 * one whose halves arrive by different ways of one source (a downstream's stderr and the garbage
 * lines of its stdout share one stream), even while a partial line waits for its newline. Line
 * endings are never part of a text, so a mask never joins two lines. A line longer than `maxLine`
 * is cut and the rest of it dropped (still read by the stream, which keeps its place).
 */
export function lines(r: Registry, each: (line: string) => void, stream: Stream = r.stream()): Lines {
    const decoder = new StringDecoder("utf8")
    let buf = ""
    let skipping = false
    /** Adds one piece of a line (without its line ending), scrubbed. */
    const add = (piece: string): void => {
        if (piece === "") return
        const pending = stream.pending
        let out = stream.scrub(piece)
        if (out === failed) {
            // the piece is lost, and the line it falls in with it
            if (!skipping) each(failed)
            buf = ""
            skipping = true
            return
        }
        if (out.startsWith(mask)) {
            // the start of the value this piece continues may still wait here, unmasked (shorter
            // than minLength when it came): mask it with the rest, as one
            const last = buf.lastIndexOf(mask)
            const clear = last === -1 ? buf.length : buf.length - last - mask.length // units after the last mask
            if (pending > 0 && pending < minLength) buf = buf.slice(0, buf.length - Math.min(pending, clear))
            if (buf.endsWith(mask)) out = out.slice(mask.length)
        }
        buf += out
        if (buf.length > maxLine) {
            if (!skipping) each(`${buf} …(cut)`)
            skipping = true
            buf = ""
        }
    }
    /** The line is complete. */
    const end = (): void => {
        if (!skipping) each(buf.endsWith("\r") ? buf.slice(0, -1) : buf) // a \r that came in the chunk before its \n
        buf = ""
        skipping = false
    }
    const feed = (text: string): void => {
        let from = 0
        for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", from)) {
            add(text.slice(from, nl > from && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl))
            end()
            from = nl + 1
        }
        add(text.slice(from))
    }
    return {
        write(chunk) {
            feed(typeof chunk === "string" ? chunk : decoder.write(chunk))
        },
        end() {
            feed(decoder.end())
            if (buf !== "" && !skipping) each(buf)
            buf = ""
            skipping = false
        },
    }
}
