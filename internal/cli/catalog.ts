// doctor's checks over the tools serve last listed (the catalog cache): names and poisoning markers

import type * as config from "../config/index.ts"
import type * as downstream from "../downstream/index.ts"
import * as gateway from "../gateway/index.ts"
import type * as redact from "../redact/index.ts"
import type * as secrets from "../secrets/index.ts"
import { q, type Finding } from "./finding.ts"
import { only } from "./tools.ts"

/**
 * A prefix-less server that lists a name in another server's namespace (`github__emit`): serve
 * leaves it out, since a route for `github__*` would hand that server github's scope. Told from
 * the gateway's own naming tables over the catalogs serve cached: nothing starts, nothing is
 * decrypted, and a server never listed yet is not judged.
 */
export async function checkNames(c: config.Config, vault: secrets.Vault, catalogs: Map<string, downstream.Catalog>, registry: redact.Registry, log: downstream.Logger, findings: Finding[]): Promise<void> {
    // not judged is not "fine": a prefix-less server squatting another's names shows only once listed
    for (const s of c.servers.values()) {
        if (s.prefix || catalogs.has(s.name)) continue
        findings.push({
            level: "warning", message: `the tool names of server ${JSON.stringify(s.name)} (prefix: false) are not checked: its tools were never listed`,
            fix: "list them with: mcplexer tools refresh (it starts each server once), then run doctor again",
        })
    }
    if (![...catalogs.keys()].some(n => c.servers.get(n)?.prefix === false)) return
    const gw = gateway.create({ config: only(c, catalogs.keys()), vault, registry, log, env: process.env })
    try {
        await gw.tools()
        for (const line of gw.collisions()) {
            const m = / of server ("[^"]+") is left out: /.exec(line)
            if (m === null) continue
            findings.push({
                level: "error", message: line,
                fix: `set prefix: true on server ${m[1] ?? ""} in ${c.file} (its tools become <server>__<name>), or have the server rename the tool`,
            })
        }
    } finally {
        await gw.close()
    }
}

/**
 * Poisoning markers in the tools serve last listed (hidden characters, text aimed at the model:
 * gateway/flags.ts), from the catalog cache: nothing starts. A flag warns; pins and switches act.
 */
export function checkFlags(c: config.Config, catalogs: Map<string, downstream.Catalog>, findings: Finding[]): void {
    for (const [server, cat] of catalogs) {
        const s = c.servers.get(server)
        for (const t of cat.tools) {
            const name = s?.prefix === false ? t.name : `${server}__${t.name}`
            for (const f of gateway.flags(t)) {
                findings.push({
                    level: "warning", message: `tool ${q(name)} of server ${q(server)} has ${f.found} in its ${f.field}`,
                    fix: `read it with: mcplexer tools --json; switch it off with: mcplexer tools disable ${name}`,
                })
            }
        }
    }
}
