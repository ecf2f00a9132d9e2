/**
 * `key protect` and `key unprotect`: the identity moved between a plain key file, a key file
 * protected by a passphrase (an age scrypt file) and the OS keychain (see unlock.ts for the
 * forms). The identity itself never changes, so the rows stay as they are. The key file is
 * replaced only after its new form has been read back, while holding the database's write lock
 * (as a key rotation does, so the two never act on the same file at once), through config's one
 * atomic writer: a wrong passphrase, a keychain that fails or a kill leaves the old file whole.
 */
import { existsSync } from "node:fs"
import type * as config from "../config/index.ts"
import * as store from "../store/index.ts"
import { hinted } from "./errors.ts"
import { readPrivate, writeOver } from "./file.ts"
import * as identity from "./identity.ts"
import { cache, nextPath } from "./loaded.ts"
import * as unlock from "./unlock.ts"

/** What `protect` and `unprotect` did. */
export interface Protected {
    /** the form the key file had */
    from: unlock.Form
    /** the form it has now */
    to: unlock.Form
    /** the identity's public key */
    recipient: string
}

/** How to protect: the OS keychain, or a passphrase (the CLI read it, twice, from the person). */
export type How = { keychain: true } | { passphrase: string }

/** Turns a plain key file into a passphrase-protected one, or a reference to the OS keychain. */
export async function protect(paths: config.Paths, how: How): Promise<Protected> {
    const bytes = current(paths)
    const from = unlock.form(bytes)
    if (from !== "plain") {
        throw hinted(`key file ${JSON.stringify(paths.key)} is already ${described(from)}`,
            "to change how it is protected, run `mcplexer key unprotect` first", { kind: "conflict" })
    }
    const id = await identity.load(bytes, paths.key)
    const to: unlock.Form = "keychain" in how ? "keychain" : "passphrase"
    if (!("keychain" in how)) {
        if (how.passphrase === "") throw hinted("the passphrase is empty", "choose a passphrase; nothing was changed", { kind: "input" })
        unlock.remember(how.passphrase)
    }
    const next = await atRest(to, bytes, id.recipient, paths.key)
    // read back before anything changes: the file about to be written must give the same identity
    const back = await identity.load(next, paths.key)
    if (back.recipient !== id.recipient) throw new Error("internal: the protected key file does not give the same identity")
    replace(paths, bytes, next)
    return { from, to, recipient: id.recipient }
}

/** Turns a protected key file back into a plain one (and removes the keychain item). */
export async function unprotect(paths: config.Paths): Promise<Protected> {
    const bytes = current(paths)
    const from = unlock.form(bytes)
    if (from === "plain") return { from, to: from, recipient: (await identity.load(bytes, paths.key)).recipient }
    const plain = Buffer.from(await unlock.open(bytes, paths.key))
    let recipient: string
    try {
        recipient = (await identity.load(plain, paths.key)).recipient
        if (from === "keychain" && unlock.account(bytes) !== recipient) {
            throw hinted(`the OS keychain item of key file ${JSON.stringify(paths.key)} holds the identity of ${recipient}, not of ${JSON.stringify(unlock.account(bytes))}`,
                "the keychain item was replaced; nothing was changed", { kind: "conflict" })
        }
        replace(paths, bytes, plain)
    } finally {
        plain.fill(0)
    }
    if (from === "keychain") {
        const keychain = await import("./keychain.ts")
        await keychain.remove(recipient, paths.key)
    }
    return { from, to: "plain", recipient }
}

/**
 * The bytes a new key file (`plain`, of identity `recipient`) is kept as in `form`: a rotation
 * keeps the form of the key it replaces. A keychain item is written here, under the new public key.
 */
export async function atRest(form: unlock.Form, plain: Uint8Array, recipient: string, path: string): Promise<Uint8Array> {
    if (form === "plain") return plain
    if (form === "passphrase") {
        const scrypt = await import("./scrypt.ts")
        return scrypt.encrypt(plain, await unlock.passphrase(path))
    }
    const keychain = await import("./keychain.ts")
    await keychain.store(recipient, Buffer.from(plain).toString("utf8"), path)
    return Buffer.from(unlock.reference(keychain.service, recipient))
}

function described(form: unlock.Form): string {
    return form === "passphrase" ? "protected by a passphrase" : form === "keychain" ? "in the OS keychain" : "a plain key file"
}

/** The key file's bytes, refusing while a key rotation is unfinished. */
function current(paths: config.Paths): Buffer {
    if (existsSync(nextPath(paths.key))) throw unfinished(paths.key)
    const bytes = readPrivate(paths.key)
    if (bytes === undefined) throw hinted(`no key file at ${JSON.stringify(paths.key)}`, "create one with: mcplexer init", { kind: "missing" })
    return bytes
}

function unfinished(key: string): Error {
    return hinted(`a key rotation of ${JSON.stringify(key)} is not finished (${JSON.stringify(nextPath(key))} exists)`,
        "let it finish: run `mcplexer key show`, then try again", { kind: "conflict" })
}

/** Replaces the key file `was` with `next` under the write lock, unless it changed meanwhile. */
function replace(paths: config.Paths, was: Uint8Array, next: Uint8Array): void {
    const s = store.open(paths.db)
    try {
        store.atomic(s, () => {
            if (existsSync(nextPath(paths.key))) throw unfinished(paths.key)
            const now = readPrivate(paths.key)
            if (now === undefined || Buffer.compare(now, was) !== 0) {
                throw hinted(`key file ${JSON.stringify(paths.key)} changed meanwhile (another mcplexer rotated or protected it)`, "nothing was changed by this command; run it again", { kind: "conflict" })
            }
            writeOver(paths.key, next)
        })
    } finally {
        s.close()
    }
    // this process's identity is the same; its digest names the old file, so let it load again
    cache.delete(paths.key)
}
