import assert from "node:assert/strict"
import { createHmac } from "node:crypto"
import { test } from "node:test"
import { setTimeout as sleep } from "node:timers/promises"
import * as httpapi from "../../internal/httpapi/index.ts"
import { dsConfig, origin, start } from "./kit.ts"

const form = { "content-type": "application/x-www-form-urlencoded" }
const tenMB = 10 * 1024 * 1024
// how the cookie and the CSRF token used to be made: one static value each, derived from the API token
const derive = (token: string, purpose: string) => createHmac("sha256", token).update(`mcplexer/${purpose}`).digest("base64url")

/** A 10 MB body that counts what the server pulled from it. */
function big(): { body: ReadableStream<Uint8Array>; pulled: () => number } {
    const chunk = new Uint8Array(64 * 1024).fill(0x61)
    let sent = 0
    const body = new ReadableStream<Uint8Array>({
        pull(c) {
            if (sent >= tenMB) return c.close()
            sent += chunk.length
            c.enqueue(chunk)
        },
    }, { highWaterMark: 0 })
    return { body, pulled: () => sent }
}

test("a 10 MB POST is refused with 413 before it is read, on every route, cookie-authenticated ones included", async () => {
    const k = await start()
    try {
        const { base, cookie, csrf } = await k.login()
        for (const path of [`${base}/logout`, "/nowhere", `${base}/ui/secrets`, "/login", "/api/v1/scopes/gh/secrets/TOKEN", "/api/nowhere", "/mcp"]) {
            // with a Content-Length: refused on the header alone
            const declared = big()
            const r = await k.req(path, { method: "POST", auth: false, headers: { ...form, cookie, origin, "content-length": String(tenMB) }, body: declared.body, duplex: "half" })
            assert.equal(r.status, 413, `${path} with a length`)
            assert.ok(declared.pulled() <= 64 * 1024, `${path}: ${declared.pulled()} bytes were read before the 413`)
            // chunked, without one: counted as it streams, and cut at the cap
            const chunked = big()
            const s = await k.req(path, { method: "POST", auth: false, headers: { ...form, cookie, origin }, body: chunked.body, duplex: "half" })
            // /mcp checks the token before it reads a body of unknown length: refused unread
            assert.equal(s.status, path === "/mcp" ? 401 : 413, `${path} chunked`)
            assert.ok(chunked.pulled() <= httpapi.limits.mcpBody + 128 * 1024, `${path}: ${chunked.pulled()} bytes were read before the 413`)
        }
        // the login still works after all that: nothing was parsed
        const ok = await k.req(`${base}/logout`, { method: "POST", auth: false, headers: { ...form, cookie, origin }, body: `_csrf=${csrf}` })
        assert.equal(ok.status, 303)
    } finally {
        await k.close()
    }
})

test("a cookie stops working at logout, also in a copy of it", async () => {
    const k = await start()
    try {
        const { base, cookie, csrf } = await k.login()
        assert.equal((await k.req(`${base}/secrets`, { auth: false, headers: { cookie } })).status, 200)
        const out = await k.req(`${base}/logout`, { method: "POST", auth: false, headers: { ...form, cookie, origin }, body: `_csrf=${csrf}` })
        assert.equal(out.status, 303)
        assert.match(out.headers.get("set-cookie") ?? "", new RegExp(`mcplexer_session=;.*Max-Age=0.*Path=${base}|mcplexer_session=;.*Path=${base}.*Max-Age=0`))
        // the same cookie at the same address, replayed as a stolen copy would be
        const page = await k.req(`${base}/secrets`, { auth: false, headers: { cookie } })
        assert.equal(page.status, 303)
        assert.equal(page.headers.get("location"), "/login")
        assert.equal(k.api.logins.size, 0)
    } finally {
        await k.close()
    }
})

test("a cookie stops working when its login expires", async () => {
    const k = await start(dsConfig(), { limits: { login: 300 } })
    try {
        const { base, cookie, set } = await k.login()
        assert.match(set, /Max-Age=1\b/)
        assert.equal((await k.req(`${base}/secrets`, { auth: false, headers: { cookie } })).status, 200)
        await sleep(400)
        assert.equal((await k.req(`${base}/secrets`, { auth: false, headers: { cookie } })).status, 303)
    } finally {
        await k.close()
    }
})

test("each login gets its own random cookie and CSRF token, none derived from the API token", async () => {
    const k = await start()
    try {
        const a = await k.login(), b = await k.login()
        assert.notEqual(a.cookie, b.cookie)
        assert.notEqual(a.csrf, b.csrf)
        assert.notEqual(a.base, b.base)
        for (const l of [a, b]) {
            const value = l.cookie.split("=")[1]!
            assert.match(value, /^[A-Za-z0-9_-]{43}$/)
            assert.notEqual(value, derive(k.token, "cookie"))
            assert.notEqual(l.csrf, derive(k.token, "csrf"))
        }
        // one login's CSRF token does not pass for another's, nor one login's cookie at another's address
        const cross = await k.req(`${a.base}/ui/secrets`, { method: "POST", auth: false, headers: { ...form, cookie: a.cookie, origin }, body: `scope=gh&key=TOKEN&value=v-1234&_csrf=${b.csrf}` })
        assert.equal(cross.status, 403)
        const swapped = await k.req(`${b.base}/ui/secrets`, { method: "POST", auth: false, headers: { ...form, cookie: a.cookie, origin }, body: `scope=gh&key=TOKEN&value=v-1234&_csrf=${b.csrf}` })
        assert.equal(swapped.status, 401)
        assert.equal(k.vault.list("gh").length, 0)
    } finally {
        await k.close()
    }
    // a server started again with the same token knows no login of the last one
    const k2 = await start()
    try {
        const forged = `${httpapi.cookie}=${derive(k2.token, "cookie")}`
        assert.equal((await k2.req("/secrets", { auth: false, headers: { cookie: forged } })).status, 303)
    } finally {
        await k2.close()
    }
})

test("the cookie is HttpOnly and SameSite=Strict always, and Secure when the request came over TLS", async () => {
    const k = await start()
    try {
        const plain = await k.login()
        assert.match(plain.set, /HttpOnly/)
        assert.match(plain.set, /SameSite=Strict/)
        assert.doesNotMatch(plain.set, /Secure/)
        const tls = await k.login({ scheme: "https" })
        assert.match(tls.set, /HttpOnly/)
        assert.match(tls.set, /SameSite=Strict/)
        assert.match(tls.set, /;\s*Secure/)
    } finally {
        await k.close()
    }
})

test("a login's cookie alone, even with a CSRF token read with it, reads and writes nothing: the REST API wants the token, the UI its login's address too", async () => {
    const k = await start()
    try {
        const planted = "pl4nted-cookie-only-7c1e"
        const { base, cookie, set, csrf } = await k.login()
        // the browser sends the cookie only under the login's address, on whatever port
        assert.match(base, /^\/s\/[A-Za-z0-9_-]{32}$/)
        assert.match(set, new RegExp(`;\\s*Path=${base}(;|$)`))
        const json = { "content-type": "application/json", "sec-fetch-site": "same-origin", origin }
        const seen: string[] = []
        const check = async (what: string, r: Promise<Response>, statuses: number[]) => {
            const res = await r
            const text = await res.text()
            seen.push(text)
            assert.ok(statuses.includes(res.status), `${what}: ${res.status} ${text}`)
        }
        // the REST API: the bearer token or nothing
        await check("REST read", k.req("/api/v1/scopes", { auth: false, headers: { cookie } }), [401])
        await check("REST write", k.req("/api/v1/scopes/gh/secrets/TOKEN", { method: "PUT", auth: false, headers: { cookie, ...json, "x-csrf-token": csrf }, body: JSON.stringify({ value: planted }) }), [401])
        await check("REST delete", k.req("/api/v1/scopes/gh/secrets/TOKEN", { method: "DELETE", auth: false, headers: { cookie, "x-csrf-token": csrf, origin } }), [401])
        // the UI without its login's address: the pages and forms of the old layout, and a made-up address
        const form = { "content-type": "application/x-www-form-urlencoded", origin }
        for (const path of ["/", "/secrets", "/audit", "/approvals", "/s/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/secrets"]) {
            await check(`UI page ${path}`, k.req(path, { auth: false, headers: { cookie } }), [303])
        }
        for (const path of ["/ui/secrets", "/s/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/ui/secrets", "/logout"]) {
            await check(`UI form ${path}`, k.req(path, { method: "POST", auth: false, headers: { cookie, ...form }, body: `scope=gh&key=TOKEN&value=${planted}&_csrf=${csrf}` }), [401, 403])
        }
        assert.equal(k.vault.list("gh").length, 0, "a secret was written with the cookie alone")
        assert.ok(!seen.join("\n").includes(csrf), "a page answered a bare cookie with the login's CSRF token")
        // the login's own address without its cookie opens nothing either
        await check("address without cookie", k.req(`${base}/secrets`, { auth: false }), [303])
        // and the real flow still works: address, cookie and CSRF token together
        const ok = await k.req(`${base}/ui/secrets`, { method: "POST", auth: false, headers: { cookie, ...form }, body: `scope=gh&key=TOKEN&value=${planted}&_csrf=${csrf}` })
        assert.equal(ok.status, 303)
        assert.equal(await k.vault.get("gh", "TOKEN"), planted)
        assert.ok(!seen.join("\n").includes(planted))
    } finally {
        await k.close()
    }
})

test("a form post whose body is no form is the client's error (400), not a 500, on the login and under a login", async () => {
    const k = await start()
    try {
        const { base, cookie } = await k.login()
        // found by test/fuzz/http.ts: a multipart type with no parts made hono's form parser throw
        for (const [path, headers] of [["/login", {}], [`${base}/ui/secrets`, { cookie }]] as const) {
            const r = await k.req(path, { method: "POST", auth: false, headers: { ...headers, origin, "content-type": "multipart/form-data; boundary=b" } })
            assert.equal(r.status, 400, `${path}: ${r.status}`)
            assert.match(await r.text(), /the request body is not a form/)
        }
    } finally {
        await k.close()
    }
})

test("the secrets page warns about an expired value and one expiring soon, naming them and never a value", async () => {
    const k = await start()
    try {
        await k.vault.put("gh", "TOKEN", "ghp_expiredPLANTED-91c2", { expires: new Date(Date.now() - 86_400_000) })
        await k.vault.put("gh", "SOON", "ghp_soonPLANTED-5e7a", { expires: new Date(Date.now() + 3 * 86_400_000) })
        const { base, cookie } = await k.login()
        const page = await (await k.req(`${base}/secrets`, { auth: false, headers: { cookie } })).text()
        assert.match(page, /secret &quot;gh\/TOKEN&quot; expired 1 ?d(ay)? ago|secret "gh\/TOKEN" expired/)
        assert.match(page, /secret (&quot;|")gh\/SOON(&quot;|") expires in/)
        assert.ok(!page.includes("PLANTED"))
    } finally {
        await k.close()
    }
})
