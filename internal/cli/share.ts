/**
 * Sharing a scope: `secret reencrypt` (the rows in line with the recipients the config declares),
 * `secret export` (one age file of a scope's values, which Go's age opens) and `secret import`.
 */
import { readFileSync } from "node:fs"
import * as config from "../config/index.ts"
import * as secrets from "../secrets/index.ts"
import { UsageError, exit, type Output } from "./output.ts"
import { declared } from "./secret.ts"

/** Which scopes to bring in line (all when none is named). */
export interface ReencryptOptions { paths: config.Paths; scope?: string }

/** Re-encrypts each scope whose rows are not encrypted to its declared recipients. */
export async function reencrypt(o: ReencryptOptions, out: Output): Promise<void> {
    const c = o.scope === undefined ? await config.load(o.paths.config) : await declared(o.paths, o.scope)
    const vault = secrets.open(o.paths, { actor: "cli" })
    try {
        const done = await vault.reencrypt(c, o.scope === undefined ? undefined : [o.scope])
        if (done.length === 0) out.info(o.scope === undefined ? "every scope is encrypted to its declared recipients already" : `scope ${JSON.stringify(o.scope)} is encrypted to its declared recipients already`)
        for (const r of done) {
            const to = r.recipients.length === 0 ? "your key alone" : `your key and ${r.recipients.length} recipient${r.recipients.length === 1 ? "" : "s"} (${r.recipients.join(", ")})`
            out.info(`re-encrypted ${r.count} secret${r.count === 1 ? "" : "s"} of scope ${JSON.stringify(r.scope)} to ${to}`)
        }
    } finally {
        vault.close()
    }
}

/** What to export, to whom, and where. */
export interface ExportOptions {
    paths: config.Paths
    scope: string
    /** age public keys (--to); with `files`, the only recipients. Neither: the scope's and the local identity */
    to: string[]
    /** files of recipients in age's -R format */
    files: string[]
    armor: boolean
    /** the file to write; stdout when undefined */
    output?: string
    /** replace an existing output file */
    force: boolean
}

/** Writes one age file of a scope's current values (see secrets/export.ts for its plaintext). */
export async function exportScope(o: ExportOptions, out: Output): Promise<void> {
    config.checkName("scope", o.scope)
    if (o.output === undefined && out.tty && !o.armor) {
        throw new UsageError("an age file is binary and stdout is a terminal", `write it to a file with -o ${o.scope}.age, or give --armor for text`)
    }
    const { document, encrypt } = await import("../secrets/export.ts")
    const c = await declared(o.paths, o.scope)
    const vault = secrets.open(o.paths, { actor: "cli" })
    let plain: Buffer | undefined
    try {
        const given = [...o.to, ...o.files.flatMap(recipientsFile)]
        const to = given.length > 0 ? [...new Set(given)] : [await vault.recipient(), ...secrets.share.declared(c, o.scope, await vault.recipient())]
        const expires = new Map(vault.list(o.scope).map(e => [e.key, e.expiresAt]))
        if (expires.size === 0) throw config.hinted(`no secrets stored in scope ${JSON.stringify(o.scope)}`, `store one with: mcplexer secret put ${o.scope} <KEY>`, { kind: "missing" })
        const values = await vault.export(o.scope)
        try {
            const items = new Map([...values].map(([k, v]) => {
                const e = expires.get(k)
                return [k, e === null || e === undefined ? { value: v } : { value: v, expires: e }]
            }))
            plain = document(o.scope, items)
        } finally {
            for (const v of values.values()) v.fill(0)
        }
        const file = await encrypt(plain, to, { armor: o.armor })
        if (o.output === undefined) out.out(file)
        else if (o.force) config.atomic.writeOver(o.output, file)
        else if (!config.atomic.writeNew(o.output, file)) {
            throw config.hinted(`${JSON.stringify(o.output)} exists`, "choose another name, or replace it with --force", { kind: "conflict" })
        }
        out.info(`exported ${values.size} secret${values.size === 1 ? "" : "s"} of scope ${JSON.stringify(o.scope)} to ${to.length} recipient${to.length === 1 ? "" : "s"}${o.output === undefined ? "" : ` in ${o.output}`}`)
        out.hint(`open it with: age -d -i <key file> ${o.output ?? "<file>"}, or on another machine: mcplexer secret import ${o.output ?? "<file>"}`)
    } finally {
        plain?.fill(0)
        vault.close()
    }
}

/** Which export file to import, and whether a differing stored value is replaced. */
export interface ImportOptions { paths: config.Paths; file: string; force: boolean }

/**
 * Stores each value of an export file under its scope, which must be declared. A key stored with
 * another value is left alone and reported (exit 1) unless `force`; an equal one is unchanged.
 */
export async function importFile(o: ImportOptions, out: Output): Promise<number> {
    let bytes: Buffer
    try {
        bytes = readFileSync(o.file)
    } catch (e) {
        throw config.hinted(`cannot read ${JSON.stringify(o.file)}: ${why(e)}`, "give the path of a file made by mcplexer secret export", { kind: "missing" })
    }
    // else the decryption's "no identity matched" would send the person asking for another export
    const head = bytes.subarray(0, 64).toString("latin1")
    if (!head.startsWith("age-encryption.org/v1\n") && !head.trimStart().startsWith("-----BEGIN AGE ENCRYPTED FILE-----")) {
        throw config.hinted(`${JSON.stringify(o.file)} is not an age file`, "give the path of a file made by mcplexer secret export (it starts with age-encryption.org/v1, or -----BEGIN AGE ENCRYPTED FILE----- when armored)")
    }
    const { parse } = await import("../secrets/export.ts")
    const vault = secrets.open(o.paths, { actor: "cli", create: true })
    let left = 0
    try {
        const plain = await vault.decrypt(bytes)
        let doc: ReturnType<typeof parse>
        try {
            doc = parse(plain, o.file)
        } finally {
            plain.fill(0)
        }
        try {
            const scope = doc.scope
            config.checkName("scope", scope)
            const c = await config.load(o.paths.config)
            if (!c.scopes.has(scope)) {
                throw config.hinted(`the export holds scope ${JSON.stringify(scope)}, which is not declared in ${o.paths.config}`,
                    `declare it first, under auth_scopes:\n  ${scope}: { description: … }\nthen run the import again`, { kind: "missing" })
            }
            for (const key of doc.items.keys()) config.checkName("key", key)
            const stored = new Set(vault.list(scope).map(e => e.key))
            for (const [key, item] of doc.items) {
                const name = `${scope}/${key}`
                if (stored.has(key)) {
                    const now = await vault.bytes(scope, key)
                    const same = Buffer.compare(now, item.value) === 0
                    now.fill(0)
                    if (same) {
                        out.info(`unchanged ${name}`)
                        continue
                    }
                    if (!o.force) {
                        out.warn(`left ${name} alone: the stored value differs from the export's`)
                        left++
                        continue
                    }
                }
                await vault.put(scope, key, item.value, item.expires === undefined ? {} : { expires: item.expires })
                out.info(stored.has(key) ? `replaced ${name}` : `added ${name}`)
            }
            if (left > 0) out.hint(`to replace ${left === 1 ? "it" : "them"} with the export's: mcplexer secret import ${o.file} --force`)
        } finally {
            for (const it of doc.items.values()) it.value.fill(0)
        }
    } finally {
        vault.close()
    }
    return left > 0 ? exit.error : exit.ok
}

/**
 * The recipients in a file given with -R, age's format. It is the person's own file, not the
 * scope's `recipients_file`, so its errors name the flag; and a file with no key in it is an
 * error, as in age, rather than a quiet fallback to the scope's default recipients.
 */
function recipientsFile(path: string): string[] {
    try {
        readFileSync(path)
    } catch (e) {
        throw config.hinted(`cannot read the recipients file ${JSON.stringify(path)} given with -R: ${why(e)}`, "give a file of age public keys, one a line (age -R format; # comments allowed)", { kind: "missing" })
    }
    const keys = secrets.share.file(path, "")
    if (keys.length === 0) throw config.hinted(`the recipients file ${JSON.stringify(path)} given with -R holds no age public key`, "add one age1… key a line (age-keygen -y prints it), or leave -R out to export to the scope's recipients and you")
    return keys
}

/** A file error in words: "no such file" rather than ENOENT. */
function why(e: unknown): string {
    const code = (e as NodeJS.ErrnoException).code
    return code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "it is a folder" : code ?? String(e)
}
