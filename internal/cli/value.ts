import * as config from "../config/index.ts"
import { readFile } from "node:fs/promises"
import { Canceled, UsageError, type Output } from "./output.ts"

/** Where a secret's value comes from: exactly one of these, or a hidden prompt / stdin. */
export interface Source { value?: string; fromEnv?: string; fromFile?: string }

/**
 * Reads a value from the one source given: an argument (with a warning), a variable, a file, stdin
 * when it is piped, or a hidden prompt on a terminal. A file, stdin and the prompt give bytes as
 * they are; an argument and a variable are text (Node has already decoded them as UTF-8). One
 * trailing newline of a file or of stdin is dropped, because `echo`, editors and `gh auth token`
 * all add one: a value that ends in a newline needs one more.
 */
export async function read(s: Source, label: string, out: Output): Promise<Buffer> {
    const given = [s.value !== undefined && "a value argument", s.fromEnv !== undefined && "--from-env",
        s.fromFile !== undefined && "--from-file"].filter(Boolean)
    if (given.length > 1) {
        throw new UsageError(`give the value one way, not ${given.join(" and ")}`,
            "use a hidden prompt, stdin, --from-env NAME or --from-file PATH")
    }
    if (s.value !== undefined) {
        out.warn("a value given on the command line lands in your shell history")
        out.hint("next time, leave it out to be prompted, or pipe it in, or use --from-env NAME")
        return Buffer.from(s.value, "utf8")
    }
    if (s.fromEnv !== undefined) {
        const v = process.env[s.fromEnv]
        if (v === undefined) {
            throw config.hinted(`environment variable "${s.fromEnv}" is not set`, `export ${s.fromEnv}=… first, or use another source`)
        }
        return Buffer.from(v, "utf8")
    }
    if (s.fromFile !== undefined) {
        const path = s.fromFile
        const data = await readFile(path).catch((err: NodeJS.ErrnoException) => {
            throw config.hinted(`cannot read "${path}": ${err.code ?? err.message}`, "check the path and that you may read it")
        })
        return chomp(data)
    }
    if (process.stdin.isTTY) return prompt(`${label} (input hidden): `, process.stdin, process.stderr)
    const chunks: Buffer[] = []
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
    return chomp(Buffer.concat(chunks))
}

function chomp(b: Buffer): Buffer {
    const n = b.length
    return n >= 2 && b[n - 2] === 0x0d && b[n - 1] === 0x0a ? b.subarray(0, n - 2) : n >= 1 && b[n - 1] === 0x0a ? b.subarray(0, n - 1) : b
}

const key = { ctrlC: 0x03, ctrlD: 0x04, backspace: 0x08, lf: 0x0a, cr: 0x0d, ctrlU: 0x15, del: 0x7f } as const

/**
 * A hidden prompt that returns the bytes typed, one line. Written here rather than taken from
 * `read` (readline), which decodes input as UTF-8 text, so that a byte UTF-8 cannot carry became
 * U+FFFD, and which turns Ctrl-C into an error. The terminal is put in raw mode (no echo, no
 * signals): Ctrl-C (the ETX byte) or a SIGINT cancels (Canceled, exit 130), Enter ends, Ctrl-D
 * ends, Backspace removes the last character (all of its UTF-8 bytes), Ctrl-U clears. The prompt's
 * line is ended however it ends.
 */
export function prompt(text: string, input: NodeJS.ReadStream, output: NodeJS.WriteStream): Promise<Buffer> {
    output.write(text)
    let typed: Buffer = Buffer.alloc(0)
    input.setRawMode(true)
    input.resume()
    return new Promise<Buffer>((done, fail) => {
        const end = (e?: Error) => {
            input.off("data", data)
            process.off("SIGINT", interrupt)
            input.setRawMode(false)
            input.pause()
            output.write("\n")
            if (e === undefined) done(typed)
            else {
                typed.fill(0)
                fail(e)
            }
        }
        const interrupt = () => end(new Canceled())
        const data = (chunk: Buffer) => {
            for (const b of chunk) {
                if (b === key.ctrlC) return end(new Canceled())
                if (b === key.cr || b === key.lf || b === key.ctrlD) return end()
                if (b === key.ctrlU) typed = wipe(typed, 0)
                else if (b === key.del || b === key.backspace) typed = wipe(typed, lastChar(typed))
                else typed = Buffer.concat([typed, Buffer.of(b)])
            }
            chunk.fill(0)
        }
        input.on("data", data)
        process.on("SIGINT", interrupt)
    })
}

/** `b` cut at `at`; the bytes cut are zeroed. */
function wipe(b: Buffer, at: number): Buffer {
    const kept = Buffer.from(b.subarray(0, at))
    b.fill(0)
    return kept
}

/** Where the last character of `b` starts: its UTF-8 sequence, or its last byte when that is not one. */
function lastChar(b: Buffer): number {
    for (let i = b.length - 1; i >= Math.max(0, b.length - 4); i--) {
        const c = b[i] ?? 0
        if ((c & 0xc0) !== 0x80) {
            const len = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0
            return len === b.length - i ? i : b.length - 1
        }
    }
    return Math.max(0, b.length - 1)
}
