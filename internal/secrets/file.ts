import { randomBytes } from "node:crypto"
import { closeSync, constants, fchmodSync, fstatSync, fsyncSync, linkSync, openSync, readdirSync, readSync, renameSync, unlinkSync, writeSync } from "node:fs"
import { basename, dirname, join } from "node:path"
import { hinted } from "./errors.ts"

/**
 * Writes `data` to a new temporary file beside `path` and returns its name: opened exclusively
 * 0600 (fchmod, since the umask can strip bits) and fsynced, ready to be linked or renamed.
 */
function stage(path: string, data: Uint8Array): string {
    const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString("hex")}`)
    const fd = openSync(tmp, "wx", 0o600)
    try {
        fchmodSync(fd, 0o600)
        for (let at = 0; at < data.length;) at += writeSync(fd, data, at)
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
 * Writes `data` to `path` only if nothing is there yet, so that the file is either absent or
 * complete, never half-written, and two racing writers end with one file: a staged temp file
 * link()ed to the final name, which fails if the name exists. Returns false when `path` already
 * existed.
 */
export function writeNew(path: string, data: Uint8Array): boolean {
    const tmp = stage(path, data)
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

/** Makes a link, rename or unlink in `dir` durable. */
export function syncDir(dir: string): void {
    const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY)
    try {
        fsyncSync(fd)
    } finally {
        closeSync(fd)
    }
}

/**
 * Replaces whatever is at `path` with `data`, atomically: a staged temp file renamed over the
 * name, so a reader sees the old file or the new, never a mix.
 */
export function writeOver(path: string, data: Uint8Array): void {
    const tmp = stage(path, data)
    try {
        renameSync(tmp, path)
    } catch (e) {
        unlinkSync(tmp)
        throw e
    }
    syncDir(dirname(path))
}

/**
 * Reads a private file (`what` names it in errors: "key file", "api token file"), refusing one
 * that group or others may access, as ssh refuses a loose private key. The mode is checked on the
 * open descriptor, so the file read is the file checked. Returns undefined when it does not exist.
 */
export function readPrivate(path: string, what = "key file"): Buffer | undefined {
    const name = `${what} ${JSON.stringify(path)}`
    let fd: number
    try {
        fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW)
    } catch (e) {
        const code = (e as NodeJS.ErrnoException).code
        if (code === "ENOENT") return undefined
        if (code === "ELOOP") throw hinted(`${name} is a symbolic link`, `replace the link with the file itself (or point MCPLEXER_AGE_KEY at it)`)
        throw hinted(`cannot read ${name}: ${code ?? String(e)}`, `check the permissions of ${JSON.stringify(path)}`, { cause: e })
    }
    try {
        const st = fstatSync(fd)
        if (!st.isFile()) throw hinted(`${name} is not a regular file`, `move it away; mcplexer makes a new one where it needs one`)
        const mode = st.mode & 0o777
        if (mode & 0o077) {
            const how = mode & 0o044 ? "readable" : "writable"
            throw hinted(`${name} is ${how} by others (mode ${mode.toString(8).padStart(4, "0")})`, `chmod 600 ${path}`)
        }
        const out = Buffer.alloc(st.size)
        for (let at = 0; at < out.length;) {
            const n = readSync(fd, out, at, out.length - at, at)
            if (n === 0) return out.subarray(0, at)
            at += n
        }
        return out
    } finally {
        closeSync(fd)
    }
}

/**
 * Removes temp files that `writeNew` left beside `path` when its process was killed mid-write.
 * A temp file of a live process is its own business and is left alone.
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
