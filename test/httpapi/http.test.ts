import assert from "node:assert/strict"
import { createHash } from "node:crypto"
import { stat } from "node:fs/promises"
import { test } from "node:test"
import { setTimeout as sleep } from "node:timers/promises"
import * as httpapi from "../../internal/httpapi/index.ts"
import { dsConfig, origin, start } from "./kit.ts"

const planted = "s3cr3t-planted-VALUE-4f1c2b"
const sha = (s: string) => createHash("sha256").update(s).digest("hex")
const json = { "content-type": "application/json" }

type Text = { content: Array<{ type: string; text?: string }> }
const first = (r: unknown) => (r as Text).content[0]?.text ?? ""

// the MCP tests run both ways into the one endpoint (mcp.ts): to the hono app in process (a web
// Request), and over a socket (node:http)
const ways = [{ wire: false, name: "" }, { wire: true, name: " (over a socket)" }]

test("a request without the token is refused with 401, on the API and on /mcp", async () => {
    const k = await start()
    try {
        const api = await k.req("/api/v1/health", { auth: false })
        assert.equal(api.status, 401)
        assert.match(api.headers.get("www-authenticate") ?? "", /^Bearer/)
        const mcp = await k.req("/mcp", { method: "POST", auth: false, headers: json, body: "{}" })
        assert.equal(mcp.status, 401)
        const wrong = await k.req("/api/v1/health", { auth: "mcp_wrong" })
        assert.equal(wrong.status, 401)
        const ok = await k.req("/api/v1/health")
        assert.equal(ok.status, 200)
        assert.equal(((await ok.json()) as { status: string }).status, "ok")
    } finally {
        await k.close()
    }
})

test("the token file is created 0600 on first need and then reused", async () => {
    const k = await start()
    try {
        const st = await stat(httpapi.tokenPath(k.paths))
        assert.equal(st.mode & 0o777, 0o600)
        assert.equal(httpapi.token(k.paths).token, k.token)
        assert.match(k.token, /^mcp_[A-Za-z0-9_-]{43}$/)
    } finally {
        await k.close()
    }
})

test("a foreign Host or Origin is refused with 403 before anything else", async () => {
    const k = await start()
    try {
        const foreign: Array<Record<string, string>> = [{ host: "evil.example.com" }, { host: "evil.example.com:7777" }, { origin: "http://evil.example.com" },
            { origin: "null" }, { host: "127.0.0.1.nip.io:7777" }]
        for (const headers of foreign) {
            const r = await k.req("/api/v1/health", { headers })
            assert.equal(r.status, 403, JSON.stringify(headers))
            const m = await k.req("/mcp", { method: "POST", headers: { ...headers, ...json }, body: "{}" })
            assert.equal(m.status, 403, JSON.stringify(headers))
        }
        const local: Array<Record<string, string>> = [{ host: "localhost:7777" }, { host: "[::1]:7777" }, { origin: "http://127.0.0.1:7777" }, { origin: "http://localhost:3000" }]
        for (const headers of local) {
            const r = await k.req("/api/v1/health", { headers })
            assert.equal(r.status, 200, JSON.stringify(headers))
        }
    } finally {
        await k.close()
    }
})

test("a non-loopback bind is refused without allow-remote", async () => {
    const k = await start()
    try {
        await assert.rejects(httpapi.listen({
            gateway: k.gw, vault: k.vault, registry: k.registry, config: () => { throw new Error("unused") }, token: k.token,
            bind: { host: "0.0.0.0", port: 0 }, log: { debug() {}, info() {}, warn() {}, error() {} },
        }), (e: Error & { hint?: string }) => /reachable from other machines/.test(e.message) && /--allow-remote/.test(e.hint ?? ""))
    } finally {
        await k.close()
    }
})

test("a body over the cap is refused with 413", async () => {
    const k = await start(dsConfig(), { limits: { mcpBody: 10_000, apiBody: 1_000 } })
    try {
        const big = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping", params: { pad: "x".repeat(20_000) } })
        const m = await k.req("/mcp", { method: "POST", headers: { ...json, accept: "application/json, text/event-stream" }, body: big })
        assert.equal(m.status, 413)
        const a = await k.req("/api/v1/scopes/gh/secrets/TOKEN", { method: "PUT", headers: json, body: JSON.stringify({ value: "y".repeat(5_000) }) })
        assert.equal(a.status, 413)
        assert.equal(k.vault.list("gh").length, 0)
        // chunked, without a Content-Length: counted as it streams
        const stream = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode(big)); c.close() } })
        const s = await k.req("/mcp", { method: "POST", headers: { ...json, accept: "application/json, text/event-stream" }, body: stream, duplex: "half" })
        assert.equal(s.status, 413)
    } finally {
        await k.close()
    }
})

test("the API stores a value but never answers with it", async () => {
    const k = await start()
    try {
        const put = await k.req("/api/v1/scopes/gh/secrets/TOKEN", { method: "PUT", headers: json, body: JSON.stringify({ value: planted }) })
        assert.equal(put.status, 200)
        const seen: string[] = [await put.text()]
        assert.equal(await k.vault.get("gh", "TOKEN"), planted)
        for (const path of ["/api/v1/scopes", "/api/v1/audit", "/api/v1/servers", "/api/v1/health", "/api/v1/approvals", "/api/v1/scopes/gh/secrets/TOKEN"]) {
            const r = await k.req(path)
            seen.push(`${r.status} ${await r.text()}`)
        }
        const all = seen.join("\n")
        assert.ok(!all.includes(planted), "the value came back")
        const scopes = JSON.parse(seen[1]!.slice(4)) as Array<{ scope: string; keys: Array<{ key: string; set: boolean; reference: string; servers: string[] }> }>
        const gh = scopes.find(s => s.scope === "gh")
        assert.deepEqual(gh?.keys.map(x => [x.key, x.set, x.reference, x.servers]), [["TOKEN", true, "${secret:gh/TOKEN}", ["ds"]]])
        // no route reads a value: a GET of the key itself is not found
        assert.match(seen[6]!, /^404 /)
    } finally {
        await k.close()
    }
})

test("a key the config references but the store lacks is listed as missing", async () => {
    const k = await start()
    try {
        const scopes = await (await k.req("/api/v1/scopes")).json() as Array<{ scope: string; keys: Array<{ key: string; set: boolean }> }>
        assert.deepEqual(scopes.find(s => s.scope === "gh")?.keys, [{ key: "TOKEN", set: false, servers: ["ds"], reference: "${secret:gh/TOKEN}" }])
    } finally {
        await k.close()
    }
})

test("a put to an undeclared scope or an invalid key is refused with a hint", async () => {
    const k = await start()
    try {
        const r = await k.req("/api/v1/scopes/nope/secrets/TOKEN", { method: "PUT", headers: json, body: JSON.stringify({ value: planted }) })
        assert.equal(r.status, 400)
        const b = await r.json() as { error: string; hint: string }
        assert.match(b.error, /scope "nope" is not declared/)
        assert.match(b.hint, /auth_scopes/)
        const bad = await k.req("/api/v1/scopes/gh/secrets/1BAD", { method: "PUT", headers: json, body: JSON.stringify({ value: planted }) })
        assert.equal(bad.status, 400)
        const del = await k.req("/api/v1/scopes/gh/secrets/ABSENT", { method: "DELETE" })
        assert.equal(del.status, 404)
    } finally {
        await k.close()
    }
})

test("a UI write without the CSRF token, or from another site, is refused; the REST API takes no cookie", async () => {
    const k = await start()
    try {
        const { base, set, cookie, csrf } = await k.login()
        assert.match(set, /mcplexer_session=/)
        assert.match(set, /HttpOnly/)
        assert.match(set, /SameSite=Strict/)
        assert.ok(!cookie.includes(k.token), "the cookie is the token itself")
        const body = JSON.stringify({ value: planted })
        // the REST API: a cookie, with or without the CSRF token, is no credential
        assert.equal((await k.req("/api/v1/scopes", { auth: false, headers: { cookie } })).status, 401)
        const rest = await k.req("/api/v1/scopes/gh/secrets/TOKEN", { method: "PUT", auth: false, headers: { cookie, ...json, "x-csrf-token": csrf, "sec-fetch-site": "same-origin" }, body })
        assert.equal(rest.status, 401)
        // the UI's own form without its hidden field, and from another origin
        const ui = await k.req(`${base}/ui/secrets`, { method: "POST", auth: false, headers: { cookie, "content-type": "application/x-www-form-urlencoded" }, body: `scope=gh&key=TOKEN&value=${planted}` })
        assert.equal(ui.status, 403)
        const uiCross = await k.req(`${base}/ui/secrets`, { method: "POST", auth: false, headers: { cookie, origin: "http://evil.example.com", "content-type": "application/x-www-form-urlencoded" }, body: `scope=gh&key=TOKEN&value=${planted}&_csrf=${csrf}` })
        assert.equal(uiCross.status, 403)
        const uiSite = await k.req(`${base}/ui/secrets`, { method: "POST", auth: false, headers: { cookie, "sec-fetch-site": "cross-site", "content-type": "application/x-www-form-urlencoded" }, body: `scope=gh&key=TOKEN&value=${planted}&_csrf=${csrf}` })
        assert.equal(uiSite.status, 403)
        assert.equal(k.vault.list("gh").length, 0)
        // and the same done right
        const uiOk = await k.req(`${base}/ui/secrets`, { method: "POST", auth: false, headers: { cookie, origin, "content-type": "application/x-www-form-urlencoded" }, body: `scope=gh&key=OTHER&value=${planted}&_csrf=${csrf}` })
        assert.equal(uiOk.status, 303)
        assert.match(uiOk.headers.get("location") ?? "", new RegExp(`^${base}/secrets\\?done=`))
        assert.deepEqual(k.vault.list("gh").map(e => e.key), ["OTHER"])
    } finally {
        await k.close()
    }
})

test("the login page refuses a wrong token and the UI redirects there without the cookie", async () => {
    const k = await start()
    try {
        const r = await k.req("/login", { method: "POST", auth: false, headers: { "content-type": "application/x-www-form-urlencoded", origin }, body: "token=mcp_nope" })
        assert.equal(r.status, 401)
        assert.equal(r.headers.get("set-cookie"), null)
        const page = await k.req("/secrets", { auth: false })
        assert.equal(page.status, 303)
        assert.equal(page.headers.get("location"), "/login")
        // the bearer token is for programs: it does not open the UI
        assert.equal((await k.req("/secrets")).status, 303)
    } finally {
        await k.close()
    }
})

for (const way of ways) {
    test(`a tool called over /mcp reaches the downstream with the secret set through the API${way.name}`, async () => {
        const k = await start(dsConfig(), { wire: way.wire })
        try {
            const put = await k.req("/api/v1/scopes/gh/secrets/TOKEN", { method: "PUT", headers: json, body: JSON.stringify({ value: planted }) })
            assert.equal(put.status, 200)
            const { client, transport } = await k.client()
            assert.ok(transport.sessionId && /^[0-9a-f-]{36}$/.test(transport.sessionId))
            const r = await client.callTool({ name: "ds__env", arguments: { name: "TOKEN" } })
            const env = JSON.parse(first(r)) as { sha256: string; names: string[] }
            assert.equal(env.sha256, sha(planted))
            // the one marker downstream/stdio.ts sets on purpose (no secret, no path), and nothing else of mcplexer's
            assert.ok(!env.names.some(n => n.startsWith("MCPLEXER_") && n !== "MCPLEXER_INSTANCE"), env.names.join(" "))
            assert.equal(k.api.sessions.size, 1)
            await transport.terminateSession()
            assert.equal(k.api.sessions.size, 0)
            await client.close()
        } finally {
            await k.close()
        }
    })
}

for (const way of ways) {
    test(`a request naming an unknown session gets 404, one without a session 400${way.name}`, async () => {
        const k = await start(dsConfig(), { wire: way.wire })
        try {
            const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" })
            const headers = { ...json, accept: "application/json, text/event-stream" }
            const r = await k.req("/mcp", { method: "POST", headers: { ...headers, "mcp-session-id": "00000000-0000-4000-8000-000000000000" }, body })
            assert.equal(r.status, 404)
            const n = await k.req("/mcp", { method: "POST", headers, body })
            assert.equal(n.status, 400)
        } finally {
            await k.close()
        }
    })
}

test("a value changed through the API restarts the running instance, as a CLI change does", async () => {
    const k = await start(dsConfig(), { secrets: { gh: { TOKEN: "first-value-1234" } } })
    try {
        const { client } = await k.client()
        const pid = async () => first(await client.callTool({ name: "ds__pid", arguments: {} }))
        const before = await pid()
        const put = await k.req("/api/v1/scopes/gh/secrets/TOKEN", { method: "PUT", headers: json, body: JSON.stringify({ value: planted }) })
        assert.equal(put.status, 200)
        let after = before
        for (let i = 0; i < 50 && after === before; i++) {
            await sleep(100)
            after = await pid()
        }
        assert.notEqual(after, before, "the instance kept running with the old value")
        const env = JSON.parse(first(await client.callTool({ name: "ds__env", arguments: { name: "TOKEN" } }))) as { sha256: string }
        assert.equal(env.sha256, sha(planted))
        await client.close()
    } finally {
        await k.close()
    }
})

for (const way of ways) {
    test(`the client's Authorization header never reaches a downstream server${way.name}`, async () => {
        const { listen } = await import("../fixtures/ds-http.ts")
        const remote = await listen()
        const k = await start(`auth_scopes: {}
servers:
  remote: { url: ${JSON.stringify(remote.url)} }
`, { wire: way.wire })
        try {
            const { client } = await k.client()
            const r = await client.callTool({ name: "remote__whoami", arguments: {} })
            assert.equal(first(r), "(none)")
            assert.ok(remote.seen.length > 0)
            for (const h of remote.seen) assert.ok(!JSON.stringify(h).includes(k.token), "the token went downstream")
            await client.close()
        } finally {
            await k.close()
            await remote.close()
        }
    })
}

/** Reads a JSON answer, or SSE events from a response body until `want` matches one's JSON data. */
async function until(res: Response, want: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    if (res.headers.get("content-type")?.startsWith("application/json")) {
        const m = await res.json() as Record<string, unknown>
        assert.ok(want(m), `unexpected answer ${JSON.stringify(m)}`)
        return m
    }
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
    let buf = ""
    for (;;) {
        const { value, done } = await reader.read()
        if (done) throw new Error(`stream ended before the message; got ${buf}`)
        buf += value
        for (const event of buf.split("\n\n")) {
            const data = event.split("\n").filter(l => l.startsWith("data: ")).map(l => l.slice(6)).join("\n")
            if (data === "") continue
            const m = JSON.parse(data) as Record<string, unknown>
            if (want(m)) {
                await reader.cancel()
                return m
            }
        }
    }
}

/** An initialized raw session: its id and the headers of its next requests. */
async function session(k: Awaited<ReturnType<typeof start>>): Promise<Record<string, string>> {
    const h = { ...json, accept: "application/json, text/event-stream" }
    const init = await k.req("/mcp", {
        method: "POST", headers: h,
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: { sampling: {} }, clientInfo: { name: "raw", version: "1" } } }),
    })
    assert.equal(init.status, 200)
    await until(init, m => m.id === 1)
    const s = { ...h, "mcp-session-id": init.headers.get("mcp-session-id")!, "mcp-protocol-version": "2025-06-18" }
    assert.equal((await k.req("/mcp", { method: "POST", headers: s, body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) })).status, 202)
    return s
}

for (const way of ways) {
    test(`a downstream's sampling request reaches the calling session on the call's own stream${way.name}`, { timeout: 30_000 }, async () => {
        const k = await start(dsConfig(), { wire: way.wire, secrets: { gh: { TOKEN: "token-value-1234" } } })
        try {
            const s = await session(k)
            // another capable session that connected later must not be asked
            await session(k)
            const call = await k.req("/mcp", { method: "POST", headers: s, body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "ds__sample", arguments: { text: "ask" } } }) })
            assert.equal(call.status, 200)
            const reader = call.body!.pipeThrough(new TextDecoderStream()).getReader()
            let buf = ""
            let ask: Record<string, unknown> | undefined
            while (ask === undefined) {
                const { value, done } = await reader.read()
                if (done) throw new Error(`the call's stream ended: ${buf}`)
                buf += value
                const m = /^data: (.*sampling\/createMessage.*)$/m.exec(buf)
                if (m) ask = JSON.parse(m[1]!) as Record<string, unknown>
            }
            const answer = { jsonrpc: "2.0", id: ask.id, result: { role: "assistant", content: { type: "text", text: "sampled-answer" }, model: "m" } }
            assert.equal((await k.req("/mcp", { method: "POST", headers: s, body: JSON.stringify(answer) })).status, 202)
            while (!buf.includes('"id":2')) {
                const { value, done } = await reader.read()
                if (done) break
                buf += value
            }
            assert.match(buf, /sampled-answer/)
            await reader.cancel()
        } finally {
            await k.close()
        }
    })
}

for (const way of ways) {
    test(`what a session is sent before it opens its GET stream waits for the stream instead of being lost${way.name}`, { timeout: 30_000 }, async () => {
        const k = await start(dsConfig(), { wire: way.wire, secrets: { gh: { TOKEN: "token-value-1234" } } })
        try {
            const s = await session(k)
            // the catalog grows: tools/list_changed goes to every session, outside any request
            const list = await k.req("/mcp", { method: "POST", headers: s, body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }) })
            await until(list, m => m.id === 2)
            const grow = await k.req("/mcp", { method: "POST", headers: s, body: JSON.stringify({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "ds__grow", arguments: { name: "grown" } } }) })
            await until(grow, m => m.id === 3)
            await sleep(500)
            const get = await k.req("/mcp", { headers: { accept: "text/event-stream", "mcp-session-id": s["mcp-session-id"]!, "mcp-protocol-version": "2025-06-18" } })
            assert.equal(get.status, 200)
            const n = await until(get, m => m.method === "notifications/tools/list_changed")
            assert.equal(n.method, "notifications/tools/list_changed")
        } finally {
            await k.close()
        }
    })
}

for (const way of ways) {
    test(`a plain call is answered with JSON, and a call that streams progress becomes an SSE stream carrying it${way.name}`, { timeout: 30_000 }, async () => {
        const k = await start(dsConfig(), { wire: way.wire, secrets: { gh: { TOKEN: "token-value-1234" } } })
        try {
            const s = await session(k)
            const plain = await k.req("/mcp", { method: "POST", headers: s, body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "ds__echo", arguments: { text: "plain" } } }) })
            assert.equal(plain.status, 200)
            assert.match(plain.headers.get("content-type") ?? "", /^application\/json/)
            assert.equal(plain.headers.get("mcp-session-id"), s["mcp-session-id"])
            assert.match(JSON.stringify(await plain.json()), /plain/)
            const body = JSON.stringify({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "ds__progress", arguments: { count: 3 }, _meta: { progressToken: "p1" } } })
            const streamed = await k.req("/mcp", { method: "POST", headers: s, body })
            assert.equal(streamed.status, 200)
            assert.match(streamed.headers.get("content-type") ?? "", /^text\/event-stream/)
            const text = await streamed.text()
            const events = text.split("\n\n").filter(e => e.startsWith("event: message"))
            assert.ok(events.filter(e => e.includes("notifications/progress")).length >= 1, text)
            assert.match(events.at(-1) ?? "", /"id":3/)
        } finally {
            await k.close()
        }
    })
}
