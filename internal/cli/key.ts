import type * as config from "../config/index.ts"
import * as secrets from "../secrets/index.ts"
import { type Output } from "./output.ts"

/** Where the identity is. */
export interface KeyOptions { paths: config.Paths; json?: boolean; pq?: boolean }

/** Prints the identity's path and public key. */
export async function show(o: KeyOptions, out: Output): Promise<void> {
    const vault = secrets.open(o.paths, { actor: "cli" })
    try {
        const recipient = await vault.recipient()
        out.out(o.json ? `${JSON.stringify({ path: o.paths.key, recipient })}\n` : `${o.paths.key}\n${recipient}\n`)
    } finally {
        vault.close()
    }
}

/**
 * Authenticates, once, the secrets mcplexer 0.1 stored before rows carried a MAC: the person who
 * holds the key vouches for them, so each is listed. Where anything shows the store authenticates
 * its rows (the key file's mark line above all), a row without one was tampered with: the vault
 * refuses it and nothing is adopted. A plain key file is marked afterwards; a protected one is
 * left as it is, and the person is told.
 */
export async function upgrade(o: KeyOptions, out: Output): Promise<void> {
    const vault = secrets.open(o.paths, { actor: "cli" })
    try {
        const { rows, key } = await vault.upgrade()
        if (rows.length === 0) out.info("every secret is already authenticated")
        for (const r of rows) out.info(`authenticated ${r.scope}/${r.key}`)
        if (rows.length > 0) out.hint("if one of these is not yours, delete it: mcplexer secret delete <scope> <key>")
        if (key === "marked") out.info(`marked the key file ${JSON.stringify(o.paths.key)}: a row without a MAC will never be adopted again`)
        // a key file mcplexer could not mark: the database's own mark still holds, but a database writer can remove it
        if (key === "unwritable") out.hint(`add this line to the key file ${JSON.stringify(o.paths.key)} so that a row without a MAC is never adopted again: ${secrets.markLine}`)
    } finally {
        vault.close()
    }
}

/** Makes a new identity, re-encrypts every secret to it in one transaction, keeps the old key. */
export async function rotate(o: KeyOptions, out: Output): Promise<void> {
    const vault = secrets.open(o.paths, { actor: "cli" })
    try {
        // --pq: a post-quantum key, --no-pq: a classic one, neither: the current kind
        const r = await vault.rotate(o.pq === undefined ? {} : { pq: o.pq })
        out.info(`re-encrypted ${r.count} secret${r.count === 1 ? "" : "s"} to the new key`)
        out.out(`${r.recipient}\n`)
        out.info(`the old key is kept at ${r.old}`)
        out.hint(`once you have a backup of ${o.paths.key}, remove the old one: rm ${r.old}`)
    } finally {
        vault.close()
    }
}
