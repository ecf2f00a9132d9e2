/** The routing rule exactly as README.md writes it ("Policy: workspaces, routes, approvals"), on its example config. */
import assert from "node:assert/strict"
import { describe, test } from "node:test"
import * as config from "../../internal/config/index.ts"
import * as gateway from "../../internal/gateway/index.ts"
import { example } from "./example.ts"

const home = "/home/u"


function decide(text: string, root: string, tool: string, readOnly = false): gateway.policy.Decision {
    const c = config.parse(text, "/home/u/.mcplexer/config.yaml", { env: { HOME: home } })
    const chain = gateway.policy.chain(c, [root])
    return gateway.policy.decide(c, chain, { name: tool, server: tool.slice(0, tool.indexOf("__")), readOnly })
}

describe("the routing rule of the README", () => {
    test("the workspaces containing the root form the chain, most specific first", () => {
        assert.deepEqual(decide(example, "/home/u/work/acme/api", "github__search_code").chain, ["acme", "work"])
        assert.deepEqual(decide(example, "/home/u/work/other", "github__search_code").chain, ["work"])
        assert.deepEqual(decide(example, "/home/u/src", "github__search_code").chain, [])
        // a folder whose name merely starts with a root's is not inside it
        assert.deepEqual(decide(example, "/home/u/work-old", "github__search_code").chain, [])
    })

    test("within a workspace the first matching route wins", () => {
        const d = decide(example, "/home/u/work/acme/api", "github__create_issue")
        assert.equal(d.route, "acme#1")
        assert.equal(d.scope, "github-acme")
        assert.equal(d.approval, true)
        const e = decide(example, "/home/u/work/acme/api", "github__search_code")
        assert.equal(e.route, "acme#2")
        assert.equal(e.scope, "github-acme")
        assert.equal(e.approval, false)
    })

    test("if no route of a workspace matches, the next workspace up the chain is asked", () => {
        const d = decide(example, "/home/u/work/acme/api", "linear__list_issues")
        assert.equal(d.action, "deny")
        assert.equal(d.route, "work#1")
        assert.match(d.trace.join("\n"), /no route of workspace "acme" matches/)
    })

    test("if none does, the server's own scope applies and the call is allowed", () => {
        for (const root of ["/home/u/src", "/home/u/work/other"]) {
            const d = decide(example, root, "github__create_issue")
            assert.equal(d.action, "allow")
            assert.equal(d.route, "default")
            assert.equal(d.server, "github")
            assert.equal(d.scope, "github-personal")
            assert.equal(d.approval, false)
        }
    })

    test("unless the config sets default: deny", () => {
        const strict = example + "default: deny\n"
        assert.equal(decide(strict, "/home/u/src", "github__search_code").action, "deny")
        assert.equal(decide(strict, "/home/u/work/other", "github__create_issue").action, "deny")
        // a matching route still decides
        assert.equal(decide(strict, "/home/u/work/acme", "github__search_code").action, "allow")
    })

    test("approval: write asks only for tools without readOnlyHint", () => {
        const text = example.replace("approval: all", "approval: write")
        assert.equal(decide(text, "/home/u/work/acme", "github__create_issue", false).approval, true)
        assert.equal(decide(text, "/home/u/work/acme", "github__create_issue", true).approval, false)
    })

    test("a route's server sends the call to another server, with that server's scope unless the route names one", () => {
        const text = example.replace(`      - { tools: ["github__*"], scope: github-acme }`, `      - { tools: ["github__*"], server: linear }`)
        const d = decide(text, "/home/u/work/acme", "github__search_code")
        assert.equal(d.server, "linear")
        assert.equal(d.scope, "linear")
    })

    test("a client's file:// roots become folders; any other URI is an error naming it, never left out", () => {
        assert.deepEqual(gateway.policy.folders(["file:///nonexistent-h2/u/work/acme", "file:///nonexistent-h2/a%20b"]), ["/nonexistent-h2/u/work/acme", "/nonexistent-h2/a b"])
        assert.throws(() => gateway.policy.folders(["file:///nonexistent-h2/u", "https://example.com/x"]), /the client's root "https:\/\/example\.com\/x" is not a local folder/)
    })
})
