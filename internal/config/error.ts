/**
 * What kind of failure an error is, for the two places that turn it into an answer: the CLI's
 * exit code and hint lines, and the HTTP handler's status (app.ts maps each kind to one status).
 */
export type Kind = "input" | "missing" | "conflict" | "unavailable"

/** An error a person can act on: the message says what went wrong, the hint how to fix it. */
export class Hinted extends Error {
    /** what to do about it: one or more lines */
    hint: string
    kind: Kind

    constructor(message: string, hint: string, options?: ErrorOptions & { kind?: Kind }) {
        super(message, options)
        this.name = "Hinted"
        this.hint = hint
        this.kind = options?.kind ?? "input"
    }
}

/** A plain failure with its hint: `throw config.hinted("scope \"x\" is not declared", "add it under auth_scopes")`. */
export function hinted(message: string, hint: string, options?: ErrorOptions & { kind?: Kind }): Hinted {
    return new Hinted(message, hint, options)
}

/** A mistake in the config file, printed as `file:line:col: message` followed by the hint. */
export class ConfigError extends Hinted {
    file: string
    /** 1-based; 0 when the error concerns the whole file (missing, unreadable) */
    line: number
    /** 1-based; 0 when line is 0 */
    col: number

    constructor(message: string, at: { file: string; line: number; col: number }, hint: string) {
        super(message, hint)
        this.name = "ConfigError"
        this.file = at.file
        this.line = at.line
        this.col = at.col
    }
}
