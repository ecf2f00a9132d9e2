import assert from "node:assert/strict"
import { test } from "node:test"
import * as config from "../../internal/config/index.ts"

const text = `# my servers, kept by hand
auth_scopes:
  gh: { description: my token }   # the one I use

servers:
  # GitHub's reference server
  github:
    command: npx
    args: ["-y", "@modelcontextprotocol/server-github"]   # pinned later
    scope: gh
  memory:
    command: npx   # no scope
    args: ["-y", "@modelcontextprotocol/server-memory"]
    tools:
      disabled:
        - delete_*   # never delete
`

/** The lines of `after` that are not in `before`, and those of `before` that are gone. */
function changed(before: string, after: string): { added: string[]; removed: string[] } {
    const a = before.split("\n"), b = after.split("\n")
    return { added: b.filter(l => !a.includes(l)), removed: a.filter(l => !b.includes(l)) }
}

test("disabling writes the pattern under the server, and every other line stays byte for byte", () => {
    const out = config.switches(text, "/c.yaml", [{ server: "github", pattern: "delete_*", tools: ["delete_file"], disabled: true }])
    const d = changed(text, out)
    assert.deepEqual(d.removed, [])
    assert.deepEqual(d.added, ["    tools: { disabled: [delete_*] }"])
    assert.deepEqual(config.parse(out, "/c.yaml").servers.get("github")?.tools.disabled, ["delete_*"])
})

test("enabling one tool a glob switched off keeps the glob and adds !name after it; the comments stay", () => {
    const out = config.switches(text, "/c.yaml", [{ server: "memory", pattern: "delete_entities", tools: ["delete_entities"], disabled: false }])
    assert.deepEqual(changed(text, out), { added: ["        - \"!delete_entities\""], removed: [] })
    const list = config.parse(out, "/c.yaml").servers.get("memory")!.tools.disabled
    assert.equal(config.disabledBy(list, "delete_entities"), undefined)
    assert.equal(config.disabledBy(list, "delete_relations"), "delete_*")
})

test("enabling the glob itself removes it, and disabling again removes the !name that re-enabled a tool", () => {
    const on = config.switches(text, "/c.yaml", [{ server: "memory", pattern: "delete_entities", tools: ["delete_entities"], disabled: false }])
    const off = config.switches(on, "/c.yaml", [{ server: "memory", pattern: "delete_entities", tools: ["delete_entities"], disabled: true }])
    assert.deepEqual(config.parse(off, "/c.yaml").servers.get("memory")?.tools.disabled, ["delete_*", "delete_entities"])
    const none = config.switches(text, "/c.yaml", [{ server: "memory", pattern: "delete_*", tools: ["delete_entities", "delete_relations"], disabled: false }])
    assert.deepEqual(config.parse(none, "/c.yaml").servers.get("memory")?.tools.disabled, [])
    assert.ok(none.includes("# never delete") || !none.includes("delete_*"), "the comment may go with its entry")
})

test("a server written as one flow map gets the list inside its braces, and a flow list is rewritten in place", () => {
    const flow = "servers:\n  s: { command: x, args: [\"a\"] }   # one line\n  t: { command: y, tools: { disabled: [a] } }\n"
    const one = config.switches(flow, "/c.yaml", [{ server: "s", pattern: "b", tools: ["b"], disabled: true }])
    assert.equal(one, "servers:\n  s: { command: x, args: [\"a\"], tools: { disabled: [b] } }   # one line\n  t: { command: y, tools: { disabled: [a] } }\n")
    const two = config.switches(one, "/c.yaml", [{ server: "t", pattern: "a", tools: ["a"], disabled: false }, { server: "t", pattern: "c*", tools: ["cc"], disabled: true }])
    assert.equal(two.split("\n")[2], "  t: { command: y, tools: { disabled: [c*] } }")
    assert.throws(() => config.switches(flow, "/c.yaml", [{ server: "nope", pattern: "a", tools: ["a"], disabled: true }]), /server "nope" is not in/)
})

test("the last entry that matches decides", () => {
    assert.equal(config.disabledBy(["*", "!read_*"], "read_file"), undefined)
    assert.equal(config.disabledBy(["*", "!read_*"], "write_file"), "*")
    assert.equal(config.disabledBy(["!read_*", "*"], "read_file"), "*")
    assert.equal(config.disabledBy([], "x"), undefined)
})

test("tool_search, quarantine and tools are read and checked", () => {
    const base = "servers:\n  s: { command: x, quarantine: true, tools: { disabled: [a, \"!b\"] } }\n"
    const c = config.parse(base + "tool_search: true\n", "/c.yaml")
    assert.deepEqual(c.toolSearch, { enabled: true, always: [], addFound: true })
    assert.equal(c.servers.get("s")?.quarantine, true)
    assert.deepEqual(config.parse(base + "tool_search: { always: [\"s__get_*\"] }\n", "/c.yaml").toolSearch, { enabled: true, always: ["s__get_*"], addFound: true })
    assert.deepEqual(config.parse(base, "/c.yaml").toolSearch, { enabled: false, always: [], addFound: true })
    assert.equal(config.parse(base + "tool_search: { enabled: true, add_found: false }\n", "/c.yaml").toolSearch.addFound, false)
    assert.throws(() => config.parse(base + "tool_search: { add_found: sometimes }\n", "/c.yaml"), (e: unknown) => e instanceof config.ConfigError && /add_found/.test(e.message))
    assert.throws(() => config.parse(base + "tool_search: yes please\n", "/c.yaml"), (e: unknown) => e instanceof config.ConfigError && /tool_search.*true or false/.test(e.message))
    assert.throws(() => config.parse("servers:\n  s: { command: x, tools: { disable: [a] } }\n", "/c.yaml"), (e: unknown) => e instanceof config.ConfigError && e.line === 2)
    assert.throws(() => config.parse("servers:\n  s: { command: x, quarantine: maybe }\n", "/c.yaml"), config.ConfigError)
})
