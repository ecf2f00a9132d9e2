// doctor's checks of what is stored: short values, recipients, expiry, logins

import type * as config from "../config/index.ts"
import * as redact from "../redact/index.ts"
import * as secrets from "../secrets/index.ts"
import { count, hint, q, type Finding } from "./finding.ts"
import { message } from "./output.ts"
import { loginMissing, storedNames } from "./status.ts"

/**
 * Values shorter than redact.minLength are never masked in output: each is named (scope/key), never
 * shown. The only check that decrypts; a value that cannot be decrypted is the key check's finding.
 */
export async function checkShort(vault: secrets.Vault | undefined, findings: Finding[]): Promise<void> {
    for (const scope of new Set(vault?.list().map(e => e.scope))) {
        let values: Map<string, string>
        try {
            values = await vault!.scope(scope, { reason: "doctor: value lengths" })
        } catch {
            continue
        }
        for (const [key, value] of values) {
            if (!redact.tooShort(value)) continue
            findings.push({ level: "warning", message: `secret ${q(`${scope}/${key}`)} is shorter than ${redact.minLength} characters, so it is never masked in output`, fix: `if it is a secret, store the full value: mcplexer secret put ${scope} ${key}` })
        }
    }
}

/** Scopes whose rows are not encrypted to the recipients the config declares (from the index: nothing is decrypted). */
export function checkShares(c: config.Config, vault: secrets.Vault, findings: Finding[]): void {
    let drift: secrets.share.Drift[]
    try {
        drift = secrets.share.drift(c, vault)
    } catch (e) {
        findings.push({ level: "error", message: message(e), fix: hint(e) ?? "fix the scope's recipients" })
        return
    }
    for (const d of drift) {
        const rows = d.rows === 0 ? "" : ` (${count(d.rows, "secret")} not sealed for them)`
        const want = d.want.length === 0 ? "your key alone" : `your key and ${count(d.want.length, "recipient")}`
        const have = d.have.length === 0 ? "your key alone" : `your key and ${count(d.have.length, "recipient")}`
        findings.push({ level: "warning", message: `the secrets of scope ${q(d.scope)} are encrypted to ${have}, but its config declares ${want}${rows}`, fix: `mcplexer secret reencrypt ${d.scope}` })
    }
}

/** Values expired, expiring within 14 days, or older than their scope's rotate_every (secrets.health). */
export function checkExpiry(c: config.Config | undefined, vault: secrets.Vault, findings: Finding[]): void {
    for (const w of secrets.health(vault, c)) findings.push({ level: "warning", message: w.message, fix: w.hint })
}

/** An oauth: server nobody has logged in to yet: its calls fail until someone does. */
export function checkLogins(c: config.Config, vault: secrets.Vault | undefined, findings: Finding[]): void {
    for (const name of loginMissing(c, storedNames(vault))) {
        findings.push({ level: "warning", message: `server ${q(name)} needs a login (oauth), and none is stored`, fix: `mcplexer auth login ${name}` })
    }
}
