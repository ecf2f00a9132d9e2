import { closeSync, openSync, writeSync } from "node:fs"
import type * as downstream from "../downstream/index.ts"
import type * as redact from "../redact/index.ts"

/** Log levels, least to most verbose. */
export const levels = ["error", "warn", "info", "debug"] as const
export type Level = (typeof levels)[number]

/** A logger that also closes its file. */
export interface FileLogger extends downstream.Logger { close(): void }

/**
 * A logger for `serve`: one line per event to stderr and appended to `file` (0600), every message
 * and field scrubbed by the registry first. Never stdout: in `serve` over stdio that is the
 * protocol channel.
 */
export function open(file: string, level: Level, registry: redact.Registry): FileLogger {
    const fd = openSync(file, "a", 0o600)
    const max = levels.indexOf(level)
    const emit = (l: Level) => (msg: string, f?: Record<string, unknown>) => {
        if (levels.indexOf(l) > max) return
        let line = `${new Date().toISOString()} ${l.padEnd(5)} ${msg}`
        if (f) for (const [k, v] of Object.entries(f)) line += ` ${k}=${typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v) ?? String(v)}`
        line = registry.scrub(line) + "\n"
        process.stderr.write(line)
        try {
            writeSync(fd, line)
        } catch {
            // a full disk must not take the gateway down; stderr still has the line
        }
    }
    return {
        error: emit("error"), warn: emit("warn"), info: emit("info"), debug: emit("debug"),
        close: () => closeSync(fd),
    }
}
