/**
 * The OS keychain (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows),
 * through @napi-rs/keyring (keyring-rs, prebuilt for each platform in its registry packages): it
 * holds a key file's text under service "mcplexer" and the identity's public key as the account.
 *
 * Each call runs in a short-lived child process, under a time limit. A locked keychain answers a
 * read by showing an unlock prompt and waiting for it, for ever when no one is at the screen (an
 * ssh session, a service manager, a desktop left locked); the library's call blocks a thread that
 * nothing can interrupt, and which keeps the process alive after an in-process time limit gave up
 * (measured: a process that gave up after 3 s, the call made in-process or in a worker thread,
 * still exited only when gnome-keyring dropped its prompt, 25 s later). A child can be killed. It costs a Node start once per process that loads a
 * keychain-held identity (measured here at a load average of 7 on 2 cores: `secret get` 574 ms
 * against 397 ms with a plain key file; the library's own read takes 11 ms). The identity's text
 * crosses the child's pipes, never its argv.
 */
import { spawn } from "node:child_process"
import { createRequire } from "node:module"
import { hinted } from "./errors.ts"

/** The keychain service every mcplexer identity is stored under. */
export const service = "mcplexer"

// a native module: esbuild cannot bundle it, so the name is not a literal it would follow, and
// Node loads it from node_modules at run time (it is a dependency)
const name = "@napi-rs/keyring"

/** How long a keychain call may take by default (seconds): time for a person to answer an unlock prompt. */
const wait = 30

/** The time limit of a keychain call, in seconds: MCPLEXER_KEYCHAIN_TIMEOUT, or `wait`. */
function limit(env: NodeJS.ProcessEnv = process.env): number {
    const v = env.MCPLEXER_KEYCHAIN_TIMEOUT
    if (v === undefined || v === "") return wait
    const n = Number(v)
    if (!Number.isFinite(n) || n <= 0) {
        throw hinted(`MCPLEXER_KEYCHAIN_TIMEOUT ${JSON.stringify(v)} is not a number of seconds`, `set it to how long to wait for the OS keychain, e.g. 30, or unset it (default ${wait})`, { kind: "input" })
    }
    return n
}

function lib(): string {
    try {
        return createRequire(import.meta.url).resolve(name)
    } catch (e) {
        throw unloadable(e)
    }
}

function unloadable(e: unknown): Error {
    return hinted("the OS keychain library (@napi-rs/keyring) cannot be loaded on this machine",
        "reinstall mcplexer (npm install -g mcplexer), or keep the key in a file protected by a passphrase: mcplexer key protect", { cause: e })
}

/** How to bring the key back to a file, said with every keychain error. */
const back = "once the keychain is reachable, `mcplexer key unprotect` brings the identity back to a file"

/** How to unlock it, said whenever it may be locked: `key unprotect` needs it unlocked too. */
const unlock = "unlock your login keyring (log in to the desktop session, or unlock it in its keyring manager: Seahorse, KWallet, Keychain Access), then retry"

function unreachable(what: string, e: unknown, path: string): Error {
    const why = e instanceof Error ? e.message : String(e)
    return hinted(`cannot ${what} the OS keychain for key file ${JSON.stringify(path)}: ${why}`,
        /lock|prompt/i.test(why)
            ? `the keychain is locked, and no one answered its unlock prompt: ${unlock}; ${back}`
            : `the keychain may be locked or absent (no Secret Service on this session's D-Bus, no login keychain): ${unlock}; ${back}`,
        { kind: "unavailable", cause: e })
}

/** The operations the child runs: one call of the library each, its answer as JSON on stdout. */
type Op = "get" | "set" | "delete"

/** What each operation does, as the errors say it: after "cannot …", and after "while …". */
const says: Record<Op, [string, string]> = {
    get: ["read", "reading"],
    set: ["write to", "writing"],
    delete: ["remove the identity from", "removing"],
}

// CommonJS, run with `node -e`: argv is the library's path, the operation, service and account;
// stdin carries the text to store. Sync calls: the child has nothing else to do.
const child = String.raw`
const [lib, op, service, account] = process.argv.slice(1)
let input = ""
process.stdin.setEncoding("utf8").on("data", d => { input += d }).on("end", () => {
    let out
    try {
        const { Entry } = require(lib)
        try {
            // never the kernel keyring the library falls back to on Linux: a logout or reboot empties it
            const e = new Entry(service, account, { linux: { store: "secret-service" } })
            if (op === "get") out = { value: e.getPassword() }
            else if (op === "set") out = { value: (e.setPassword(input), null) }
            else out = { value: e.deleteCredential() }
        } catch (err) {
            out = { error: String(err && err.message || err) }
        }
    } catch (err) {
        out = { load: String(err && err.message || err) }
    }
    process.stdout.write(JSON.stringify(out))
})
`

/**
 * Runs `op` in a child process; its answer, or the error of a call that failed or did not end
 * within the limit (the child is then killed: nothing is left waiting on the prompt).
 */
function call(op: Op, account: string, path: string, text = ""): Promise<unknown> {
    const seconds = limit()
    const file = lib()
    const [what, doing] = says[op]
    return new Promise((done, fail) => {
        const p = spawn(process.execPath, ["-e", child, "--", file, op, service, account], { stdio: ["pipe", "pipe", "pipe"] })
        let out = "", err = ""
        p.stdout.setEncoding("utf8").on("data", (d: string) => { out += d })
        p.stderr.setEncoding("utf8").on("data", (d: string) => { err += d })
        const timer = setTimeout(() => {
            p.kill("SIGKILL")
            fail(hinted(`the OS keychain did not answer within ${seconds} s, ${doing} the identity of key file ${JSON.stringify(path)}`,
                `it is most likely locked and waiting on an unlock prompt no one can answer (no desktop session, or a locked screen): ${unlock}; ${back}; ` +
                "MCPLEXER_KEYCHAIN_TIMEOUT sets how many seconds to wait", { kind: "unavailable" }))
        }, seconds * 1000)
        p.on("error", e => {
            clearTimeout(timer)
            fail(unreachable(what, e, path))
        })
        p.on("close", () => {
            clearTimeout(timer)
            let r: { value?: unknown; error?: string; load?: string }
            try {
                r = JSON.parse(out) as typeof r
            } catch {
                // never the child's stdout: it may hold the identity
                fail(unreachable(what, new Error(`the keychain helper process failed${err === "" ? "" : `: ${err.trim().split("\n")[0] ?? ""}`}`), path))
                return
            }
            if (r.load !== undefined) fail(unloadable(new Error(r.load)))
            else if (r.error !== undefined) fail(unreachable(what, new Error(r.error), path))
            else done(r.value)
        })
        p.stdin.on("error", () => { /* the child died first: its exit says why */ })
        p.stdin.end(text)
    })
}

/** Stores `text` for `account`, replacing what was there, and reads it back to be sure it is kept. */
export async function store(account: string, text: string, path: string): Promise<void> {
    await call("set", account, path, text)
    const got = await call("get", account, path)
    if (got !== text) {
        throw hinted(`the OS keychain did not keep the identity of key file ${JSON.stringify(path)}`,
            "it may be locked or refuse new items; nothing was changed: the key file is as it was", { kind: "unavailable" })
    }
}

/** The text stored for `account`; an error naming the keychain when it is not there or not reachable. */
export async function fetch(account: string, path: string): Promise<string> {
    const got = await call("get", account, path)
    if (typeof got !== "string") {
        // keyring-rs answers "no entry" also when no Secret Service answers on the bus
        throw hinted(`key file ${JSON.stringify(path)} says its identity is in the OS keychain (service "${service}", account "${account}"), but the keychain has no such item`,
            `the keychain may be locked or absent in this session (Linux: a Secret Service such as gnome-keyring on the D-Bus session bus), or the item was removed; ${back}`,
            { kind: "unavailable" })
    }
    return got
}

/** Removes the item of `account`, if any. */
export async function remove(account: string, path: string): Promise<void> {
    await call("delete", account, path)
}
