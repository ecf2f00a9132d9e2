import { resolve } from "node:path"
import { declared, maxTimer, ms, type Known } from "./checks.ts"
import { glob, toolsHint } from "./glob.ts"
import { expand } from "./paths.ts"
import { label, q, type Entry, type Item, type Reader } from "./reader.ts"
import type { Route, Workspace } from "./types.ts"

const workspaceKeys = ["root", "routes"]
const routeKeys = ["tools", "server", "scope", "scopes", "action", "approval", "lease", "approval_timeout"]

const hints = {
    workspaces: "workspaces are keyed by name, e.g.\n  workspaces:\n    acme: { root: ~/work/acme, routes: [] }",
    tools: toolsHint,
}

/** The `workspaces` section: each workspace's root, unique among them, and its routes. */
export function readWorkspaces(r: Reader, e: Entry | undefined, k: Known): Map<string, Workspace> {
    const workspaces = new Map<string, Workspace>()
    const roots = new Map<string, string>()
    for (const w of r.entries(e?.value, q("workspaces"), hints.workspaces)) {
        r.name("workspace", w)
        const where = `workspace ${q(w.name)}`
        const f = r.fields(w.value, where, workspaceKeys, "a workspace has a root folder and routes")
        const rootEntry = f.get("root")
        if (!rootEntry) r.fail(w.key, `${where} needs a "root" folder`, "the client's root folder selects the workspace, e.g. root: ~/work/acme")
        const raw = r.string(rootEntry, label(where, "root"), "name a folder, e.g. root: ~/work/acme (a bare ~ is YAML's null: write \"~\")")
        if (!raw.trim()) r.fail(rootEntry.at, `${where}: "root" is empty`, "name a folder, e.g. root: ~/work/acme")
        if (/^~[^/]/.test(raw)) r.fail(rootEntry.at, `${where}: only "~" and "~/" are expanded in "root"`, "write the folder as ~/… or as an absolute path")
        const root = resolve(k.folder, expand(raw, k.home))
        const other = roots.get(root)
        if (other !== undefined) {
            r.fail(rootEntry.at, `${where} has the same root as workspace ${q(other)}`, "a folder selects one workspace: merge their routes, or give one a more specific root")
        }
        roots.set(root, w.name)

        const routes: Route[] = []
        const list = f.get("routes")
        const items = list ? r.items(list, label(where, "routes"), "routes is a list: routes: [{ tools: [\"github__*\"], scope: github-acme }]") : []
        items.forEach((item, i) => routes.push(readRoute(r, item, `route ${i + 1} of ${where}`, k)))
        workspaces.set(w.name, { name: w.name, root, routes })
    }
    return workspaces
}

function readRoute(r: Reader, item: Item, where: string, k: Known): Route {
    const f = r.fields(item.value, where, routeKeys, "a route is a map, e.g. { tools: [\"github__*\"], scope: github-acme }")
    const tools = f.get("tools")
    if (!tools) r.fail(item.at, `${where} needs "tools"`, hints.tools)
    const patterns = r.items(tools, label(where, "tools"), hints.tools).map(t => glob(r, t, where))
    if (!patterns.length) r.fail(tools.at, `${where}: "tools" is empty`, hints.tools)

    const route: Route = { tools: patterns, action: "allow", approval: "none", lease: 600_000, approvalTimeout: 300_000, scopes: [] }
    const server = f.get("server")
    if (server) {
        route.server = r.string(server, label(where, "server"))
        declared(r, server.at, `${where}: server ${q(route.server)} is not declared`, route.server, k.servers, "servers")
    }
    const scope = f.get("scope")
    if (scope) {
        route.scope = r.string(scope, label(where, "scope"))
        declared(r, scope.at, `${where}: scope ${q(route.scope)} is not declared`, route.scope, k.scopes, "auth_scopes")
    }
    const scopes = f.get("scopes")
    if (scopes) {
        for (const s of r.items(scopes, label(where, "scopes"), "scopes is a list of scope names: scopes: [github-acme]")) {
            const name = r.string(s, `${where}: each of "scopes"`)
            declared(r, s.at, `${where}: scope ${q(name)} is not declared`, name, k.scopes, "auth_scopes")
            route.scopes.push(name)
        }
    }
    const action = f.get("action")
    if (action) route.action = r.choice(action, label(where, "action"), ["allow", "deny"])
    const approval = f.get("approval")
    if (approval) route.approval = r.choice(approval, label(where, "approval"), ["none", "write", "all"])
    const lease = f.get("lease")
    if (lease) route.lease = ms(r, lease, label(where, "lease"), { zero: true })
    const timeout = f.get("approval_timeout")
    if (timeout) route.approvalTimeout = ms(r, timeout, label(where, "approval_timeout"), { max: maxTimer })
    return route
}
