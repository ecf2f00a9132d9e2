/**
 * OAuth's way out (downstream/fetch.ts) against a real HTTP server on 127.0.0.1: an OAuth request
 * to the server's own MCP endpoint (metadata may name it as the token endpoint) is capped like any
 * other, while the server's JSON-RPC traffic there passes whole.
 */
import assert from "node:assert/strict"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { after, before, test } from "node:test"
import { fetcher, maxBody } from "../../internal/downstream/fetch.ts"

let http: Server
let url = ""
let sent = 0

before(async () => {
    http = createServer((req, res) => {
        const form = /x-www-form-urlencoded/.test(req.headers["content-type"] ?? "")
        req.resume().on("end", () => {
            res.writeHead(200, { "content-type": "application/json" })
            if (!form) return void res.end(JSON.stringify({ jsonrpc: "2.0", id: 1, result: { padding: "a".repeat(2 * maxBody) } }))
            // a token answer that never ends, written as fast as it is read
            res.write('{"access_token":"')
            const chunk = "a".repeat(64 * 1024)
            const pump = () => {
                while (!res.destroyed && sent < 64 * maxBody) {
                    sent += chunk.length
                    if (!res.write(chunk)) return void res.once("drain", pump)
                }
                res.end('"}')
            }
            pump()
        })
    })
    await new Promise<void>(done => http.listen(0, "127.0.0.1", done))
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`
})
after(() => new Promise<void>(done => { http.close(() => done()); http.closeAllConnections() }))

test("a token request to the server's own MCP endpoint is capped at 1 MiB, the connection closed", async () => {
    const f = fetcher(url)
    const res = await f(url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ grant_type: "authorization_code", code: "x" }) })
    await assert.rejects(res.text(), /is larger than 1 MiB, the most mcplexer reads/)
    assert.ok(sent < 16 * maxBody, `${sent} bytes were sent before the reader hung up`)
})

test("the server's JSON-RPC traffic to the same endpoint is not capped", async () => {
    const f = fetcher(url.replace("127.0.0.1", "localhost"))
    const res = await f(url.replace("127.0.0.1", "localhost"), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }) })
    const body = JSON.parse(await res.text()) as { result: { padding: string } }
    assert.equal(body.result.padding.length, 2 * maxBody)
})
