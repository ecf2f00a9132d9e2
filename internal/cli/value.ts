import { readFile } from "node:fs/promises"
import { UsageError, type Output } from "./output.ts"

/** Where a secret's value comes from: exactly one of these, or a hidden prompt / stdin. */
export interface Source { value?: string; fromEnv?: string; fromFile?: string }

/**
 * Reads a value from the one source given: an argument (with a warning), a variable, a file, stdin
 * when it is piped, or a hidden prompt on a terminal. One trailing newline of a file or of stdin is
 * dropped, because `echo`, editors and `gh auth token` all add one.
 */
export async function read(s: Source, label: string, out: Output): Promise<string> {
    const given = [s.value !== undefined && "a value argument", s.fromEnv !== undefined && "--from-env",
        s.fromFile !== undefined && "--from-file"].filter(Boolean)
    if (given.length > 1) {
        throw new UsageError(`give the value one way, not ${given.join(" and ")}`,
            "use a hidden prompt, stdin, --from-env NAME or --from-file PATH")
    }
    if (s.value !== undefined) {
        out.warn("a value given on the command line lands in your shell history")
        out.hint("next time, leave it out to be prompted, or pipe it in, or use --from-env NAME")
        return s.value
    }
    if (s.fromEnv !== undefined) {
        const v = process.env[s.fromEnv]
        if (v === undefined) {
            throw Object.assign(new Error(`environment variable "${s.fromEnv}" is not set`),
                { hint: `export ${s.fromEnv}=… first, or use another source` })
        }
        return v
    }
    if (s.fromFile !== undefined) {
        const path = s.fromFile
        const text = await readFile(path, "utf8").catch((err: NodeJS.ErrnoException) => {
            throw Object.assign(new Error(`cannot read "${path}": ${err.code ?? err.message}`),
                { hint: "check the path and that you may read it" })
        })
        return chomp(text)
    }
    if (process.stdin.isTTY) {
        const { read: prompt } = await import("read")
        return prompt({ prompt: `${label} (input hidden): `, silent: true, replace: "", output: process.stderr })
    }
    const chunks: Buffer[] = []
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
    return chomp(Buffer.concat(chunks).toString("utf8"))
}

function chomp(s: string): string {
    return s.endsWith("\r\n") ? s.slice(0, -2) : s.endsWith("\n") ? s.slice(0, -1) : s
}
