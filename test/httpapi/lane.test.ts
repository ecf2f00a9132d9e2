/**
 * The fast lane of /mcp (lane.ts) over a real socket: it serves a session's calls without the
 * full way, refuses what the full way refuses with the full way's answers, and ends its waiting
 * calls with their session.
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

/** Starts a kit on a socket and opens a session by hand; the port, the headers of its requests and a call counter of the full way. */
async function open(limits?: { mcpBody: number }): Promise<{ k: Kit; port: number; h: Record<string, string>; full: () => number }> {
    const k = await start(dsConfig(), { wire: true, secrets: { gh: { TOKEN: "token-value-1234" } }, ...(limits ? { limits } : {}) })
    const port = Number(new URL((await k.req("/api/v1/health")).url).port)
    const base = { host: `127.0.0.1:${port}`, authorization: `Bearer ${k.token}`, "content-type": "application/json", accept }
    const init = await post(port, base, JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } } }))
    assert.equal(init.status, 200, init.text)
    const h = { ...base, "mcp-session-id": init.session, "mcp-protocol-version": "2025-06-18" }
    assert.equal((await post(port, h, JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }))).status, 202)
    // every request that reaches the full way passes Sessions.handle
    let n = 0
    const handle = k.api.sessions.handle.bind(k.api.sessions)
    k.api.sessions.handle = (req, body) => {
        n++
        return handle(req, body)
    }
    return { k, port, h, full: () => n }
}

const call = (id: number, name: string, args: Record<string, unknown> = {}) => JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } })

test("in a session, calls take the fast lane and are answered as the full way answers them; a batch still goes the full way", { timeout: 30_000 }, async () => {
    const { k, port, h, full } = await open()
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
        assert.equal(full(), 0, "a call went the full way")
        // an unknown tool: the JSON-RPC error, in the lane too
        const unknown = JSON.parse((await post(port, h, call(5, "nope"))).text) as { error: { code: number; message: string } }
        assert.equal(unknown.error.code, -32602)
        assert.match(unknown.error.message, /unknown tool "nope"/)
        const batch = await post(port, h, JSON.stringify([JSON.parse(call(6, "ds__echo", { text: "in a batch" }))]))
        assert.equal(batch.status, 200, batch.text)
        assert.match(batch.text, /in a batch/)
        assert.equal(full(), 1)
    } finally {
        await k.close()
    }
})

test("the lane refuses what the full way refuses, with the full way's answer, and the session goes on", { timeout: 30_000 }, async () => {
    const { k, port, h } = await open({ mcpBody: 2000 })
    try {
        const cases: Array<[string, Record<string, string>, string, number, RegExp]> = [
            ["a wrong token", { ...h, authorization: "Bearer mcp_wrong" }, call(2, "ds__echo"), 401, /unauthorized/],
            ["a wrong token of the right length", { ...h, authorization: `Bearer ${k.token.slice(0, -1)}${k.token.endsWith("A") ? "B" : "A"}` }, call(2, "ds__echo"), 401, /unauthorized/],
            ["the token with more after it", { ...h, authorization: `Bearer ${k.token}A` }, call(2, "ds__echo"), 401, /unauthorized/],
            ["no token", Object.fromEntries(Object.entries(h).filter(([n]) => n !== "authorization")), call(2, "ds__echo"), 401, /unauthorized/],
            ["a foreign Host", { ...h, host: "evil.example.com" }, call(2, "ds__echo"), 403, /host \\"evil\.example\.com\\" is not this server/],
            ["a foreign Origin", { ...h, origin: "http://evil.example.com" }, call(2, "ds__echo"), 403, /origin \\"http:\/\/evil\.example\.com\\" is not allowed/],
            ["an Accept without event streams", { ...h, accept: "application/json" }, call(2, "ds__echo"), 406, /Not Acceptable/],
            ["a body that is not JSON by its type", { ...h, "content-type": "text/plain" }, call(2, "ds__echo"), 415, /Unsupported Media Type/],
            ["an unknown protocol version", { ...h, "mcp-protocol-version": "1999-01-01" }, call(2, "ds__echo"), 400, /Unsupported protocol version/],
            ["a body over the cap", h, call(2, "ds__echo", { text: "x".repeat(3000) }), 413, /larger than 2000 bytes/],
            ["a body that is not JSON", h, "{not json", 400, /parse error/],
            ["a second initialize", h, JSON.stringify({ jsonrpc: "2.0", id: 9, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "x", version: "1" } } }), 400, /already initialized/],
            ["no JSON-RPC message", h, "{}", 400, /Invalid JSON-RPC message/],
            ["an unknown session", { ...h, "mcp-session-id": "00000000-0000-4000-8000-000000000000" }, call(2, "ds__echo"), 404, /Session not found|session not found/],
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

test("a call waiting in the lane ends with its session, and a client that hangs up leaves the session working", { timeout: 30_000 }, async () => {
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
        assert.match(ended.text, /Session not found/)
        assert.equal(k.api.sessions.size, 0)
    } finally {
        await k.close()
    }
})
