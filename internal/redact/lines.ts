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
 * Splits a stream into lines and calls `each` with every line scrubbed by `r`. A line longer than
 * `maxLine` is cut and the rest of it dropped; the cut never shows a part of a secret value.
 */
export function lines(r: Registry, each: (line: string) => void): Lines {
    const decoder = new StringDecoder("utf8")
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
            each(r.scrub(line.endsWith("\r") ? line.slice(0, -1) : line))
        }
        if (buf.length > maxLine) {
            if (!skipping) each(cut(r, buf))
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
            if (buf && !skipping) each(r.scrub(buf))
            buf = ""
            skipping = false
        },
    }
}

/** The scrubbed start of an overlong line, short of anything that could be the first part of a value. */
function cut(r: Registry, s: string): string {
    const scrubbed = r.scrub(s)
    const keep = scrubbed.length - Math.max(0, r.longest - 1)
    return scrubbed.slice(0, Math.max(0, keep)) + " …(cut)"
}
