/**
 * The one way mcplexer writes a file (DESIGN decision 14), for every module: the bytes go to a
 * temporary file beside the target with a random name, created O_EXCL|O_NOFOLLOW (so a link or
 * file planted at any name is never followed, overwritten nor chmodded), given its mode with
 * fchmod (the umask can strip bits), fsynced, then linked (writeNew) or renamed (writeOver) onto
 * the target, and the folder fsynced. A reader sees the old file or the new, never a mix.
 */
import { randomBytes } from "node:crypto"
import { closeSync, constants, fchmodSync, fsyncSync, linkSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs"
import { basename, dirname, join } from "node:path"

// Windows has no O_NOFOLLOW; O_EXCL alone already refuses a name that exists, link or not
const create = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0)

/** The name of a temporary file `stage` makes beside `path`; `sweep` knows it by this shape. */
function tempName(path: string): string {
    return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString("hex")}`)
}

/** Writes `data` to a new temporary file beside `path` and returns its name, ready to be linked or renamed. */
function stage(path: string, data: Uint8Array | string, mode: number): string {
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data
    const tmp = tempName(path)
    const fd = openSync(tmp, create, mode)
    try {
        fchmodSync(fd, mode)
        for (let at = 0; at < bytes.length;) at += writeSync(fd, bytes, at)
        fsyncSync(fd)
    } catch (e) {
        closeSync(fd)
        unlinkSync(tmp)
        throw e
    }
    closeSync(fd)
    return tmp
}

/**
 * Writes `data` to `path` only if nothing is there yet (not even a dangling link), so that the
 * file is absent or complete and two racing writers end with one file: the staged file is
 * link()ed to the final name, which fails if the name exists. Returns false when it existed.
 */
export function writeNew(path: string, data: Uint8Array | string, mode = 0o600): boolean {
    const tmp = stage(path, data, mode)
    try {
        try {
            linkSync(tmp, path)
        } catch (e) {
            if ((e as NodeJS.ErrnoException).code === "EEXIST") return false
            throw e
        }
    } finally {
        unlinkSync(tmp)
    }
    syncDir(dirname(path))
    return true
}

/**
 * Replaces whatever is at `path` with `data` and `mode`, atomically. A link at `path` itself is
 * replaced by the file, never written through.
 */
export function writeOver(path: string, data: Uint8Array | string, mode = 0o600): void {
    const tmp = stage(path, data, mode)
    try {
        renameSync(tmp, path)
    } catch (e) {
        unlinkSync(tmp)
        throw e
    }
    syncDir(dirname(path))
}

/** Replaces the file at `path` with `data`, atomically, keeping the mode it had (0600 for a new file). */
export function write(path: string, data: Uint8Array | string): void {
    let mode = 0o600
    try {
        mode = statSync(path).mode & 0o777
    } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e
    }
    writeOver(path, data, mode)
}

/** Makes a link, rename or unlink in `dir` durable. */
export function syncDir(dir: string): void {
    let fd: number
    try {
        fd = openSync(dir, constants.O_RDONLY | (constants.O_DIRECTORY ?? 0))
    } catch (e) {
        // Windows cannot open a folder to fsync it; its renames are as durable as they get
        if (process.platform === "win32") return
        throw e
    }
    try {
        fsyncSync(fd)
    } finally {
        closeSync(fd)
    }
}

/**
 * Removes temporary files a writer left beside `path` when its process was killed mid-write.
 * A temporary file of a live process is its own business and is left alone.
 */
export function sweep(path: string): void {
    const prefix = `.${basename(path)}.tmp-`
    let names: string[]
    try {
        names = readdirSync(dirname(path))
    } catch {
        return
    }
    for (const name of names) {
        if (!name.startsWith(prefix)) continue
        const pid = Number(name.slice(prefix.length).split("-")[0])
        if (!Number.isInteger(pid) || pid <= 0 || alive(pid)) continue
        try {
            unlinkSync(join(dirname(path), name))
        } catch {
            // another process swept it first
        }
    }
}

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0)
        return true
    } catch (e) {
        return (e as NodeJS.ErrnoException).code === "EPERM"
    }
}
