// what every doctor check reports, and the words its messages share

/** One problem and how to fix it. */
export interface Finding { level: "error" | "warning"; message: string; fix: string }

/** The hint an error carries for a person, if any. */
export function hint(e: unknown): string | undefined {
    const h = (e as { hint?: unknown }).hint
    return typeof h === "string" && h ? h : undefined
}

/** `n` and the word, plural unless n is 1. */
export function count(n: number, word: string): string {
    return `${n} ${word}${n === 1 ? "" : "s"}`
}

/** A file mode as ls -l's numbers show it, e.g. 0600. */
export function octal(mode: number): string {
    return mode.toString(8).padStart(4, "0")
}

/** A value quoted with JSON.stringify, as every message quotes one. */
export function q(s: string): string {
    return JSON.stringify(s)
}
