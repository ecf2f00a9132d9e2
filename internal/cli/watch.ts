import { watch as fsWatch, type FSWatcher } from "node:fs"
import { readFile } from "node:fs/promises"
import { basename, dirname } from "node:path"
import * as config from "../config/index.ts"
import type * as downstream from "../downstream/index.ts"
import { message } from "./output.ts"

/** How long the config file must be quiet before it is read again (editors write in steps). */
export const debounce = 200

/**
 * Watches the config file while `serve` runs: a change, once the file is quiet, is loaded and
 * validated and handed to `apply`; a file that no longer loads keeps the old config in force,
 * and the log says why. The folder is watched, not the file, so an editor that replaces the file
 * (write a temp, rename it over) is seen too.
 */
export function watch(file: string, apply: (c: config.Config) => void, log: downstream.Logger, o: { debounce?: number } = {}): { close(): void } {
    const name = basename(file)
    let timer: NodeJS.Timeout | undefined
    let last: string | undefined
    let closed = false
    readFile(file, "utf8").then(t => { last ??= t }, () => { /* read again on the first change */ })
    const reload = async () => {
        let text: string
        try {
            text = await readFile(file, "utf8")
        } catch {
            return // removed or being replaced: the rename that follows is another change
        }
        if (closed || text === last) return
        last = text
        let c: config.Config
        try {
            c = await config.load(file)
        } catch (e) {
            const where = e instanceof config.ConfigError && e.line > 0 ? `${e.file}:${e.line}:${e.col}: ` : ""
            log.error(`config not reloaded, the old one stays in force: ${where}${message(e)}`, { config: file })
            return
        }
        if (closed) return
        log.info("config reloaded", { config: file })
        apply(c)
    }
    let w: FSWatcher | undefined
    try {
        w = fsWatch(dirname(file), (_event, f) => {
            if (f !== null && f !== name) return
            if (timer !== undefined) clearTimeout(timer)
            timer = setTimeout(() => { void reload() }, o.debounce ?? debounce)
        })
        w.on("error", e => { log.warn(`stopped watching the config: ${e.message}`, { config: file }) })
    } catch (e) {
        log.warn(`cannot watch the config for changes: ${message(e)}`, { config: file })
    }
    return {
        close() {
            closed = true
            if (timer !== undefined) clearTimeout(timer)
            w?.close()
        },
    }
}
