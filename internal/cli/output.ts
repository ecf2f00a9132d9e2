/** Exit codes, named as gh names them. */
export const exit = { ok: 0, error: 1, usage: 2, canceled: 130 } as const

/** Where a command prints: results to stdout, everything meant for a person to stderr. */
export interface Output {
    /** A result a script may read (stdout): text, or exact bytes (`secret get`). */
    out(text: string | Uint8Array): void
    /** A line for the person at the terminal (stderr). */
    info(text: string): void
    warn(text: string): void
    error(text: string): void
    hint(text: string): void
    /** True when stdout is a terminal. */
    readonly tty: boolean
}

/** An Output on the process's own streams. */
export function std(): Output {
    return {
        out: text => { process.stdout.write(text) },
        info: text => { process.stderr.write(`${text}\n`) },
        warn: text => { process.stderr.write(`mcplexer: warning: ${text}\n`) },
        error: text => { process.stderr.write(`mcplexer: error: ${text}\n`) },
        hint: text => {
            for (const line of text.split("\n")) process.stderr.write(`mcplexer: hint: ${line}\n`)
        },
        tty: process.stdout.isTTY === true,
    }
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
