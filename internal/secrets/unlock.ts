/**
 * A key file at rest is in one of three forms: plain (age-keygen's text), protected by a
 * passphrase (a standard age scrypt file of that text: `age -d age.key` opens it), or a reference
 * to the OS keychain, which holds the text. This module tells them apart and opens the protected
 * ones; identity.ts calls it only for those, so reading a plain key loads nothing more.
 *
 * secrets never prompts: where a passphrase comes from is the CLI's business (a terminal prompt,
 * or the file named by MCPLEXER_PASSPHRASE_FILE), given here once per process with `ask`. The
 * first passphrase that opens a key file is kept for the rest of the process, so the person is
 * asked once (a `serve` at its start) and a key rotated by another process, protected with the
 * same passphrase, opens without asking again.
 */
import { hinted } from "./errors.ts"

/** What a key file holds at rest. */
export type Form = "plain" | "passphrase" | "keychain"

/**
 * Gives the passphrase of the key file at `path`: the CLI's prompt or file. It may throw (no
 * terminal, canceled); it is called at most once per process unless a passphrase proves wrong.
 */
export type Source = (path: string) => Promise<string>

let source: Source | undefined
// the passphrase being asked for, or the one that opened a key file
let asked: Promise<string> | undefined
let proven = false

/** Sets where passphrases come from (undefined: nowhere, then a protected key file is an error). */
export function ask(s: Source | undefined): void {
    source = s
    asked = undefined
    proven = false
}

/**
 * The first line of a key file whose identity is in the OS keychain. The whole format, written
 * by `mcplexer key protect --keychain` and read back here:
 *
 *     # mcplexer: identity in the OS keychain, service "mcplexer", account "age1…"
 *     # public key: age1…
 *     # the identity is not in this file: `mcplexer key unprotect` brings it back here
 *
 * The keychain item (service "mcplexer", account the public key) holds the key file's text in
 * age-keygen's format. There is no AGE-SECRET-KEY line, so age's tools find no identity here.
 */
const keychainLine = /^# mcplexer: identity in the OS keychain, service "([^"]+)", account "([^"]+)"\r?\n/

/** The form of a key file's bytes. */
export function form(bytes: Uint8Array): Form {
    const head = Buffer.from(bytes.subarray(0, 512)).toString("latin1")
    if (head.startsWith("age-encryption.org/v1\n") || head.startsWith("-----BEGIN AGE ENCRYPTED FILE-----")) return "passphrase"
    if (keychainLine.test(head)) return "keychain"
    return "plain"
}

/** A keychain reference file's text for `recipient` (see `keychainLine`). */
export function reference(service: string, recipient: string): string {
    return `# mcplexer: identity in the OS keychain, service "${service}", account "${recipient}"\n` +
        `# public key: ${recipient}\n` +
        "# the identity is not in this file: `mcplexer key unprotect` brings it back here\n"
}

/** The keychain account a reference names (see `keychainLine`), if it is one. */
export function account(bytes: Uint8Array): string | undefined {
    return keychainLine.exec(Buffer.from(bytes).toString("utf8"))?.[2]
}

/** The key file text a protected key file stands for: decrypted with the passphrase, or fetched from the keychain. */
export async function open(bytes: Uint8Array, path: string): Promise<Uint8Array> {
    if (form(bytes) === "keychain") {
        const m = keychainLine.exec(Buffer.from(bytes).toString("utf8"))
        const keychain = await import("./keychain.ts")
        if (m?.[1] !== keychain.service || m[2] === undefined) {
            throw hinted(`key file ${JSON.stringify(path)} names an OS keychain item mcplexer does not know`, `its first line should be: # mcplexer: identity in the OS keychain, service "${keychain.service}", account "age1…"`)
        }
        return Buffer.from(await keychain.fetch(m[2], path))
    }
    const scrypt = await import("./scrypt.ts")
    const pass = await passphrase(path)
    try {
        const plain = await scrypt.decrypt(bytes, pass)
        proven = true
        return plain
    } catch (e) {
        if (!proven) asked = undefined
        const wrong = e instanceof Error && /no identity matched/.test(e.message)
        throw hinted(wrong ? `wrong passphrase for key file ${JSON.stringify(path)}` : `cannot open key file ${JSON.stringify(path)} with a passphrase: ${e instanceof Error ? e.message : String(e)}`,
            wrong ? "nothing was changed; try again (the passphrase is the one given to `mcplexer key protect`)"
                : "it is an age file that is not a passphrase-protected age identity; restore the key file from a backup", { kind: "input", cause: e })
    }
}

/** The process's passphrase: the one that opened a key file, else asked for (once at a time). */
export async function passphrase(path: string): Promise<string> {
    if (asked === undefined) {
        if (source === undefined) throw noSource(path)
        const p = source(path)
        asked = p
        p.catch(() => {
            if (asked === p) asked = undefined
        })
    }
    return asked
}

/** Remembers a passphrase just set (key protect), so that what follows in this process opens the key with it. */
export function remember(pass: string): void {
    asked = Promise.resolve(pass)
    proven = true
}

function noSource(path: string): Error {
    return hinted(`key file ${JSON.stringify(path)} is protected by a passphrase, and there is no terminal to ask it on`,
        "run the command on a terminal, or set MCPLEXER_PASSPHRASE_FILE to a file (mode 0600) holding the passphrase (for a service manager); nothing was changed",
        { kind: "unavailable" })
}
