/**
 * `mcplexer key protect` and `key unprotect`, and where a key file's passphrase comes from. The
 * CLI owns that source (secrets never prompts): the file named by MCPLEXER_PASSPHRASE_FILE, for
 * a service manager, else a hidden prompt on the terminal (/dev/tty, so that it works while stdin
 * and stdout are a pipe, as under `serve` or `$(mcplexer secret get …)`, and never on stdout).
 * main.ts gives `passphrase` to secrets.ask once per process; secrets keeps the first one that opens
 * the key.
 */
import { openSync, readdirSync } from "node:fs"
import { basename, dirname, join } from "node:path"
import { ReadStream, WriteStream } from "node:tty"
import * as config from "../config/index.ts"
import type * as secretsTypes from "../secrets/index.ts"
import { type Output } from "./output.ts"
import { prompt } from "./value.ts"

/** What to protect, and how. */
export interface ProtectOptions { paths: config.Paths; keychain?: boolean }

/** Moves the identity into a passphrase-protected key file, or into the OS keychain. */
export async function protect(o: ProtectOptions, out: Output): Promise<void> {
    const secrets = await import("../secrets/index.ts")
    // before asking for a new passphrase twice: typing it only to hear the key is protected already wastes the person's time
    const bytes = secrets.readPrivate(o.paths.key)
    const now = bytes === undefined ? undefined : secrets.form(bytes)
    bytes?.fill(0)
    if (now === "passphrase" || now === "keychain") {
        throw config.hinted(`key file ${JSON.stringify(o.paths.key)} is already ${now === "passphrase" ? "protected by a passphrase" : "in the OS keychain"}`,
            "to change how it is protected, run `mcplexer key unprotect` first", { kind: "conflict" })
    }
    const how: secretsTypes.How = o.keychain ? { keychain: true } : { passphrase: await fresh(o.paths.key) }
    const r = await secrets.protect(o.paths, how)
    if (r.to === "keychain") {
        out.info(`moved the identity ${r.recipient} into the OS keychain (service "mcplexer", account "${r.recipient}")`)
        out.info(`${o.paths.key} now holds only a reference to it`)
        out.hint("to bring it back to a file: mcplexer key unprotect")
    } else {
        out.info(`${o.paths.key} is now protected by a passphrase (an age scrypt file: age -d ${o.paths.key} opens it)`)
        out.hint("each command that needs the key asks for it on the terminal; for a service, set MCPLEXER_PASSPHRASE_FILE to a file (mode 0600) holding it")
    }
    const old = earlier(o.paths.key)
    out.hint(`${old.length > 0 ? `earlier keys kept beside it (${old.join(", ")}) and backups` : "backups of the key file"} you made are not protected: remove them, or protect them with age -p`)
}

/** The earlier keys `key rotate` kept beside the key file (`age.key.old-…`), by path. */
function earlier(key: string): string[] {
    try {
        return readdirSync(dirname(key)).filter(n => n.startsWith(`${basename(key)}.old-`)).sort().map(n => join(dirname(key), n))
    } catch {
        return []
    }
}

/** Where the identity is. */
export interface UnprotectOptions { paths: config.Paths }

/** Brings the identity back to a plain key file. */
export async function unprotect(o: UnprotectOptions, out: Output): Promise<void> {
    const secrets = await import("../secrets/index.ts")
    const r = await secrets.unprotect(o.paths)
    if (r.from === "plain") out.info(`${o.paths.key} is not protected: nothing changed`)
    else out.info(`${o.paths.key} holds the identity ${r.recipient} in plain text again${r.from === "keychain" ? ", and the OS keychain no longer does" : ""}`)
}

/**
 * The passphrase of the key file at `path` (secrets.Source): the file named by
 * MCPLEXER_PASSPHRASE_FILE, else a hidden prompt on the terminal. An error with the way out when
 * there is neither.
 */
export async function passphrase(path: string): Promise<string> {
    const file = await fromFile()
    if (file !== undefined) return file
    return ask(`passphrase for ${path}`, path)
}

/** A new passphrase: from MCPLEXER_PASSPHRASE_FILE, or asked twice on the terminal. */
async function fresh(path: string): Promise<string> {
    const file = await fromFile()
    if (file !== undefined) return file
    const first = await ask(`new passphrase for ${path}`, path)
    if (first === "") throw config.hinted("the passphrase is empty", "choose a passphrase; nothing was changed", { kind: "input" })
    const again = await ask("the same passphrase again", path)
    if (again !== first) throw config.hinted("the two passphrases differ", "run mcplexer key protect again; nothing was changed", { kind: "input" })
    return first
}

/** The passphrase in the file named by MCPLEXER_PASSPHRASE_FILE (one trailing newline dropped), if it is set. */
async function fromFile(): Promise<string | undefined> {
    const file = process.env.MCPLEXER_PASSPHRASE_FILE
    if (!file) return undefined
    const { readPrivate } = await import("../secrets/index.ts")
    const bytes = readPrivate(file, "passphrase file")
    if (bytes === undefined) {
        throw config.hinted(`passphrase file ${JSON.stringify(file)} named by MCPLEXER_PASSPHRASE_FILE does not exist`,
            "write the passphrase into it (mode 0600), or unset MCPLEXER_PASSPHRASE_FILE to be asked on the terminal", { kind: "missing" })
    }
    const text = bytes.toString("utf8").replace(/\r?\n$/, "")
    bytes.fill(0)
    if (text === "") throw config.hinted(`passphrase file ${JSON.stringify(file)} is empty`, "write the passphrase into it", { kind: "input" })
    return text
}

/** One hidden line typed on the terminal: /dev/tty, else stdin and stderr when stdin is one. */
async function ask(label: string, path: string): Promise<string> {
    let fd: number | undefined
    try {
        fd = openSync("/dev/tty", "r+")
    } catch {
        // no controlling terminal (a service, a client starting serve), or Windows
    }
    if (fd !== undefined) {
        const input = new ReadStream(fd)
        const output = new WriteStream(openSync("/dev/tty", "w"))
        try {
            return text(await prompt(`${label} (input hidden): `, input, output))
        } finally {
            input.destroy()
            output.destroy()
        }
    }
    if (process.stdin.isTTY) return text(await prompt(`${label} (input hidden): `, process.stdin, process.stderr))
    throw config.hinted(`key file ${JSON.stringify(path)} is protected by a passphrase, and there is no terminal to ask it on`,
        "run the command on a terminal, or set MCPLEXER_PASSPHRASE_FILE to a file (mode 0600) holding the passphrase (for a service manager); nothing was changed",
        { kind: "unavailable" })
}

function text(typed: Buffer): string {
    const s = typed.toString("utf8")
    typed.fill(0)
    return s
}
