import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import * as config from "../config/index.ts"
import * as downstream from "../downstream/index.ts"
import * as redact from "../redact/index.ts"
import * as secrets from "../secrets/index.ts"
import { exit, type Output } from "./output.ts"
import { table } from "./secret.ts"

/** What `auth login` and `auth logout` need. */
export interface AuthOptions { paths: config.Paths; server: string; scope?: string }

/** What `auth status` needs. */
export interface AuthStatusOptions { paths: config.Paths; json: boolean }

/**
 * Logs in to an `oauth:` server: its authorization URL is printed and opened with $BROWSER (else
 * the platform's opener); the browser comes back to a one-shot listener on 127.0.0.1; the tokens
 * are stored age-encrypted in the server's scope. Nothing is asked when the stored login works.
 */
export async function login(o: AuthOptions, out: Output): Promise<number> {
    const { target, vault } = await open(o, "auth")
    try {
        const asked = await downstream.login(target, browser(out))
        const st = await (await downstream.provider(target)).provider.status()
        out.info(`${asked ? "logged in to" : "already logged in to"} server ${q(o.server)}${detail(st)}`)
        if (!asked) out.hint(`to log in again: mcplexer auth logout ${o.server}, then mcplexer auth login ${o.server}`)
        return exit.ok
    } finally {
        vault.close()
    }
}

/** Revokes the tokens at the authorization server when it can, then deletes them. */
export async function logout(o: AuthOptions, out: Output): Promise<number> {
    const { target, vault } = await open(o, "auth")
    try {
        const { provider } = await downstream.provider(target)
        const st = await provider.status()
        const r = await provider.logout()
        if (r.error !== undefined) out.warn(`could not revoke the tokens of server ${q(o.server)} at its authorization server: ${r.error}`)
        out.info(`${st.loggedIn ? "logged out of" : "was not logged in to"} server ${q(o.server)}${r.revoked ? " (tokens revoked)" : ""}`)
        return exit.ok
    } finally {
        vault.close()
    }
}

/** Each `oauth:` server: logged in or not, until when, with which scopes; never a token. */
export async function status(o: AuthStatusOptions, out: Output): Promise<number> {
    const c = await config.load(o.paths.config)
    const servers = [...c.servers.values()].filter((s): s is config.RemoteServer => s.kind === "remote" && s.oauth !== undefined)
    // no database yet: nobody logged in; opening it would create it
    const vault = existsSync(o.paths.db) ? secrets.open(o.paths, { actor: "auth" }) : undefined
    const registry = redact.create()
    try {
        const rows = []
        for (const s of servers) {
            const scope = s.scope ?? ""
            const machine = s.oauth?.grant === "client_credentials"
            const st = vault === undefined ? { loggedIn: false, refreshable: false }
                : await (await downstream.provider({ server: s, vault, registry, env: process.env })).provider.status()
            rows.push({
                server: s.name, scope, grant: machine ? "client_credentials" : "authorization_code",
                loggedIn: st.loggedIn, refreshable: st.refreshable,
                ...(st.expiresAt === undefined ? {} : { expiresAt: st.expiresAt.toISOString() }),
                ...(st.scopes === undefined ? {} : { scopes: st.scopes }),
            })
        }
        if (o.json) {
            out.out(JSON.stringify(rows, null, 2) + "\n")
            return exit.ok
        }
        if (rows.length === 0) {
            out.info(`no server in ${c.file} logs in with oauth`)
            out.hint("add oauth: {} to a remote server (one with a url and a scope)")
            return exit.ok
        }
        out.out(table(["SERVER", "SCOPE", "LOGIN", "EXPIRES", "SCOPES"], rows.map(r => [
            r.server, r.scope,
            r.loggedIn ? "logged in" : r.grant === "client_credentials" ? "on first use" : "missing",
            r.expiresAt ?? "-", r.scopes?.join(" ") || "-",
        ])))
        for (const r of rows) if (!r.loggedIn && r.grant !== "client_credentials") out.hint(`mcplexer auth login ${r.server}`)
        return exit.ok
    } finally {
        vault?.close()
    }
}

async function open(o: AuthOptions, actor: string) {
    const c = await config.load(o.paths.config)
    const s = c.servers.get(o.server)
    if (s === undefined) {
        throw config.hinted(`unknown server ${q(o.server)}`, `servers in ${c.file}: ${[...c.servers.keys()].join(", ") || "none"}`)
    }
    if (s.kind !== "remote" || s.oauth === undefined) {
        throw config.hinted(`server ${q(o.server)} does not log in with oauth`, `add oauth: {} to server ${q(o.server)} in ${c.file} (a remote server with a scope)`)
    }
    if (o.scope !== undefined && !c.scopes.has(o.scope)) {
        throw config.hinted(`scope ${q(o.scope)} is not declared`, `declared scopes: ${[...c.scopes.keys()].join(", ") || "none"}`)
    }
    const vault = secrets.open(o.paths, { actor, create: true })
    const registry = redact.create()
    const target: downstream.Target = { server: s, vault, registry, env: process.env, ...(o.scope === undefined ? {} : { scope: o.scope }) }
    return { target, vault }
}

/**
 * Shows a login link in the terminal: always printed (stderr), and opened with $BROWSER when set,
 * else the platform's opener; a browser that cannot start is only a warning, the link stays. The
 * link is the login's one-shot start link on 127.0.0.1 (downstream checks the authorization URL);
 * anything but https, or http to this machine, is refused here too, since an opener runs any scheme.
 */
export function browser(out: Output): downstream.oauth.Present {
    return async (url, server, at) => {
        downstream.oauth.checkLink(url, server)
        out.info(`to log in to server ${q(server)}${at === undefined ? "" : ` (at ${at})`}, open:\n  ${url.href}`)
        const [cmd, args] = opener(url.href)
        await new Promise<void>(done => {
            const p = spawn(cmd, args, { stdio: "ignore", detached: process.platform !== "win32" })
            p.once("error", e => {
                out.warn(`could not open a browser (${cmd}: ${e.message}); open the link above yourself`)
                done()
            })
            p.once("spawn", () => {
                p.unref()
                done()
            })
        })
    }
}

function opener(url: string): [string, string[]] {
    const b = process.env.BROWSER
    if (b !== undefined && b !== "") return [b, [url]]
    if (process.platform === "darwin") return ["open", [url]]
    if (process.platform === "win32") return ["rundll32", ["url.dll,FileProtocolHandler", url]]
    return ["xdg-open", [url]]
}

function detail(st: { expiresAt?: Date; scopes?: string[] }): string {
    const parts = [
        ...(st.expiresAt === undefined ? [] : [`expires ${st.expiresAt.toISOString()}`]),
        ...(st.scopes === undefined || st.scopes.length === 0 ? [] : [`scopes ${st.scopes.join(" ")}`]),
    ]
    return parts.length ? ` (${parts.join(", ")})` : ""
}

function q(s: string): string {
    return JSON.stringify(s)
}
