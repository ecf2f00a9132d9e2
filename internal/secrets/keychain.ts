/**
 * The OS keychain (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows),
 * through @napi-rs/keyring (keyring-rs, prebuilt for each platform in its registry packages): it
 * holds a key file's text under service "mcplexer" and the identity's public key as the account.
 * The library is loaded only when a key is in the keychain, and its async entries keep the D-Bus
 * or system call off the event loop.
 */
import type * as keyring from "@napi-rs/keyring"
import { hinted } from "./errors.ts"

/** The keychain service every mcplexer identity is stored under. */
export const service = "mcplexer"

type Lib = typeof keyring

// a native module: esbuild cannot bundle it, so the name is not a literal it would follow, and
// Node loads it from node_modules at run time (it is a dependency)
const name = "@napi-rs/keyring"

async function lib(): Promise<Lib> {
    try {
        return await import(name) as Lib
    } catch (e) {
        throw hinted("the OS keychain library (@napi-rs/keyring) cannot be loaded on this machine",
            "reinstall mcplexer (npm install -g mcplexer), or keep the key in a file protected by a passphrase: mcplexer key protect", { cause: e })
    }
}

/** How to bring the key back to a file, said with every keychain error. */
const back = "once the keychain is reachable, `mcplexer key unprotect` brings the identity back to a file"

function unreachable(what: string, e: unknown, path: string): Error {
    const why = e instanceof Error ? e.message : String(e)
    return hinted(`cannot ${what} the OS keychain for key file ${JSON.stringify(path)}: ${why}`,
        `the keychain may be locked or absent (no Secret Service on this session's D-Bus, no login keychain): unlock it or log in to the desktop session; ${back}`,
        { kind: "unavailable", cause: e })
}

/** Stores `text` for `account`, replacing what was there, and reads it back to be sure it is kept. */
export async function store(account: string, text: string, path: string): Promise<void> {
    const entry = new (await lib()).AsyncEntry(service, account)
    try {
        await entry.setPassword(text)
    } catch (e) {
        throw unreachable("write to", e, path)
    }
    let got: string | null
    try {
        got = await entry.getPassword()
    } catch (e) {
        throw unreachable("read", e, path)
    }
    if (got !== text) {
        throw hinted(`the OS keychain did not keep the identity of key file ${JSON.stringify(path)}`,
            "it may be locked or refuse new items; nothing was changed: the key file is as it was", { kind: "unavailable" })
    }
}

/** The text stored for `account`; an error naming the keychain when it is not there or not reachable. */
export async function fetch(account: string, path: string): Promise<string> {
    const entry = new (await lib()).AsyncEntry(service, account)
    let got: string | null
    try {
        got = await entry.getPassword()
    } catch (e) {
        throw unreachable("read", e, path)
    }
    if (got === null) {
        // keyring-rs answers "no entry" also when no Secret Service answers on the bus
        throw hinted(`key file ${JSON.stringify(path)} says its identity is in the OS keychain (service "${service}", account "${account}"), but the keychain has no such item`,
            `the keychain may be locked or absent in this session (Linux: a Secret Service such as gnome-keyring on the D-Bus session bus), or the item was removed; ${back}`,
            { kind: "unavailable" })
    }
    return got
}

/** Removes the item of `account`, if any. */
export async function remove(account: string, path: string): Promise<void> {
    const entry = new (await lib()).AsyncEntry(service, account)
    try {
        await entry.deleteCredential()
    } catch (e) {
        throw unreachable("remove the identity from", e, path)
    }
}
