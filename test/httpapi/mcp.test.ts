/**
 * `/mcp` (mcp.ts) over a real socket: a session's calls answered as plain JSON, every refusal
 * with its status and words, waiting calls ended with their session, and a second request with
 * the id of one still waiting answered with an error instead of leaving either without one.
 */
import assert from "node:assert/strict"
import { request } from "node:http"
import { test } from "node:test"
import { setTimeout as sleep } from "node:timers/promises"
import { dsConfig, start, type Kit } from "./kit.ts"

const accept = "application/json, text/event-stream"

/** A raw POST over node:http, which sends whatever Host it is given; the status, headers and body. */
function post(port: number, headers: Record<string, string>, body: string): Promise<{ status: number; type: string; session: string; text: string }> {
    return new Promise((done, fail) => {
        const r = request({ host: "127.0.0.1", port, method: "POST", path: "/mcp", headers: { "content-length": String(Buffer.byteLength(body)), ...headers } }, res => {
            let text = ""
            const type = String(res.headers["content-type"] ?? ""), session = String(res.headers["mcp-session-id"] ?? "")
            res.setEncoding("utf8").on("data", (d: string) => { text += d }).on("end", () => done({ status: res.statusCode ?? 0, type, session, text }))
        })
        r.on("error", fail)
        r.end(body)
    })
}

/** Starts a kit on a socket and opens a session by hand; the port and the headers of its requests. */
async function open(limits?: { mcpBody: number }): Promise<{ k: Kit; port: number; h: Record<string, string> }> {
    const k = await start(dsConfig(), { wire: true, secrets: { gh: { TOKEN: "token-value-1234" } }, ...(limits ? { limits } : {}) })
    const port = Number(new URL((await k.req("/api/v1/health")).url).port)
    const base = { host: `127.0.0.1:${port}`, authorization: `Bearer ${k.token}`, "content-type": "application/json", accept }
    const init = await post(port, base, JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } } }))
    assert.equal(init.status, 200, init.text)
    const h = { ...base, "mcp-session-id": init.session, "mcp-protocol-version": "2025-06-18" }
    assert.equal((await post(port, h, JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }))).status, 202)
    return { k, port, h }
}

const call = (id: number, name: string, args: Record<string, unknown> = {}) => JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } })

test("in a session, calls are answered with plain JSON, a batch with an array", { timeout: 30_000 }, async () => {
    const { k, port, h } = await open()
    try {
        for (let i = 2; i < 5; i++) {
            const r = await post(port, h, call(i, "ds__echo", { text: `lane-${i}` }))
            assert.equal(r.status, 200)
            assert.equal(r.type, "application/json")
            const m = JSON.parse(r.text) as { id: number; result: { content: Array<{ text: string }> } }
            assert.equal(m.id, i)
            assert.equal(m.result.content[0]!.text, `lane-${i}`)
            assert.equal(r.session, h["mcp-session-id"])
        }
        // an unknown tool: the JSON-RPC error
        const unknown = JSON.parse((await post(port, h, call(5, "nope"))).text) as { error: { code: number; message: string } }
        assert.equal(unknown.error.code, -32602)
        assert.match(unknown.error.message, /unknown tool "nope"/)
        const batch = await post(port, h, JSON.stringify([JSON.parse(call(6, "ds__echo", { text: "in a batch" })), JSON.parse(call(7, "ds__echo", { text: "and another" }))]))
        assert.equal(batch.status, 200, batch.text)
        const answers = JSON.parse(batch.text) as Array<{ id: number; result: { content: Array<{ text: string }> } }>
        assert.deepEqual(answers.map(a => [a.id, a.result.content[0]!.text]), [[6, "in a batch"], [7, "and another"]])
    } finally {
        await k.close()
    }
})

test("each refusal has its status and its words, and the session goes on", { timeout: 30_000 }, async () => {
    const { k, port, h } = await open({ mcpBody: 2000 })
    try {
        const cases: Array<[string, Record<string, string>, string, number, RegExp]> = [
            ["a wrong token", { ...h, authorization: "Bearer mcp_wrong" }, call(2, "ds__echo"), 401, /unauthorized/],
            ["a wrong token of the right length", { ...h, authorization: `Bearer ${k.token.slice(0, -1)}${k.token.endsWith("A") ? "B" : "A"}` }, call(2, "ds__echo"), 401, /unauthorized/],
            ["the token with more after it", { ...h, authorization: `Bearer ${k.token}A` }, call(2, "ds__echo"), 401, /unauthorized/],
            ["no token", Object.fromEntries(Object.entries(h).filter(([n]) => n !== "authorization")), call(2, "ds__echo"), 401, /unauthorized/],
            ["a foreign Host", { ...h, host: "evil.example.com" }, call(2, "ds__echo"), 403, /host \\"evil\.example\.com\\" is not this server/],
            ["a foreign Origin", { ...h, origin: "http://evil.example.com" }, call(2, "ds__echo"), 403, /origin \\"http:\/\/evil\.example\.com\\" is not allowed/],
            ["an Accept without event streams", { ...h, accept: "application/json" }, call(2, "ds__echo"), 406, /not acceptable/],
            ["a body that is not JSON by its type", { ...h, "content-type": "text/plain" }, call(2, "ds__echo"), 415, /unsupported media type/],
            ["an unknown protocol version", { ...h, "mcp-protocol-version": "1999-01-01" }, call(2, "ds__echo"), 400, /unsupported protocol version/],
            ["a body over the cap", h, call(2, "ds__echo", { text: "x".repeat(3000) }), 413, /larger than 2000 bytes/],
            ["a body that is not JSON", h, "{not json", 400, /parse error/],
            ["a second initialize", h, JSON.stringify({ jsonrpc: "2.0", id: 9, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "x", version: "1" } } }), 400, /already initialized/],
            ["no JSON-RPC message", h, "{}", 400, /not a JSON-RPC message/],
            ["an empty batch", h, "[]", 400, /a batch holds 1 to 100 messages/],
            ["a method that is not a string", h, JSON.stringify({ jsonrpc: "2.0", id: 2, method: 7 }), 400, /not a JSON-RPC message/],
            ["an unknown session", { ...h, "mcp-session-id": "00000000-0000-4000-8000-000000000000" }, call(2, "ds__echo"), 404, /session not found/],
        ]
        for (const [what, headers, body, status, text] of cases) {
            const r = await post(port, headers, body)
            assert.equal(r.status, status, `${what}: ${r.status} ${r.text}`)
            assert.match(r.text, text, what)
            assert.ok(!r.text.includes(k.token), `${what}: the answer holds the token`)
        }
        const ok = await post(port, h, call(3, "ds__echo", { text: "still here" }))
        assert.equal(ok.status, 200)
        assert.match(ok.text, /still here/)
    } finally {
        await k.close()
    }
})

test("a waiting call ends with its session, and a client that hangs up leaves the session working", { timeout: 30_000 }, async () => {
    const { k, port, h } = await open()
    try {
        // a client that hangs up mid-call: the answer has nowhere to go, nothing breaks
        const gone = new AbortController()
        const early = fetch(`http://127.0.0.1:${port}/mcp`, { method: "POST", headers: h, body: call(2, "ds__slow", { ms: 300 }), signal: gone.signal })
        await sleep(100)
        gone.abort()
        await assert.rejects(early)
        await sleep(400)
        const ok = await post(port, h, call(3, "ds__echo", { text: "after the hang-up" }))
        assert.match(ok.text, /after the hang-up/)
        // a call still waiting when its session is deleted is answered, not left hanging
        const waiting = post(port, h, call(4, "ds__hang"))
        await sleep(300)
        const del = await fetch(`http://127.0.0.1:${port}/mcp`, { method: "DELETE", headers: { authorization: h.authorization!, "mcp-session-id": h["mcp-session-id"]!, "mcp-protocol-version": "2025-06-18" } })
        assert.equal(del.status, 200)
        const ended = await waiting
        assert.equal(ended.status, 404, ended.text)
        assert.match(ended.text, /session not found/)
        assert.equal(k.api.sessions.size, 0)
    } finally {
        await k.close()
    }
})

test("a second request with the id of one still waiting is answered with an error, and the first still gets its answer", { timeout: 30_000 }, async () => {
    const { k, port, h } = await open()
    try {
        const first = post(port, h, call(7, "ds__slow", { ms: 400 }))
        await sleep(100)
        const second = await Promise.race([post(port, h, call(7, "ds__echo", { text: "same id" })), sleep(3000).then(() => undefined)])
        assert.ok(second !== undefined, "the second request was left without an answer")
        assert.equal(second.status, 200, second.text)
        const m = JSON.parse(second.text) as { id: number; error?: { code: number; message: string } }
        assert.equal(m.id, 7)
        assert.equal(m.error?.code, -32600)
        assert.match(m.error?.message ?? "", /request id 7 is already in use/)
        const a = await Promise.race([first, sleep(5000).then(() => undefined)])
        assert.ok(a !== undefined, "the first request was left without an answer")
        assert.equal(a.status, 200, a.text)
        assert.equal((JSON.parse(a.text) as { id: number; result?: unknown }).id, 7)
        assert.ok((JSON.parse(a.text) as { result?: unknown }).result !== undefined, a.text)
        // the same id inside one batch: the second of the two is refused, the first answered
        const batch = await post(port, h, JSON.stringify([JSON.parse(call(8, "ds__echo", { text: "one" })), JSON.parse(call(8, "ds__echo", { text: "two" }))]))
        const both = JSON.parse(batch.text) as Array<{ id: number; result?: { content: Array<{ text: string }> }; error?: { code: number } }>
        assert.equal(both.length, 2, batch.text)
        assert.equal(both[0]!.result?.content[0]!.text, "one")
        assert.equal(both[1]!.error?.code, -32600)
        // once answered, the id is free again
        assert.match((await post(port, h, call(7, "ds__echo", { text: "free again" }))).text, /free again/)
    } finally {
        await k.close()
    }
})
