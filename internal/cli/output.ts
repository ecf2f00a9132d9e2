/** Exit codes, named as gh names them. */
export const exit = { ok: 0, error: 1, usage: 2, canceled: 130 } as const

/**
 * Where a command prints: results to stdout, everything meant for a person to stderr. Every text
 * writer escapes control characters (see `escape`), so text that came from a downstream, a client
 * file or an authorization server can never move the cursor, rewrite a line or change what the
 * terminal shows; only bytes given as a Uint8Array to `out` pass as they are (`secret get`).
 */
export interface Output {
    /** A result a script may read (stdout): text, escaped; or exact bytes (`secret get`), untouched. */
    out(text: string | Uint8Array): void
    /** A line for the person at the terminal (stderr). */
    info(text: string): void
    warn(text: string): void
    error(text: string): void
    hint(text: string): void
    /** True when stdout is a terminal. */
    readonly tty: boolean
}

/** An Output on the process's own streams, every text escaped on its way out. */
export function std(): Output {
    const err = (text: string) => { process.stderr.write(escape(text)) }
    return {
        out: text => { process.stdout.write(typeof text === "string" ? escape(text) : text) },
        info: text => { err(`${text}\n`) },
        warn: text => { err(`mcplexer: warning: ${indent(text)}\n`) },
        error: text => { err(`mcplexer: error: ${indent(text)}\n`) },
        hint: text => {
            for (const line of text.split("\n")) err(`mcplexer: hint: ${line}\n`)
        },
        tty: process.stdout.isTTY === true,
    }
}

/**
 * Indents a text's later lines. A warning's or error's message may quote text from outside (a
 * downstream's stderr or error, an authorization server's error_description) holding a newline,
 * which must never start a line that reads as mcplexer's own ("mcplexer: hint: run …"); `info`
 * callers quoting outside text use it too.
 */
export function indent(text: string): string {
    return text.replace(/\n/g, "\n  ")
}

/*
 * What a terminal acts on or hides rather than shows: C0 controls (ESC starts a sequence that can
 * erase a line, CR returns to its start, BS steps back), DEL, C1 controls (U+009B is CSI on some
 * terminals), the bidirectional overrides, embeddings and isolates that reorder what is shown
 * (Trojan Source, CVE-2021-42574), and invisible characters that hide a difference in a command:
 * zero-width spaces and joiners, the word joiner and invisible operators, the BOM, the line and
 * paragraph separators, the interlinear annotation marks. Tab and newline are kept.
 */
// eslint-disable-next-line no-control-regex
const unsafe = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/g
// eslint-disable-next-line no-control-regex
const unsafeLine = /[\u0000-\u001f\u007f-\u009f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/g

/**
 * Shows each character a terminal would act on or hide as an escape: `\x1b`, `\r`, and the others
 * as `\u202e` (so that JSON text stays JSON that parses to the same values). Tab and newline stay.
 * The one place outside text is made safe (DESIGN decision 14): Output's writers call it.
 */
export function escape(text: string): string {
    return text.replace(unsafe, code)
}

/** `escape` for a value shown inside one line (a table cell, a command, a prompt): newlines and tabs escaped too. */
export function one(text: string): string {
    return text.replace(unsafeLine, code)
}

function code(c: string): string {
    const n = c.charCodeAt(0)
    if (c === "\r") return "\\r"
    if (c === "\n") return "\\n"
    if (c === "\t") return "\\t"
    return n < 0x20 ? `\\x${n.toString(16).padStart(2, "0")}` : `\\u${n.toString(16).padStart(4, "0")}`
}

/** A wrong invocation: the CLI prints it with the command's usage hint and exits 2. */
export class UsageError extends Error {
    hint?: string
    constructor(message: string, hint?: string) {
        super(message)
        this.name = "UsageError"
        this.hint = hint
    }
}

/** The person canceled (Ctrl-C at a prompt): nothing to say, exit 130 as a shell reports SIGINT. */
export class Canceled extends Error {
    constructor() {
        super("canceled")
        this.name = "Canceled"
    }
}

/** Turns any error into the lines a person reads, and returns the exit code. */
export function report(err: unknown, out: Output): number {
    if (err instanceof Canceled) return exit.canceled
    if (err instanceof UsageError) {
        out.error(err.message)
        if (err.hint) out.hint(err.hint)
        return exit.usage
    }
    if (err instanceof Error) {
        const e = err as Error & { hint?: unknown; file?: unknown; line?: unknown; col?: unknown }
        const where = typeof e.file !== "string" ? ""
            : typeof e.line === "number" && e.line > 0 ? `${e.file}:${e.line}:${typeof e.col === "number" ? e.col : 1}: `
            : `${e.file}: `
        if (typeof e.hint === "string") {
            out.error(where + e.message)
            if (e.hint) out.hint(e.hint)
            return exit.error
        }
        if (isFsError(e)) {
            out.error(e.message)
            return exit.error
        }
    }
    out.error(message(err))
    out.hint("this is a bug, please report it at https://github.com/mcplexer/mcplexer/issues")
    if (err instanceof Error && err.stack && process.env.MCPLEXER_DEBUG) out.info(err.stack)
    return exit.error
}

function isFsError(e: Error): boolean {
    const code = (e as { code?: unknown }).code
    return typeof code === "string" && /^E[A-Z]+$/.test(code)
}

/** An error's message, or the thrown value as text. */
export function message(e: unknown): string {
    return e instanceof Error ? e.message : String(e)
}
