/**
 * Roots never fail open: a client root that reaches a deny workspace through a symbolic link is in
 * that workspace, and a root mcplexer cannot read (a host, an encoded NUL, another scheme) is an
 * error for the session, never dropped in favour of the other roots or of serve's own folder.
 */
import assert from "node:assert/strict"
import { mkdir, symlink } from "node:fs/promises"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { after, before, describe, test } from "node:test"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js"
import { ListRootsRequestSchema } from "@modelcontextprotocol/sdk/types.js"
import { server, start, text, type Kit } from "./kit.ts"

describe("roots that name a deny workspace", () => {
    let k: Kit
    let elsewhere: string
    before(async () => {
        k = await start((home, log) => `servers:
  alpha: ${server("alpha", log)}
workspaces:
  locked:
    root: ${join(home, "locked")}
    routes:
      - { tools: ["alpha__*"], action: deny }
  linked:
    root: ${join(home, "alias")}
    routes:
      - { tools: ["alpha__write"], action: deny }
`)
        const h = k.home
        await mkdir(join(h, "locked", "project"), { recursive: true })
        await mkdir(join(h, "target", "app"), { recursive: true })
        elsewhere = join(h, "elsewhere")
        await mkdir(elsewhere, { recursive: true })
        // a link into the locked workspace, from outside it
        await symlink(join(h, "locked"), join(h, "door"))
        // a workspace whose root in the config is itself a link
        await symlink(join(h, "target"), join(h, "alias"))
    })
    after(async () => { await k.close() })

    /** A client listing exactly these root URIs, on a gateway whose own folder is outside every workspace. */
    async function client(uris: string[]): Promise<Client> {
        const [ct, st] = InMemoryTransport.createLinkedPair()
        const c = new Client({ name: "rootsafe", version: "1.0.0" }, { capabilities: { roots: { listChanged: true } } })
        c.setRequestHandler(ListRootsRequestSchema, () => ({ roots: uris.map(uri => ({ uri })) }))
        await k.gw.connect(st, { root: elsewhere })
        await c.connect(ct)
        return c
    }
    const names = async (c: Client) => (await c.listTools()).tools.map(t => t.name)

    test("outside every workspace the tools are listed (the baseline)", async () => {
        const c = await client([pathToFileURL(elsewhere).href])
        assert.ok((await names(c)).includes("alpha__read"))
        await c.close()
    })

    test("a root that reaches the deny workspace through a link is denied", async () => {
        const before = k.received().length
        const c = await client([pathToFileURL(join(k.home, "door", "project")).href])
        assert.deepEqual(await names(c), [])
        const r = await c.callTool({ name: "alpha__read" })
        assert.equal(r.isError, true)
        assert.match(text(r), /denied here by route 1 of workspace "locked"/)
        assert.equal(k.received().length, before)
        await c.close()
    })

    test("a folder not made yet below such a link is in the deny workspace too", async () => {
        const c = await client([pathToFileURL(join(k.home, "door", "not", "yet")).href])
        assert.deepEqual(await names(c), [])
        await c.close()
    })

    test("a root through a link whose target is not made yet (a dangling link into the deny workspace) is in that workspace", async () => {
        await symlink(join(k.home, "locked", "later"), join(k.home, "dangling"))
        await mkdir(join(k.home, "hop"), { recursive: true })
        await symlink(join("..", "dangling"), join(k.home, "hop", "relative"))
        for (const p of [join(k.home, "dangling"), join(k.home, "dangling", "deeper"), join(k.home, "hop", "relative", "deeper")]) {
            const before = k.received().length
            const c = await client([pathToFileURL(p).href])
            assert.deepEqual(await names(c), [], p)
            const r = await c.callTool({ name: "alpha__read" })
            assert.match(text(r), /denied here by route 1 of workspace "locked"/)
            assert.equal(k.received().length, before)
            await c.close()
        }
    })

    test("a workspace whose root is a link holds the folders it points to", async () => {
        const c = await client([pathToFileURL(join(k.home, "target", "app")).href])
        const listed = await names(c)
        assert.ok(listed.includes("alpha__read"))
        assert.ok(!listed.includes("alpha__write"), listed.join(" "))
        await c.close()
    })

    const unreadable = /the client's root ".*" is not a local folder mcplexer can read/
    for (const [what, uri, why] of [
        ["a file URI with a host", () => `file://host${join(k.home, "locked", "project")}`, unreadable],
        ["an encoded NUL", () => `${pathToFileURL(join(k.home, "locked")).href}%00/project`, unreadable],
        ["an encoded slash", () => `${pathToFileURL(join(k.home, "locked")).href}%2Fproject`, unreadable],
        // the SDK refuses the answer itself (roots are file:// URIs): the same error as no answer
        ["another scheme", () => "https://example.com/locked/project", /did not list its roots/],
    ] as const) {
        test(`a root with ${what} is an error for the session, never serve's folder`, async () => {
            const before = k.received().length
            const c = await client([uri()])
            await assert.rejects(c.listTools(), why)
            await assert.rejects(c.callTool({ name: "alpha__read" }), why)
            assert.equal(k.received().length, before)
            await c.close()
        })
    }

    test("one unreadable root among readable ones still stops the session: no deciding with the rest", async () => {
        const c = await client([pathToFileURL(elsewhere).href, `file://host${join(k.home, "locked")}`])
        await assert.rejects(c.callTool({ name: "alpha__read" }), /is not a local folder mcplexer can read/)
        await c.close()
    })
})
