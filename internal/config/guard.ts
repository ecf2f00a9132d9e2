import { hinted } from "./error.ts"
import { statSync, type Stats } from "node:fs"
import { dirname } from "node:path"
import type { Paths } from "./paths.ts"

/** Something about a file or folder that makes it unsafe to trust, and its fix. */
export interface Problem {
    message: string
    hint: string
    /** owned by another user: no chmod of ours can fix it */
    foreign?: boolean
}

/**
 * Why a file or folder must not be trusted, or undefined: anyone who can change the config (or
 * the folder holding it) can add a server that receives any scope's secrets, so as ssh does for
 * its files, one writable by group or others, or owned by another user than us or root, is refused.
 * A sticky folder (like /tmp) is allowed to hold a config, never to be the home.
 */
export function loose(what: string, path: string, st: Stats, o: { sticky?: boolean } = {}): Problem | undefined {
    const uid = process.getuid?.()
    if (uid !== undefined && st.uid !== uid && st.uid !== 0) {
        return { message: `${what} ${JSON.stringify(path)} is owned by another user (uid ${st.uid})`, hint: `check what it holds, then make it yours: sudo chown ${uid} ${path}`, foreign: true }
    }
    const mode = st.mode & 0o777
    // 0o1000 is the sticky bit: others may add files there, but not replace ours
    if (mode & 0o022 && !(o.sticky && st.isDirectory() && st.mode & 0o1000)) {
        const who = mode & 0o002 ? "anyone" : "its group"
        return { message: `${what} ${JSON.stringify(path)} is writable by ${who} (mode ${mode.toString(8).padStart(4, "0")})`, hint: `chmod ${st.isDirectory() ? "700" : "600"} ${path}` }
    }
    return undefined
}

/** The home folder's problem, if it exists and has one. */
export function home(p: Paths): Problem | undefined {
    const st = stat(p.home)
    return st && loose("home folder", p.home, st)
}

/**
 * The problems of the config file and of its folder (unless that is `home`, checked on its own);
 * [] when the file does not exist.
 */
export function file(path: string, st: Stats | undefined = stat(path), home?: string): Problem[] {
    if (!st) return []
    const out: Problem[] = []
    const folder = dirname(path)
    const f = folder === home ? undefined : stat(folder)
    const pf = f && loose("the config's folder", folder, f, { sticky: true })
    if (pf) out.push(pf)
    const pc = loose("config file", path, st)
    if (pc) out.push(pc)
    return out
}

/**
 * Throws the first problem of the home folder and the config file, as an error carrying its
 * hint: every command but init (which tightens the home) and doctor (which reports) runs this.
 */
export function check(p: Paths): void {
    const [problem] = problems(p)
    if (problem) throw hinted(problem.message, problem.hint)
}

/** Every problem of the home folder and the config file. */
export function problems(p: Paths): Problem[] {
    return [home(p), ...file(p.config, undefined, p.home)].filter(x => x !== undefined)
}

function stat(path: string): Stats | undefined {
    try {
        return statSync(path)
    } catch {
        return undefined
    }
}
