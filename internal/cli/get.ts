/**
 * `mcplexer secret get`, alone in its file: scripts run it once per value, so its chunk loads
 * neither yargs (main.ts skips it for this plain form), drizzle nor typage.
 */
import type * as config from "../config/index.ts"
import * as secrets from "../secrets/read.ts"
import { one, type Output } from "./output.ts"

/** Which secret to read; `reveal` prints it whole on a terminal too. */
export interface GetOptions { paths: config.Paths; scope: string; key: string; reveal?: boolean }

/**
 * Prints one value: exactly its bytes when stdout is a pipe or a file. On a terminal, where it
 * would stay on the screen and in the scrollback, only a mask of it (see `mask`) unless `reveal`,
 * and then the value with a newline after it.
 */
export async function get(o: GetOptions, out: Output): Promise<void> {
    let value: Buffer
    try {
        value = await secrets.read(o.paths, o.scope, o.key, { actor: "cli" })
    } catch (e) {
        throw e instanceof Error && e.name === "NotFoundError" ? await nearer(o, e as config.Hinted) : e
    }
    if (out.tty && !o.reveal) {
        out.out(`${mask(value)}\n`)
        value.fill(0)
        out.hint(`to print the value itself: mcplexer secret get ${o.scope} ${o.key} --reveal (or pipe it)`)
        return
    }
    // not wiped after: a write to a pipe may still be under way (asynchronous on macOS)
    out.out(value)
    if (out.tty) out.out("\n")
}

/**
 * A secret not found, with the stored key of its scope it is nearest to, when there is one. Only on this failure does `get` load the vault to list names.
 */
async function nearer(o: GetOptions, e: config.Hinted): Promise<config.Hinted> {
    const [secretsAll, cfg] = await Promise.all([import("../secrets/index.ts"), import("../config/index.ts")])
    let stored: Array<{ scope: string; key: string }>
    try {
        const vault = secretsAll.open(o.paths, { actor: "cli" })
        try {
            stored = vault.list()
        } finally {
            vault.close()
        }
    } catch {
        return e
    }
    const key = cfg.suggest(o.key, stored.filter(x => x.scope === o.scope).map(x => x.key))
    return key === undefined ? e : cfg.hinted(e.message, `did you mean ${JSON.stringify(`${o.scope}/${key}`)}?\n${e.hint}`, { kind: e.kind })
}

// a value this long shows its first characters; a shorter one shows only its length
const shown = 4, long = 20
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })

/**
 * A value as a terminal shows it without `--reveal`: its first 4 characters and its length,
 * `ghp_… (40 characters)`, enough to tell one token from another (most name their kind in those
 * characters). A value shorter than 20 characters (a password, a PIN) shows its length only:
 * there 4 characters would be a fifth or more of it, while a 20-character one still hides 16
 * (about 95 bits if random). A value that is not UTF-8 text shows its size in bytes only.
 */
export function mask(value: Uint8Array): string {
    let text: string
    try {
        text = utf8.decode(value)
    } catch {
        return `… (${value.length} bytes, not UTF-8 text)`
    }
    const chars = [...text]
    const n = `(${chars.length} character${chars.length === 1 ? "" : "s"})`
    return chars.length < long ? `… ${n}` : `${one(chars.slice(0, shown).join(""))}… ${n}`
}
