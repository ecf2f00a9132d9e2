import assert from "node:assert/strict"
import { mkdir, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { test } from "node:test"
import * as config from "../../internal/config/index.ts"
import { temp } from "../helpers.ts"

/** Writes `text` as config.yaml in a fresh folder and loads it. */
async function load(text: string, env: NodeJS.ProcessEnv = { HOME: "/home/u" }): Promise<config.Config> {
    const dir = temp()
    const file = join(dir, "config.yaml")
    await writeFile(file, text)
    return config.load(file, { env })
}

/** Loads `text`, expecting a ConfigError, and returns it with its position as "line:col". */
async function fails(text: string): Promise<config.ConfigError & { at: string }> {
    try {
        await load(text)
    } catch (e) {
        assert.ok(e instanceof config.ConfigError, `not a ConfigError: ${String(e)}`)
        assert.match(e.file, /config\.yaml$/)
        assert.ok(e.hint.length > 0, "an error always carries a hint")
        assert.doesNotMatch(e.message, /\.$|^[A-Z]/, "lowercase, no trailing period")
        return Object.assign(e, { at: `${e.line}:${e.col}` })
    }
    assert.fail("config loaded without an error")
}

const stdio = (lines: string) => `servers:\n  s:\n    command: npx\n${lines}`
const remote = (lines: string) => `servers:\n  r:\n    url: https://example.com/mcp\n${lines}`
const routes = (lines: string) => `auth_scopes:\n  gh: {}\nservers:\n  github: { command: npx }\nworkspaces:\n  w:\n    root: /w\n    routes:\n${lines}`

test("an empty file is an empty config with defaults", async () => {
    for (const text of ["", "{}\n", "# nothing yet\n", "auth_scopes:\nservers:\nworkspaces:\n"]) {
        const c = await load(text)
        assert.equal(c.scopes.size, 0)
        assert.equal(c.servers.size, 0)
        assert.equal(c.workspaces.size, 0)
        assert.equal(c.default, "allow")
        assert.deepEqual(c.audit, { retentionDays: 90 })
        assert.match(c.file, /^\/.*config\.yaml$/)
    }
})

test("a missing file is a ConfigError that suggests mcplexer init", async () => {
    const dir = temp()
    await assert.rejects(config.load(join(dir, "config.yaml")), (e: unknown) => {
        assert.ok(e instanceof config.ConfigError)
        assert.equal(e.file, join(dir, "config.yaml"))
        assert.equal(e.line, 0)
        assert.match(e.message, /not found/)
        assert.match(e.hint, /mcplexer init/)
        return true
    })
})

test("a YAML syntax error is reported at its position", async () => {
    const e = await fails("auth_scopes:\n  gh: {}\n  gh: {}\n")
    assert.equal(e.at, "3:3")
    assert.equal(e.message, "map keys must be unique")
    assert.match(e.hint, /only once/)
    const tab = await fails("servers:\n  s:\n\tcommand: npx\n")
    assert.equal(tab.at, "3:1")
    assert.match(tab.hint, /spaces, not tabs/)
    const flow = await fails("servers: { s: { command: npx }\n")
    assert.equal(flow.at, "2:1")
})

test("an unknown YAML tag is an error, not ignored", async () => {
    const e = await fails("default: !deny allow\n")
    assert.equal(e.at, "1:10")
    assert.match(e.message, /unresolved tag/)
})

test("a config that is not a map is refused", async () => {
    const e = await fails("- servers\n")
    assert.equal(e.at, "1:1")
    assert.equal(e.message, "the config must be a map")
})

test("an unknown top-level key is an error with a did-you-mean hint", async () => {
    const e = await fails("auth_scopes: {}\nserverz:\n  s: { command: npx }\n")
    assert.equal(e.at, "2:1")
    assert.equal(e.message, 'unknown top-level key "serverz"')
    assert.equal(e.hint, 'did you mean "servers"?')
})

test("other tools' key names point to ours", async () => {
    assert.equal((await fails("mcpServers: {}\n")).hint, 'did you mean "servers"?')
    assert.equal((await fails(stdio("    idleTimeout: 5m\n"))).hint, 'did you mean "idle_timeout"?')
    assert.equal((await fails(stdio("    environment: {}\n"))).hint, 'did you mean "env"?')
    assert.equal((await fails(stdio("    evn: {}\n"))).hint, 'did you mean "env"?')
})

test("an unknown key in a server is an error at the key", async () => {
    const e = await fails(stdio("    agrs: [-y]\n"))
    assert.equal(e.at, "4:5")
    assert.equal(e.message, 'unknown key "agrs" in server "s"')
    assert.equal(e.hint, 'did you mean "args"?')
})

test("an unknown key far from any known one lists the known keys", async () => {
    const e = await fails("audit:\n  keep: 30d\n")
    assert.equal(e.at, "2:3")
    assert.equal(e.message, 'unknown key "keep" in "audit"')
    assert.equal(e.hint, "known keys here: retention")
})

test("unknown keys in scopes, workspaces and routes are errors", async () => {
    const scope = await fails("auth_scopes:\n  gh: { descripton: x }\n")
    assert.equal(scope.at, "2:9")
    assert.equal(scope.hint, 'did you mean "description"?')
    const ws = await fails("workspaces:\n  w:\n    root: /w\n    route: []\n")
    assert.equal(ws.at, "4:5")
    assert.equal(ws.message, 'unknown key "route" in workspace "w"')
    assert.equal(ws.hint, 'did you mean "routes"?')
    const route = await fails(routes("      - tools: [a]\n        actoin: deny\n"))
    assert.equal(route.at, "10:9")
    assert.equal(route.message, 'unknown key "actoin" in route 1 of workspace "w"')
    assert.equal(route.hint, 'did you mean "action"?')
})

test("auth scopes may be empty, null or carry a description", async () => {
    const c = await load("auth_scopes:\n  a: {}\n  b:\n  c: { description: the c scope }\n  d: ~\n")
    assert.deepEqual([...c.scopes.values()], [
        { name: "a" }, { name: "b" }, { name: "c", description: "the c scope" }, { name: "d" },
    ])
})

test("a scope description must be a string", async () => {
    const e = await fails("auth_scopes:\n  a: { description: [x] }\n")
    assert.equal(e.at, "2:21")
    assert.equal(e.message, 'scope "a": "description" must be a string')
})

test("sections must be maps keyed by name", async () => {
    const e = await fails("auth_scopes: [gh, acme]\n")
    assert.equal(e.at, "1:14")
    assert.equal(e.message, '"auth_scopes" must be a map')
    assert.match(e.hint, /keyed by name/)
})

test("invalid names are reported at the name with the allowed characters", async () => {
    const server = await fails("servers:\n  git_hub: { command: npx }\n")
    assert.equal(server.at, "2:3")
    assert.equal(server.message, 'invalid server name "git_hub"')
    assert.match(server.hint, /no "_"/)
    const scope = await fails("auth_scopes:\n  ok: {}\n  \"a b\": {}\n")
    assert.equal(scope.at, "3:3")
    assert.equal(scope.message, 'invalid scope name "a b"')
    const ws = await fails("workspaces:\n  -w: { root: /w }\n")
    assert.equal(ws.at, "2:3")
    assert.equal(ws.message, 'invalid workspace name "-w"')
})

test("a name YAML reads as a number keeps its written form", async () => {
    const c = await load("servers:\n  0123: { command: npx }\n")
    assert.ok(c.servers.has("0123"))
})

test("a server with both command and url is refused at the second one", async () => {
    const e = await fails("servers:\n  s:\n    url: https://example.com\n    command: npx\n")
    assert.equal(e.at, "4:5")
    assert.equal(e.message, 'server "s" has both "command" and "url"')
})

test("a server with neither command nor url is refused at its name", async () => {
    const e = await fails("servers:\n  s:\n    args: [-y]\n")
    assert.equal(e.at, "2:3")
    assert.equal(e.message, 'server "s" needs "command" or "url"')
    assert.equal((await fails("servers:\n  s:\n")).at, "2:3")
})

test("a stdio server is read with its defaults", async () => {
    const c = await load("servers:\n  s:\n    command: npx\n")
    assert.deepEqual(c.servers.get("s"), {
        name: "s", kind: "stdio", command: "npx", args: [], env: {}, prefix: true, idleTimeout: 600_000, timeout: 60_000, tools: { disabled: [] }, quarantine: false,
    })
})

test("a remote server is read with its defaults", async () => {
    const c = await load("servers:\n  r:\n    url: https://example.com/mcp\n")
    assert.deepEqual(c.servers.get("r"), {
        name: "r", kind: "remote", url: "https://example.com/mcp", headers: {}, inject: "none", prefix: true, idleTimeout: 600_000, timeout: 60_000, tools: { disabled: [] }, quarantine: false,
    })
})

test("an empty command is refused", async () => {
    const e = await fails("servers:\n  s:\n    command: \"\"\n")
    assert.equal(e.at, "3:14")
    assert.equal(e.message, 'server "s": "command" is empty')
})

test("args must be a list of strings", async () => {
    const notList = await fails(stdio("    args: -y pkg\n"))
    assert.equal(notList.at, "4:11")
    assert.equal(notList.message, 'server "s": "args" must be a list')
    const item = await fails(stdio("    args: [a, {b: c}]\n"))
    assert.equal(item.at, "4:15")
    assert.equal(item.message, 'server "s": each of "args" must be a string')
})

test("numbers and booleans in args and env are kept as written", async () => {
    const c = await load(stdio("    args: [--port, 8080, 0755, true]\n    env: { PORT: 08080, DEBUG: false }\n"))
    const s = c.servers.get("s")
    assert.equal(s?.kind, "stdio")
    assert.deepEqual(s.args, ["--port", "8080", "0755", "true"])
    assert.deepEqual(s.env, { PORT: "08080", DEBUG: "false" })
})

test("env must be a map of strings with variable names", async () => {
    const notMap = await fails(stdio("    env: [A=1]\n"))
    assert.equal(notMap.at, "4:10")
    assert.equal(notMap.message, 'server "s": "env" must be a map')
    const list = await fails(stdio("    env:\n      A: [1]\n"))
    assert.equal(list.at, "5:10")
    assert.equal(list.message, 'server "s": "env.A" must be a string')
    const empty = await fails(stdio("    env:\n      A:\n"))
    assert.equal(empty.at, "5:7")
    assert.match(empty.hint, /\$\{env:A\}/)
    const name = await fails(stdio("    env:\n      A-B: x\n"))
    assert.equal(name.at, "5:7")
    assert.equal(name.message, 'server "s": invalid environment variable name "A-B"')
})

test("headers must be a map of strings with header names", async () => {
    const value = await fails(remote("    headers:\n      X-Team: { a: 1 }\n"))
    assert.equal(value.at, "5:15")
    assert.equal(value.message, 'server "r": "headers.X-Team" must be a string')
    const name = await fails(remote("    headers:\n      \"X Team\": a\n"))
    assert.equal(name.at, "5:7")
    assert.equal(name.message, 'server "r": invalid header name "X Team"')
    const notMap = await fails(remote("    headers: Authorization\n"))
    assert.equal(notMap.at, "4:14")
})

test("stdio-only and remote-only keys are refused on the other kind", async () => {
    const inject = await fails(stdio("    inject: headers\n"))
    assert.equal(inject.at, "4:5")
    assert.equal(inject.message, 'server "s": "inject" applies only to remote servers (with "url")')
    assert.match(inject.hint, /environment variable/)
    const headers = await fails(stdio("    headers: {}\n"))
    assert.equal(headers.at, "4:5")
    const env = await fails(remote("    env: {}\n"))
    assert.equal(env.at, "4:5")
    assert.equal(env.message, 'server "r": "env" applies only to stdio servers (with "command")')
    assert.equal((await fails(remote("    args: []\n"))).at, "4:5")
    assert.equal((await fails(remote("    cwd: /tmp\n"))).at, "4:5")
})

test("inject is none or headers", async () => {
    const c = await load(remote("    inject: headers\n"))
    const r = c.servers.get("r")
    assert.equal(r?.kind === "remote" && r.inject, "headers")
    const e = await fails(remote("    inject: header\n"))
    assert.equal(e.at, "4:13")
    assert.equal(e.message, 'server "r": "inject" must be "none" or "headers"')
    assert.equal(e.hint, 'did you mean "headers"?')
})

test("a server's scope must be declared", async () => {
    const e = await fails("auth_scopes:\n  github: {}\n  linear: {}\nservers:\n  s:\n    command: npx\n    scope: githbu\n")
    assert.equal(e.at, "7:12")
    assert.equal(e.message, 'server "s": scope "githbu" is not declared')
    assert.equal(e.hint, 'did you mean "github"?\ndeclared scopes: github, linear\ndeclare it under auth_scopes')
    const none = await fails(stdio("    scope: gh\n"))
    assert.match(none.hint, /no scopes are declared/)
})

test("prefix is a boolean", async () => {
    const c = await load(stdio("    prefix: false\n"))
    assert.equal(c.servers.get("s")?.prefix, false)
    const e = await fails(stdio("    prefix: \"no\"\n"))
    assert.equal(e.at, "4:13")
    assert.equal(e.message, 'server "s": "prefix" must be true or false')
})

test("server timeouts are durations in ms", async () => {
    const c = await load(stdio("    idle_timeout: 1h30m\n    timeout: 90\n"))
    assert.equal(c.servers.get("s")?.idleTimeout, 5_400_000)
    assert.equal(c.servers.get("s")?.timeout, 90_000)
    const bad = await fails(stdio("    timeout: 10 minutes\n"))
    assert.equal(bad.at, "4:14")
    assert.equal(bad.message, 'server "s": "timeout" must be a duration')
    assert.match(bad.hint, /500ms, 90s, 10m, 1h/)
    const zero = await fails(stdio("    idle_timeout: 0s\n"))
    assert.equal(zero.at, "4:19")
    assert.equal(zero.message, 'server "s": "idle_timeout" must be more than zero')
    const long = await fails(stdio("    timeout: 30d\n"))
    assert.equal(long.at, "4:14")
    assert.equal(long.message, 'server "s": "timeout" is too long')
    assert.equal((await fails(stdio("    timeout: -5\n"))).at, "4:14")
    assert.equal((await fails(stdio("    timeout: [1]\n"))).at, "4:14")
})

test("references are checked in args, env, headers, url and cwd", async () => {
    const arg = await fails(stdio("    args: [\"--token=${oops:X}\"]\n"))
    assert.equal(arg.at, "4:12")
    assert.equal(arg.message, 'server "s": unknown reference "${oops:X}"')
    const env = await fails(stdio("    env:\n      TOKEN: ${secret:a b}\n"))
    assert.equal(env.at, "5:14")
    assert.equal(env.message, 'server "s": invalid key name "a b" in "${secret:a b}"')
    const header = await fails(remote("    headers:\n      Authorization: \"Bearer ${secret:TOKEN\"\n"))
    assert.equal(header.at, "5:22")
    assert.equal(header.message, 'server "r": unterminated reference "${secret:TOKEN"')
    const url = await fails("servers:\n  r:\n    url: https://example.com/${env:}\n")
    assert.equal(url.at, "3:10")
    const cwd = await fails(stdio("    cwd: ${HOME}/x\n"))
    assert.equal(cwd.at, "4:10")
    assert.match(cwd.hint, /\$\{env:HOME\}/)
})

test("a reference to another scope must name a declared scope", async () => {
    const e = await fails("auth_scopes:\n  gh: {}\nservers:\n  r:\n    url: https://example.com/mcp?key=${secret:ghh/KEY}\n")
    assert.equal(e.at, "5:10")
    assert.equal(e.message, 'server "r": scope "ghh" in "${secret:ghh/KEY}" is not declared')
    assert.match(e.hint, /did you mean "gh"/)
    const c = await load("auth_scopes:\n  gh: {}\nservers:\n  s:\n    command: npx\n    env: { T: \"${secret:gh/T}\", U: \"${secret:U}\", H: \"${env:HOME}\" }\n")
    const s = c.servers.get("s")
    assert.equal(s?.kind, "stdio")
    assert.deepEqual(s.env, { T: "${secret:gh/T}", U: "${secret:U}", H: "${env:HOME}" })
})

test("a reference in command is refused", async () => {
    const e = await fails("servers:\n  s:\n    command: ${env:HOME}/bin/x\n")
    assert.equal(e.at, "3:14")
    assert.equal(e.message, 'server "s": "command" cannot hold references')
})

test("a remote url must be http or https", async () => {
    const ftp = await fails("servers:\n  r:\n    url: ftp://example.com\n")
    assert.equal(ftp.at, "3:10")
    assert.equal(ftp.message, 'server "r": invalid url "ftp://example.com"')
    assert.equal((await fails("servers:\n  r:\n    url: example.com/mcp\n")).at, "3:10")
    const c = await load("servers:\n  r:\n    url: https://${env:MCP_HOST}/mcp\n")
    const r = c.servers.get("r")
    assert.equal(r?.kind === "remote" && r.url, "https://${env:MCP_HOST}/mcp")
})

test("a header value cannot hold a line break", async () => {
    const e = await fails(remote("    headers:\n      X: \"a\\nb\"\n"))
    assert.equal(e.at, "5:10")
    assert.equal(e.message, 'server "r": header "X" contains a line break')
})

test("cwd expands ~ and is resolved against the config's folder", async () => {
    const dir = temp()
    await mkdir(join(dir, "sub"))
    const file = join(dir, "sub", "config.yaml")
    await writeFile(file, "servers:\n  a: { command: x, cwd: ../data }\n  b: { command: x, cwd: ~/src }\n  c: { command: x, cwd: \"${env:DATA}/x\" }\n")
    const c = await config.load(file, { env: { HOME: "/home/u" } })
    const cwd = (name: string) => { const s = c.servers.get(name); return s?.kind === "stdio" ? s.cwd : undefined }
    assert.equal(cwd("a"), join(dir, "data"))
    assert.equal(cwd("b"), "/home/u/src")
    assert.equal(cwd("c"), "${env:DATA}/x")
})

test("a workspace needs a root", async () => {
    const e = await fails("workspaces:\n  w:\n    routes: []\n")
    assert.equal(e.at, "2:3")
    assert.equal(e.message, 'workspace "w" needs a "root" folder')
    const empty = await fails("workspaces:\n  w:\n    root:\n")
    assert.equal(empty.at, "3:5")
    assert.equal(empty.message, 'workspace "w": "root" must be a string')
    // a bare ~ is YAML's null
    const tilde = await fails("workspaces:\n  w:\n    root: ~\n")
    assert.equal(tilde.at, "3:5")
    assert.match(tilde.hint, /write "~"/)
})

test("a workspace root expands ~ with the given HOME and resolves against the config's folder", async () => {
    const dir = temp()
    const file = join(dir, "config.yaml")
    await writeFile(file, "workspaces:\n  a: { root: ~/work/acme }\n  b: { root: projects/b }\n  c: { root: \"~\" }\n  d: { root: /abs/d }\n")
    const c = await config.load(file, { env: { HOME: "/home/u" } })
    assert.equal(c.workspaces.get("a")?.root, "/home/u/work/acme")
    assert.equal(c.workspaces.get("b")?.root, join(dir, "projects", "b"))
    assert.equal(c.workspaces.get("c")?.root, "/home/u")
    assert.equal(c.workspaces.get("d")?.root, "/abs/d")
    assert.deepEqual(c.workspaces.get("d")?.routes, [])
})

test("~user in a root is refused rather than taken literally", async () => {
    const e = await fails("workspaces:\n  w: { root: ~bob/x }\n")
    assert.equal(e.at, "2:14")
    assert.match(e.message, /only "~" and "~\/" are expanded/)
})

test("two workspaces with the same root are refused", async () => {
    const e = await fails("workspaces:\n  a: { root: /w }\n  b: { root: /w/ }\n")
    assert.equal(e.at, "3:14")
    assert.equal(e.message, 'workspace "b" has the same root as workspace "a"')
})

test("a route is read with its defaults", async () => {
    const c = await load(routes("      - tools: [\"github__*\"]\n"))
    assert.deepEqual(c.workspaces.get("w")?.routes, [
        { tools: ["github__*"], action: "allow", approval: "none", lease: 600_000, approvalTimeout: 300_000, scopes: [] },
    ])
})

test("a route with every field is read", async () => {
    const c = await load(routes("      - { tools: [\"github__*\", \"x__{a,b}\"], server: github, scope: gh, scopes: [gh], action: deny, approval: write, lease: 0, approval_timeout: 2m }\n"))
    assert.deepEqual(c.workspaces.get("w")?.routes, [{
        tools: ["github__*", "x__{a,b}"], server: "github", scope: "gh", scopes: ["gh"], action: "deny", approval: "write", lease: 0, approvalTimeout: 120_000,
    }])
})

test("a route needs a non-empty list of tool patterns", async () => {
    const missing = await fails(routes("      - { scope: gh }\n"))
    assert.equal(missing.at, "9:9")
    assert.equal(missing.message, 'route 1 of workspace "w" needs "tools"')
    const block = await fails(routes("      - tools: [a]\n      - scope: gh\n"))
    assert.equal(block.at, "10:9")
    assert.equal(block.message, 'route 2 of workspace "w" needs "tools"')
    const empty = await fails(routes("      - { tools: [] }\n"))
    assert.equal(empty.at, "9:18")
    assert.equal(empty.message, 'route 1 of workspace "w": "tools" is empty')
    const notList = await fails(routes("      - { tools: github__* }\n"))
    assert.equal(notList.at, "9:18")
    assert.equal(notList.message, 'route 1 of workspace "w": "tools" must be a list')
    const notMap = await fails(routes("      - github__*\n"))
    assert.equal(notMap.at, "9:9")
    assert.equal(notMap.message, 'route 1 of workspace "w" must be a map')
    const list = await fails("workspaces:\n  w:\n    root: /w\n    routes: { tools: [a] }\n")
    assert.equal(list.at, "4:13")
})

test("a tool pattern that does not compile is refused at the pattern", async () => {
    const e = await fails(routes("      - { tools: [\"a__*\", \"a[\"] }\n"))
    assert.equal(e.at, "9:27")
    assert.equal(e.message, 'route 1 of workspace "w": invalid tool pattern "a["')
    assert.match(e.hint, /missing closing/)
    assert.equal((await fails(routes("      - { tools: [\"x__(a\"] }\n"))).at, "9:19")
    assert.equal((await fails(routes("      - { tools: [\"[z-a]\"] }\n"))).at, "9:19")
    assert.equal((await fails(routes("      - { tools: [\"\"] }\n"))).at, "9:19")
})

test("a route's server, scope and scopes must be declared", async () => {
    const server = await fails(routes("      - { tools: [a], server: gihtub }\n"))
    assert.equal(server.at, "9:31")
    assert.equal(server.message, 'route 1 of workspace "w": server "gihtub" is not declared')
    assert.equal(server.hint, 'did you mean "github"?\ndeclared servers: github\ndeclare it under servers')
    const scope = await fails(routes("      - { tools: [a], scope: acme }\n"))
    assert.equal(scope.at, "9:30")
    assert.equal(scope.message, 'route 1 of workspace "w": scope "acme" is not declared')
    const scopes = await fails(routes("      - { tools: [a], scopes: [gh, acme] }\n"))
    assert.equal(scopes.at, "9:36")
    assert.equal(scopes.message, 'route 1 of workspace "w": scope "acme" is not declared')
})

test("a route's action and approval are fixed words", async () => {
    const action = await fails(routes("      - { tools: [a], action: block }\n"))
    assert.equal(action.at, "9:31")
    assert.equal(action.message, 'route 1 of workspace "w": "action" must be "allow" or "deny"')
    const approval = await fails(routes("      - { tools: [a], approval: always }\n"))
    assert.equal(approval.at, "9:33")
    assert.equal(approval.message, 'route 1 of workspace "w": "approval" must be "none", "write" or "all"')
})

test("a route's lease and approval_timeout are durations", async () => {
    const lease = await fails(routes("      - { tools: [a], lease: soon }\n"))
    assert.equal(lease.at, "9:30")
    assert.equal(lease.message, 'route 1 of workspace "w": "lease" must be a duration')
    const timeout = await fails(routes("      - { tools: [a], approval_timeout: 0 }\n"))
    assert.equal(timeout.at, "9:41")
    assert.equal(timeout.message, 'route 1 of workspace "w": "approval_timeout" must be more than zero')
})

test("default is allow or deny", async () => {
    assert.equal((await load("default: deny\n")).default, "deny")
    const e = await fails("default: alow\n")
    assert.equal(e.at, "1:10")
    assert.equal(e.message, '"default" must be "allow" or "deny"')
    assert.equal(e.hint, 'did you mean "allow"?')
})

test("audit retention is a duration in days", async () => {
    assert.equal((await load("audit: { retention: 30d }\n")).audit.retentionDays, 30)
    assert.equal((await load("audit: { retention: 12h }\n")).audit.retentionDays, 0.5)
    assert.equal((await load("audit:\n")).audit.retentionDays, 90)
    const bare = await fails("audit:\n  retention: 90\n")
    assert.equal(bare.at, "2:14")
    assert.equal(bare.message, '"audit": "retention" needs a unit')
    assert.match(bare.hint, /retention: 90d/)
    const bad = await fails("audit:\n  retention: 3 months\n")
    assert.equal(bad.at, "2:14")
    assert.equal(bad.message, '"audit": "retention" must be a duration')
})
