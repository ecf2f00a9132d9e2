// doctor's checks of the setup every command needs: home folder, config file, database, key file

import { existsSync, lstatSync, statSync } from "node:fs"
import * as config from "../config/index.ts"
import * as secrets from "../secrets/index.ts"
import * as store from "../store/index.ts"
import { count, hint, octal, type Finding } from "./finding.ts"
import { message } from "./output.ts"

/**
 * The home folder and the config file, as every other command checks them before it starts:
 * false when the config cannot be trusted, so that it is not loaded.
 */
export function checkFiles(paths: config.Paths, findings: Finding[], ok: string[]): boolean {
    const problems = config.guard.problems(paths)
    for (const p of problems) findings.push({ level: "error", message: p.message, fix: p.hint })
    if (!problems.length && existsSync(paths.home)) ok.push(`home folder ${paths.home} (mode ${octal(statSync(paths.home).mode & 0o777)})`)
    return problems.length === 0
}

/** The config file loads: its error, at its line, is a finding. */
export async function loadConfig(paths: config.Paths, findings: Finding[], ok: string[]): Promise<config.Config | undefined> {
    try {
        const c = await config.load(paths.config)
        ok.push(`config ${c.file} loads (${count(c.servers.size, "server")}, ${count(c.scopes.size, "scope")})`)
        return c
    } catch (e) {
        const where = e instanceof config.ConfigError && e.line > 0 ? `${e.file}:${e.line}:${e.col}: ` : ""
        findings.push({ level: "error", message: `${where}${message(e)}`, fix: hint(e) ?? `fix ${paths.config}, or run mcplexer init to write a starter config` })
        return undefined
    }
}

/** The database opens, is whole and is the owner's alone: the vault, or undefined when it cannot be used. */
export function openDatabase(paths: config.Paths, findings: Finding[], ok: string[]): secrets.Vault | undefined {
    if (!existsSync(paths.db)) {
        findings.push({ level: "warning", message: `database ${paths.db} does not exist yet`, fix: "mcplexer init (or the first mcplexer secret put) creates it" })
        return undefined
    }
    let vault: secrets.Vault
    try {
        vault = secrets.open(paths, { actor: "doctor" })
    } catch (e) {
        findings.push({ level: "error", message: `database ${paths.db} cannot be opened: ${message(e)}`, fix: hint(e) ?? `check its owner and permissions (ls -l ${paths.db}); a damaged file can be moved away and the secrets put again` })
        return undefined
    }
    try {
        const check = store.check(vault.store)
        if (check !== "ok") {
            findings.push({ level: "error", message: `database ${paths.db} is damaged: ${String(check)}`, fix: `restore it from a backup, or move it away and put the secrets again` })
            return vault
        }
        const n = vault.list().length
        ok.push(`database ${paths.db} opens (${count(n, "secret")} stored)`)
    } catch (e) {
        findings.push({ level: "error", message: `database ${paths.db} cannot be read: ${message(e)}`, fix: hint(e) ?? `check its owner and permissions (ls -l ${paths.db})` })
        vault.close()
        return undefined
    }
    const mode = statSync(paths.db).mode & 0o777
    if (mode & 0o077) {
        findings.push({ level: "warning", message: `database ${paths.db} is readable by others (mode ${octal(mode)})`, fix: `chmod 600 ${paths.db}` })
    }
    return vault
}

/** The key file exists, is a file of the owner's alone, and is the key the stored secrets are encrypted to. */
export async function checkKey(paths: config.Paths, vault: secrets.Vault | undefined, findings: Finding[], ok: string[]): Promise<void> {
    const stored = vault?.list() ?? []
    let st
    try {
        st = lstatSync(paths.key)
    } catch {
        if (paths.keyExplicit) {
            findings.push({ level: "error", message: `key file ${paths.key} named by MCPLEXER_AGE_KEY does not exist`, fix: `create it with: age-keygen -o ${paths.key}\nor unset MCPLEXER_AGE_KEY to use the key in the mcplexer home folder` })
        } else if (stored.length) {
            findings.push({ level: "error", message: `key file ${paths.key} does not exist, but ${count(stored.length, "secret")} are stored`, fix: `put the key file they were encrypted to back at ${paths.key}, or set MCPLEXER_AGE_KEY to it` })
        } else {
            findings.push({ level: "warning", message: `key file ${paths.key} does not exist yet`, fix: "mcplexer init (or the first mcplexer secret put) creates it" })
        }
        return
    }
    if (st.isSymbolicLink()) {
        findings.push({ level: "error", message: `key file ${paths.key} is a symbolic link`, fix: `replace the link with the file itself, or set MCPLEXER_AGE_KEY to the real path` })
        return
    }
    const mode = st.mode & 0o777
    if (mode & 0o077) {
        findings.push({ level: "error", message: `key file ${paths.key} is readable by others (mode ${octal(mode)})`, fix: `chmod 600 ${paths.key}` })
        return
    }
    let recipient: string
    try {
        // the file exists, so this only reads and checks it; it never creates or decrypts anything
        recipient = (await secrets.init(paths)).recipient
    } catch (e) {
        findings.push({ level: "error", message: message(e), fix: hint(e) ?? `check ${paths.key}` })
        return
    }
    const others = [...new Set(stored.map(e => e.recipient).filter(r => r !== recipient))]
    if (others.length) {
        const n = stored.filter(e => e.recipient !== recipient).length
        findings.push({
            level: "error",
            message: `${count(n, "secret")} in ${paths.db} are encrypted to ${others.join(", ")}, not to the key file ${paths.key} (${recipient})`,
            fix: `set MCPLEXER_AGE_KEY to the key file of ${others[0] ?? ""}`,
        })
        return
    }
    ok.push(`key file ${paths.key} (mode ${octal(mode)}, ${recipient})`)
}
