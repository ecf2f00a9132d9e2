// doctor's checks of each configured server: its references, secrets and arguments

import * as config from "../config/index.ts"
import type * as secrets from "../secrets/index.ts"
import { count, q, type Finding } from "./finding.ts"
import { checkCommand, checkUrl } from "./reach.ts"
import { refs, storedNames } from "./status.ts"

/**
 * Each server's references (secrets stored, scopes declared, variables set) and its command or
 * url; a missing secret is one finding naming every server that needs it.
 */
export function checkServers(c: config.Config, vault: secrets.Vault | undefined, findings: Finding[], ok: string[]): void {
    const stored = storedNames(vault)
    const scopes = new Set([...stored].map(n => n.slice(0, n.indexOf("/"))))
    // a missing secret is one finding, naming every server that needs it
    const needs = new Map<string, { scope: string; key: string; servers: string[] }>()
    const empty = new Map<string, string[]>()
    let clean = 0
    for (const s of c.servers.values()) {
        const before = findings.length
        const r = refs(s)
        for (const p of r.problems) findings.push({ level: "error", message: p.message, fix: p.hint || `fix server ${q(s.name)} in ${c.file}` })
        for (const n of r.secrets) {
            if (!c.scopes.has(n.scope)) {
                findings.push({ level: "error", message: `server ${q(s.name)} uses scope ${q(n.scope)}, which is not declared`, fix: `add it under auth_scopes in ${c.file}` })
                continue
            }
            if (stored.has(`${n.scope}/${n.key}`)) continue
            const id = `${n.scope}/${n.key}`
            const need = needs.get(id) ?? { scope: n.scope, key: n.key, servers: [] }
            need.servers.push(s.name)
            needs.set(id, need)
        }
        // a scope whose every key is injected: nothing stored is no error, but is rarely meant
        const injects = s.kind === "stdio" || s.inject === "headers"
        if (s.scope !== undefined && injects && !scopes.has(s.scope)) {
            const l = empty.get(s.scope) ?? []
            l.push(s.name)
            empty.set(s.scope, l)
        }
        for (const name of r.env) {
            if (process.env[name] !== undefined) continue
            findings.push({ level: "warning", message: `server ${q(s.name)} refers to \${env:${name}}, which is not set here`, fix: `set ${name} in the environment mcplexer serve runs in (your AI client's config), or remove the reference` })
        }
        if (s.kind === "stdio") checkCommand(s, c.file, findings)
        else checkUrl(s, c.file, findings)
        if (findings.length === before) clean++
    }
    for (const n of needs.values()) {
        findings.push({
            level: "error",
            message: `secret ${q(`${n.scope}/${n.key}`)} is not stored (needed by ${n.servers.length > 1 ? "servers" : "server"} ${n.servers.map(q).join(", ")})`,
            fix: `mcplexer secret put ${n.scope} ${n.key}`,
        })
    }
    for (const [scope, servers] of empty) {
        // the missing secret of that scope is already reported, with its exact fix
        if ([...needs.values()].some(n => n.scope === scope)) continue
        findings.push({
            level: "warning",
            message: `scope ${q(scope)} has no stored keys, but ${servers.length > 1 ? "servers" : "server"} ${servers.map(q).join(", ")} ${servers.length > 1 ? "use" : "uses"} it`,
            fix: `store what the server needs with: mcplexer secret put ${scope} <KEY>`,
        })
    }
    if (clean === c.servers.size && clean > 0 && needs.size === 0 && empty.size === 0) ok.push(`${count(clean, "server")} ${clean > 1 ? "look" : "looks"} right`)
}

/**
 * A secret in a command's arguments works, but every local user can read a process's arguments
 * (ps, /proc/PID/cmdline): say so for each one, and point to env, which only the owner can read.
 */
export function checkArgs(c: config.Config, findings: Finding[]): void {
    for (const s of c.servers.values()) {
        if (s.kind !== "stdio") continue
        s.args.forEach((arg, i) => {
            let parts: config.Part[]
            try {
                parts = config.template(arg)
            } catch {
                return // reported with the references
            }
            for (const p of parts) {
                if (typeof p === "string" || !("secret" in p)) continue
                const ref = `\${secret:${p.secret.scope === undefined ? "" : `${p.secret.scope}/`}${p.secret.key}}`
                findings.push({
                    level: "warning",
                    message: `server ${q(s.name)}: argument ${i + 1} holds ${ref}, which every local user can read in ps while it runs`,
                    fix: `pass it in env instead, if the server reads it from there: env: { ${p.secret.key}: "${ref}" }`,
                })
            }
        })
    }
}
