import * as config from "../config/index.ts"
import { closeSync, constants, fchmodSync, fstatSync, openSync, writeSync } from "node:fs"
import type * as downstream from "../downstream/index.ts"
import type * as redact from "../redact/index.ts"
import { one } from "./output.ts"

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
    const fd = append(file)
    const max = levels.indexOf(level)
    const emit = (l: Level) => (msg: string, f?: Record<string, unknown>) => {
        if (levels.indexOf(l) > max) return
        let line = `${new Date().toISOString()} ${l.padEnd(5)} ${msg}`
        if (f) for (const [k, v] of Object.entries(f)) line += ` ${k}=${typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v) ?? String(v)}`
        // scrubbed first (a value is matched as it is), then one line with what a terminal acts on escaped
        line = one(registry.scrub(line)) + "\n"
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

/**
 * Opens the log for appending without following a link (one planted in its place would have us
 * append to any file we can write), created 0600; an existing file is put back to 0600.
 */
function append(file: string): number {
    let fd: number
    try {
        fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600)
    } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ELOOP") throw e
        throw config.hinted(`log file ${JSON.stringify(file)} is a symbolic link`, `remove it (rm ${file}): mcplexer makes the file itself`)
    }
    const st = fstatSync(fd)
    if (!st.isFile()) {
        closeSync(fd)
        throw config.hinted(`log file ${JSON.stringify(file)} is not a regular file`, `move it away: mcplexer makes the file itself`)
    }
    if ((st.mode & 0o777) !== 0o600) fchmodSync(fd, 0o600)
    return fd
}
