import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs"
import { hinted } from "./errors.ts"

// every file mcplexer writes goes through config's one atomic writer; secrets names it as its own
export { sweep, syncDir, writeNew, writeOver } from "../config/atomic.ts"

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
