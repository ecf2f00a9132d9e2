/** doctor, key show and init speak JSON with --json; doctor checks that remote URLs answer (issue 10). */
import assert from "node:assert/strict"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { join } from "node:path"
import { test } from "node:test"
import { writeFile } from "node:fs/promises"
import { fresh, run } from "../helpers.ts"

test("init --json, key show --json and doctor --json print one JSON object", async () => {
    const h = await fresh()
    const i = await run(h, ["init", "--json"])
    assert.equal(i.code, 0, i.stderr)
    const init = JSON.parse(i.stdout) as { home: string; key: string; recipient: string; created: { key: boolean; config: boolean } }
    assert.equal(init.home, h)
    assert.match(init.recipient, /^age1/)
    assert.deepEqual({ key: init.created.key, config: init.created.config }, { key: true, config: false })
    const k = await run(h, ["key", "show", "--json"])
    assert.equal(k.code, 0, k.stderr)
    assert.deepEqual(JSON.parse(k.stdout), { path: join(h, "age.key"), recipient: init.recipient })
    const d = await run(h, ["doctor", "--json"])
    assert.equal(d.code, 0, d.stderr)
    const doc = JSON.parse(d.stdout) as { ok: string[]; findings: unknown[]; errors: number; warnings: number }
    assert.deepEqual([doc.findings, doc.errors, doc.warnings], [[], 0, 0])
    assert.ok(doc.ok.some(l => l.startsWith("key file")))
})

test("doctor warns about a remote URL that does not answer, and not about one that does", async () => {
    const srv = createServer((_, res) => { res.writeHead(401).end() })
    await new Promise<void>(done => srv.listen(0, "127.0.0.1", done))
    const port = (srv.address() as AddressInfo).port
    const closed = createServer()
    await new Promise<void>(done => closed.listen(0, "127.0.0.1", done))
    const dead = (closed.address() as AddressInfo).port
    await new Promise(done => closed.close(done))
    try {
        const h = await fresh()
        await writeFile(join(h, "config.yaml"), `servers:\n  up: { url: "http://127.0.0.1:${port}/mcp" }\n  down: { url: "http://127.0.0.1:${dead}/mcp" }\n`)
        assert.equal((await run(h, ["init"])).code, 0)
        const d = await run(h, ["doctor", "--json"])
        const doc = JSON.parse(d.stdout) as { findings: Array<{ level: string; message: string; fix: string }> }
        assert.deepEqual(doc.findings.map(f => [f.level, f.message]), [["warning", `server "down": url "http://127.0.0.1:${dead}/mcp" does not answer (ECONNREFUSED)`]])
    } finally {
        srv.close()
    }
})
