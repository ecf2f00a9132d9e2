import { readlinkSync, realpathSync } from "node:fs"
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path"
import { fileURLToPath } from "node:url"
import picomatch from "picomatch"
import * as config from "../config/index.ts"

/** A tool as the client sees it, with what the policy needs to know of it. */
export interface Tool {
    /** the exposed name, e.g. github__create_issue */
    name: string
    /** the server that exposes it */
    server: string
    /** true when the tool carries the readOnlyHint annotation */
    readOnly: boolean
}

/** What the policy decided for one tool in one session, and why. */
export interface Decision {
    tool: string
    action: "allow" | "deny"
    /** the server the call goes to (a route may send it to another one than the one that exposes it) */
    server: string
    /** the scope the server instance runs with (undefined: none) */
    scope: string | undefined
    /** the workspace whose route decided ("" when no route did) */
    workspace: string
    /** "acme#2" (route 2 of workspace acme), or "default" */
    route: string
    /** whether a person must approve the call (approval all, or write on a tool without readOnlyHint) */
    approval: boolean
    /** ms an approval lasts (0: every call asks) */
    lease: number
    /** ms to wait for an answer */
    approvalTimeout: number
    /** scopes besides `scope` that secret://scope/KEY arguments may read */
    scopes: string[]
    /** the workspaces of the session, most specific first */
    chain: string[]
    /** one line per step of the decision, for `mcplexer route` */
    trace: string[]
}

const matchers = new WeakMap<config.Route, (name: string) => boolean>()

function matcher(r: config.Route): (name: string) => boolean {
    let m = matchers.get(r)
    if (m === undefined) matchers.set(r, m = picomatch(r.tools))
    return m
}

/** True when `dir` is `root` or lies below it. */
export function inside(dir: string, root: string): boolean {
    const rel = relative(root, dir)
    return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel))
}

/**
 * Where a folder really is: symbolic links resolved, so a link into a workspace is that
 * workspace, whichever side names it through a link. A path that does not exist (yet) is its
 * deepest existing ancestor resolved, then the rest as written, normalized; a dangling link on the
 * way is followed to where it points.
 */
export function real(path: string): string {
    const abs = resolve(path)
    const rest: string[] = []
    let hops = 0
    for (let head = abs; ;) {
        try {
            return join(realpathSync.native(head), ...rest)
        } catch {
            // a link whose target is not made yet still says where it leads: a root named through
            // one is where its target will be (a deny workspace), not beside the link
            const to = hops < 40 ? link(head) : undefined
            if (to !== undefined) {
                hops++
                // relative to where the link's folder really is, as the kernel reads it
                head = isAbsolute(to) ? to : resolve(real(dirname(head)), to)
                continue
            }
            const up = dirname(head)
            if (up === head) return abs
            rest.unshift(basename(head))
            head = up
        }
    }
}

function link(path: string): string | undefined {
    try {
        return readlinkSync(path)
    } catch {
        return undefined
    }
}

/**
 * The folders a client's roots name, each where it really is (`real`). A root that is not a
 * file:// URI of a local absolute path (another scheme, a host, an encoded "/" or NUL) is an
 * error naming it, never skipped: skipping it would decide with the other roots, or with serve's
 * folder, where a workspace the root lies in may deny.
 */
export function folders(uris: string[]): string[] {
    return uris.map(u => {
        let path: string
        try {
            path = fileURLToPath(u)
        } catch (e) {
            throw unreadable(u, e instanceof Error ? e.message : String(e))
        }
        if (path.includes("\0")) throw unreadable(u, "the path holds a NUL character")
        if (!isAbsolute(path)) throw unreadable(u, "the path is not absolute")
        return real(path)
    })
}

function unreadable(uri: string, why: string): config.Hinted {
    const shown = uri.length > 200 ? `${uri.slice(0, 200)}…` : uri
    return config.hinted(`the client's root ${JSON.stringify(shown)} is not a local folder mcplexer can read (${why}), so it cannot tell which workspace applies`,
        "list roots as file:///absolute/path URIs, without a host; nothing is allowed until the roots can be read", { kind: "input" })
}

/**
 * The workspaces whose root contains one of the session's folders, most specific (longest root)
 * first. With several folders, every workspace that contains any of them is in the chain. Both
 * sides are compared where they really are (`real`): `dirs` already are, workspace roots are
 * resolved here, each time, so a link made after the config was loaded counts too.
 */
export function chain(c: config.Config, dirs: string[]): config.Workspace[] {
    const found: Array<{ w: config.Workspace; root: string }> = []
    for (const w of c.workspaces.values()) {
        const root = real(w.root)
        if (dirs.some(d => inside(d, root))) found.push({ w, root })
    }
    found.sort((a, b) => b.root.length - a.root.length || (a.w.name < b.w.name ? -1 : a.w.name > b.w.name ? 1 : 0))
    return found.map(x => x.w)
}

function q(s: string): string {
    return JSON.stringify(s)
}

/**
 * Decides one tool for a chain of workspaces: within a workspace the first route whose `tools`
 * match wins; if none matches, the next workspace up the chain is asked; if none does, the call
 * goes to the exposing server with its own scope and is allowed, unless the config says
 * `default: deny`.
 */
export function decide(c: config.Config, ws: config.Workspace[], t: Tool): Decision {
    const trace: string[] = []
    const names = ws.map(w => w.name)
    for (const w of ws) {
        for (const [i, r] of w.routes.entries()) {
            const where = `route ${i + 1} of workspace ${q(w.name)}`
            if (!matcher(r)(t.name)) {
                trace.push(`${where} does not match: tools ${r.tools.map(q).join(", ")}`)
                continue
            }
            const server = r.server ?? t.server
            const scope = r.scope ?? c.servers.get(server)?.scope
            const approval = r.action === "allow" && (r.approval === "all" || (r.approval === "write" && !t.readOnly))
            trace.push(`${where} matches: tools ${r.tools.map(q).join(", ")}`)
            return {
                tool: t.name, action: r.action, server, scope, workspace: w.name, route: `${w.name}#${i + 1}`,
                approval, lease: r.lease, approvalTimeout: r.approvalTimeout, scopes: r.scopes, chain: names, trace,
            }
        }
        trace.push(w.routes.length === 0
            ? `workspace ${q(w.name)} has no routes: the next workspace up decides`
            : `no route of workspace ${q(w.name)} matches: the next workspace up decides`)
    }
    trace.push(c.default === "deny"
        ? "no route matches and the config says default: deny"
        : "no route matches: the server's own scope applies (default: allow)")
    return {
        tool: t.name, action: c.default, server: t.server, scope: c.servers.get(t.server)?.scope, workspace: "", route: "default",
        approval: false, lease: 0, approvalTimeout: 0, scopes: [], chain: names, trace,
    }
}

/** One line saying where a decision came from: `route 2 of workspace "acme"` or `the default`. */
export function origin(d: Decision): string {
    if (d.route === "default") return "the default"
    const n = d.route.slice(d.route.lastIndexOf("#") + 1)
    return `route ${n} of workspace ${q(d.workspace)}`
}
