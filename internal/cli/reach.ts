// doctor's checks that a server can be started or reached: its command, folder and url

import { accessSync, constants, statSync } from "node:fs"
import { delimiter, isAbsolute, join, resolve } from "node:path"
import * as config from "../config/index.ts"
import { q, type Finding } from "./finding.ts"
import { message } from "./output.ts"

/** A stdio command must be found the way spawn finds it: on the server's PATH, or at its path. */
export function checkCommand(s: config.StdioServer, file: string, findings: Finding[]): void {
    const cmd = s.command
    const fix = `install it, or give its absolute path as the command of server ${q(s.name)} in ${file}`
    if (cmd.includes("/")) {
        const cwd = s.cwd !== undefined && !s.cwd.includes("${") ? s.cwd : process.cwd()
        const full = isAbsolute(cmd) ? cmd : resolve(cwd, cmd)
        const why = runnable(full)
        if (why) findings.push({ level: "error", message: `server ${q(s.name)}: command ${q(cmd)} ${why}`, fix })
    } else {
        const path = plain(s.env.PATH) ?? process.env.PATH ?? ""
        const found = path.split(delimiter).filter(Boolean).some(dir => runnable(join(dir, cmd)) === undefined)
        if (!found) findings.push({ level: "error", message: `server ${q(s.name)}: command ${q(cmd)} is not found on PATH`, fix })
    }
    if (s.cwd !== undefined && !s.cwd.includes("${")) {
        let dir = false
        try {
            dir = statSync(s.cwd).isDirectory()
        } catch {
            dir = false
        }
        if (!dir) findings.push({ level: "error", message: `server ${q(s.name)}: working folder ${q(s.cwd)} does not exist`, fix: `create it, or fix the cwd of server ${q(s.name)} in ${file}` })
    }
}

/** Why a path cannot be run, or undefined when it can. */
function runnable(path: string): string | undefined {
    let st
    try {
        st = statSync(path)
    } catch {
        return "does not exist"
    }
    if (!st.isFile()) return "is not a file"
    try {
        accessSync(path, constants.X_OK)
    } catch {
        return "is not executable"
    }
    return undefined
}

/** A remote url must parse once its references are filled in, and speak http(s). */
export function checkUrl(s: config.RemoteServer, file: string, findings: Finding[]): void {
    let text: string
    try {
        // placeholders stand in for references: only the shape of the url is checked, never a value
        text = config.template(s.url).map(p => typeof p === "string" ? p : "x").join("")
    } catch {
        return // reported with the references
    }
    let u: URL | undefined
    try {
        u = new URL(text)
    } catch {
        u = undefined
    }
    if (u === undefined || (u.protocol !== "http:" && u.protocol !== "https:")) {
        findings.push({ level: "error", message: `server ${q(s.name)}: url ${q(s.url)} is not an http(s) URL`, fix: `write the full URL of its MCP endpoint in ${file}, e.g. https://example.com/mcp` })
    }
}

/** A value with no references, as it reaches the child. */
function plain(v: string | undefined): string | undefined {
    return v === undefined || v.includes("${") ? undefined : v
}

/** How long doctor waits for a remote server to answer. */
const reachTimeout = 5000

/**
 * Each remote server's URL must answer: any HTTP status will do (401 or 405 included), since it
 * shows the address is right and something listens. A URL with references is left out: doctor
 * never decrypts. A warning, not an error: the network may be down for a moment.
 */
export async function checkReach(c: config.Config, findings: Finding[]): Promise<void> {
    const remotes = [...c.servers.values()].filter(s => s.kind === "remote" && !s.url.includes("${"))
    await Promise.all(remotes.map(async s => {
        const url = (s as config.RemoteServer).url
        try {
            const r = await fetch(url, { method: "GET", redirect: "manual", signal: AbortSignal.timeout(reachTimeout) })
            await r.body?.cancel()
        } catch (e) {
            const cause = (e as { cause?: { code?: string } }).cause?.code
            const why = (e as Error).name === "TimeoutError" ? `no answer within ${reachTimeout / 1000} s` : cause ?? message(e)
            findings.push({ level: "warning", message: `server ${q(s.name)}: url ${q(url)} does not answer (${why})`, fix: `check the address and your network, or that the server runs` })
        }
    }))
}
