/** A mistake in the config file, printed as `file:line:col: message` followed by the hint. */
export class ConfigError extends Error {
    file: string
    /** 1-based; 0 when the error concerns the whole file (missing, unreadable) */
    line: number
    /** 1-based; 0 when line is 0 */
    col: number
    /** what to do about it: one or more lines */
    hint: string

    constructor(message: string, at: { file: string; line: number; col: number }, hint: string) {
        super(message)
        this.name = "ConfigError"
        this.file = at.file
        this.line = at.line
        this.col = at.col
        this.hint = hint
    }
}
