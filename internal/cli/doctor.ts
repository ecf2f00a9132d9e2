import type * as config from "../config/index.ts"
import * as redact from "../redact/index.ts"
import { checkNames, checkFlags } from "./catalog.ts"
import { count, type Finding } from "./finding.ts"
import { exit, type Output } from "./output.ts"
import { checkReach } from "./reach.ts"
import { checkArgs, checkServers } from "./servers.ts"
import { checkFiles, checkKey, loadConfig, openDatabase } from "./setup.ts"
import { checkExpiry, checkLogins, checkShares, checkShort } from "./stored.ts"
import { cachedCatalogs } from "./tools.ts"

export type { Finding } from "./finding.ts"

/** What `doctor` needs. */
export interface DoctorOptions { paths: config.Paths; json?: boolean }

/**
 * Checks the setup without starting a server or decrypting anything: the config, the key file
 * and its permissions, the database, the secrets the servers refer to, the commands of stdio
 * servers and the URLs of remote ones. Prints each finding with its fix; exit 1 when any is an error.
 */
export async function doctor(o: DoctorOptions, out: Output): Promise<number> {
    const findings: Finding[] = []
    const ok: string[] = []
    const c = checkFiles(o.paths, findings, ok) ? await loadConfig(o.paths, findings, ok) : undefined
    const vault = openDatabase(o.paths, findings, ok)
    try {
        await checkKey(o.paths, vault, findings, ok)
        await checkShort(vault, findings)
        if (c) checkServers(c, vault, findings, ok)
        if (c) checkLogins(c, vault, findings)
        if (c) checkArgs(c, findings)
        if (c && vault) {
            const quiet = () => { /* nothing is started; what the tables refuse comes back as findings */ }
            const log = { debug: quiet, info: quiet, warn: quiet, error: quiet }
            const registry = redact.create()
            const catalogs = await cachedCatalogs(c, vault, registry, log)
            await checkNames(c, vault, catalogs, registry, log, findings)
            checkFlags(c, catalogs, findings)
        }
        if (c && vault) checkShares(c, vault, findings)
        if (vault) checkExpiry(c, vault, findings)
        if (c) await checkReach(c, findings)
    } finally {
        vault?.close()
    }
    const errors = findings.filter(f => f.level === "error").length
    if (o.json) {
        out.out(`${JSON.stringify({ ok, findings, errors, warnings: findings.length - errors })}\n`)
        return errors ? exit.error : exit.ok
    }
    for (const line of ok) out.info(`ok: ${line}`)
    for (const f of findings) {
        if (f.level === "error") out.error(f.message)
        else out.warn(f.message)
        if (f.fix) out.hint(f.fix)
    }
    const warnings = findings.length - errors
    if (findings.length === 0) out.info("no problems found")
    else out.info(`${count(errors, "error")}, ${count(warnings, "warning")}`)
    return errors ? exit.error : exit.ok
}
