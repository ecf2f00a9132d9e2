import { StringDecoder } from "node:string_decoder"
import type { Registry } from "./registry.ts"

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
 * Splits a stream into lines and calls `each` with every line scrubbed by one Stream of `r`, so a
 * value split across chunks or across lines is masked too (the lines are its consecutive texts).
 * A line longer than `maxLine` is cut and the rest of it dropped; the cut never shows a start of a
 * form of `minLength` units or more.
 */
export function lines(r: Registry, each: (line: string) => void): Lines {
    const decoder = new StringDecoder("utf8")
    let stream = r.stream()
    let buf = ""
    let skipping = false
    const feed = (text: string): void => {
        buf += text
        for (;;) {
            const nl = buf.indexOf("\n")
            if (nl === -1) break
            const line = buf.slice(0, nl)
            buf = buf.slice(nl + 1)
            if (skipping) {
                skipping = false
                continue
            }
            each(stream.scrub(line.endsWith("\r") ? line.slice(0, -1) : line))
        }
        if (buf.length > maxLine) {
            if (!skipping) each(stream.scrub(buf) + " …(cut)")
            // what follows the dropped rest does not continue the cut text
            stream = r.stream()
            skipping = true
            buf = ""
        }
    }
    return {
        write(chunk) {
            feed(typeof chunk === "string" ? chunk : decoder.write(chunk))
        },
        end() {
            feed(decoder.end())
            if (buf && !skipping) each(stream.scrub(buf))
            buf = ""
            skipping = false
        },
    }
}
