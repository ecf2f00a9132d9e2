import { resolve } from "node:path"
import { ms } from "./checks.ts"
import { expand } from "./paths.ts"
import { label, q, type Entry, type Reader } from "./reader.ts"
import type { Scope } from "./types.ts"

const scopeKeys = ["description", "recipients", "recipients_file", "rotate_every"]

const hints = {
    scopes: "auth scopes are keyed by name, e.g.\n  auth_scopes:\n    github: { description: my GitHub token }",
}

/** The `auth_scopes` section: each scope's description, recipients, recipients file and rotate_every. */
export function readScopes(r: Reader, e: Entry | undefined, folder: string, home: string): Map<string, Scope> {
    const scopes = new Map<string, Scope>()
    for (const s of r.entries(e?.value, q("auth_scopes"), hints.scopes)) {
        r.name("scope", s)
        const where = `scope ${q(s.name)}`
        const f = r.fields(s.value, where, scopeKeys, "a scope is a map with an optional description, recipients, recipients_file and rotate_every, or empty: github: {}")
        const d = f.get("description")
        const scope: Scope = d?.value ? { name: s.name, description: r.string(d, label(where, d.name)) } : { name: s.name }
        const list = f.get("recipients")
        if (list) {
            const hint = "recipients is a list of age public keys: recipients: [age1…] (a teammate's, from age-keygen -y)"
            scope.recipients = r.items(list, label(where, "recipients"), hint).map(i => {
                const v = r.string(i, `${where}: each of "recipients"`, hint).trim()
                if (!ageRecipient.test(v)) r.fail(i.at, `${where}: ${q(v)} is not an age public key`, hint)
                return v
            })
        }
        const file = f.get("recipients_file")
        if (file) scope.recipientsFile = resolve(folder, expand(r.string(file, label(where, "recipients_file")), home))
        const every = f.get("rotate_every")
        if (every) scope.rotateEvery = ms(r, every, label(where, "rotate_every"), {})
        scopes.set(s.name, scope)
    }
    return scopes
}

// an age public key: X25519 (age1…) or post-quantum (age1pq1…), bech32's lowercase alphabet
const ageRecipient = /^age1(?:pq1)?[02-9ac-hj-np-z]{20,}$/
