import assert from "node:assert/strict"
import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import { test } from "node:test"
import * as config from "../../internal/config/index.ts"
import { root, temp } from "../helpers.ts"

test("config.example.yaml loads and uses every kind of entry", async () => {
    const c = await config.load(join(root, "config.example.yaml"), { env: { HOME: "/home/u" } })
    assert.ok(c.scopes.size >= 2)
    const kinds = new Set([...c.servers.values()].map(s => s.kind))
    assert.deepEqual([...kinds].sort(), ["remote", "stdio"])
    const acme = c.workspaces.get("acme")
    assert.equal(acme?.root, "/home/u/work/acme")
    assert.ok(acme.routes.length > 0)
})

test("config.example.yaml mentions every key the config accepts", async () => {
    const { readFile } = await import("node:fs/promises")
    const text = await readFile(join(root, "config.example.yaml"), "utf8")
    const keys = ["auth_scopes", "description", "servers", "command", "args", "env", "cwd", "url", "headers", "inject", "scope", "prefix",
        "idle_timeout", "timeout", "max_line", "workspaces", "root", "routes", "tools", "server", "scopes", "action", "approval", "lease",
        "approval_timeout", "default", "audit", "retention"]
    for (const k of keys) assert.match(text, new RegExp(`^\\s*(- )?\\{? ?${k}:`, "m"), k)
})

test("the starter config written by init loads", async () => {
    const dir = temp()
    const file = join(dir, "config.yaml")
    await writeFile(file, config.starter)
    const c = await config.load(file)
    assert.equal(c.scopes.size, 1)
    assert.equal(c.servers.size, 0)
    assert.equal(c.workspaces.size, 0)
})

test("the starter's commented examples load once uncommented", async () => {
    const dir = temp()
    const file = join(dir, "config.yaml")
    // uncomment the indented example lines ("key:" or "- " after the "# "), keep the prose
    await writeFile(file, config.starter.replace(/^( +)# (?=\s*(- |[\w-]+:))/gm, "$1"))
    const c = await config.load(file, { env: { HOME: "/home/u" } })
    assert.equal(c.servers.get("everything")?.kind, "stdio")
    const everything = c.servers.get("everything")
    assert.deepEqual(everything?.kind === "stdio" && everything.args, ["-y", "@modelcontextprotocol/server-everything"])
    assert.equal(c.servers.get("linear")?.kind, "remote")
    assert.equal(c.workspaces.get("acme")?.root, "/home/u/work/acme")
})
