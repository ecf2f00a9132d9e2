/**
 * The login's loopback listener: 127.0.0.1 only, the expected state only, once, a Host of
 * 127.0.0.1:port only (node:http sends the Host we set; fetch would not), and a timeout.
 */
import assert from "node:assert/strict"
import { request } from "node:http"
import { test } from "node:test"
import { Loopback } from "../../internal/downstream/loopback.ts"

function get(url: string, host?: string): Promise<{ status: number; body: string }> {
    const u = new URL(url)
    return new Promise((done, fail) => {
        const r = request({ host: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, headers: host === undefined ? {} : { host } }, res => {
            let body = ""
            res.setEncoding("utf8").on("data", (d: string) => { body += d })
            res.on("end", () => done({ status: res.statusCode ?? 0, body }))
        })
        r.on("error", fail)
        r.end()
    })
}

test("the listener is on 127.0.0.1 at a random port, at /callback", async () => {
    const a = await Loopback.open(10_000)
    const b = await Loopback.open(10_000)
    assert.match(a.url, /^http:\/\/127\.0\.0\.1:\d+\/callback$/)
    assert.notEqual(a.url, b.url)
    a.close()
    b.close()
})

test("a wrong state is refused and the login keeps waiting for the right one", async () => {
    const l = await Loopback.open(10_000)
    l.expect("right-state")
    const wrong = await get(`${l.url}?code=c1&state=wrong-state`)
    assert.equal(wrong.status, 400)
    assert.match(wrong.body, /wrong state/)
    const missing = await get(`${l.url}?code=c1`)
    assert.equal(missing.status, 400)
    const ok = await get(`${l.url}?code=c2&state=right-state&iss=https%3A%2F%2Fas.example`)
    assert.equal(ok.status, 200)
    assert.deepEqual(await l.code(), { code: "c2", iss: "https://as.example" })
})

test("a second use is refused: the listener is closed after the code", async () => {
    const l = await Loopback.open(10_000)
    l.expect("s")
    assert.equal((await get(`${l.url}?code=c&state=s`)).status, 200)
    await l.code()
    await assert.rejects(get(`${l.url}?code=c&state=s`), /ECONNREFUSED/)
})

test("any Host other than 127.0.0.1:port is refused, so a rebound DNS name cannot reach it", async () => {
    const l = await Loopback.open(10_000)
    l.expect("s")
    const port = new URL(l.url).port
    for (const host of ["localhost", `localhost:${port}`, `evil.example:${port}`, "127.0.0.1", `127.0.0.1:${Number(port) + 1}`]) {
        const r = await get(`${l.url}?code=c&state=s`, host)
        assert.equal(r.status, 421, host)
    }
    // the right Host still works: nothing was consumed by the refused ones
    assert.equal((await get(`${l.url}?code=c&state=s`, `127.0.0.1:${port}`)).status, 200)
    assert.equal((await l.code()).code, "c")
})

test("an error from the authorization server ends the login with its reason", async () => {
    const l = await Loopback.open(10_000)
    l.expect("s")
    assert.equal((await get(`${l.url}?error=access_denied&error_description=user+said+no&state=s`)).status, 400)
    await assert.rejects(l.code(), /refused the login: access_denied: user said no/)
})

test("with no answer the listener gives up after its timeout and closes", async () => {
    const l = await Loopback.open(200)
    l.expect("s")
    await assert.rejects(l.code(), /no login arrived within/)
    await assert.rejects(get(`${l.url}?code=c&state=s`), /ECONNREFUSED/)
})

test("the start link redirects to the authorization URL once, uncached; a second request gets 410 and fails the login", async () => {
    const l = await Loopback.open(10_000)
    l.expect("s")
    const link = l.start(new URL("https://as.example/authorize?state=s&code_challenge=c"))
    assert.match(link, /^http:\/\/127\.0\.0\.1:\d+\/start\/[A-Za-z0-9_-]{22}$/)
    const first = await fetch(link, { redirect: "manual" })
    assert.equal(first.status, 302)
    assert.equal(first.headers.get("location"), "https://as.example/authorize?state=s&code_challenge=c")
    assert.equal(first.headers.get("cache-control"), "no-store")
    const second = await fetch(link, { redirect: "manual" })
    assert.equal(second.status, 410)
    assert.equal(second.headers.get("location"), null)
    await assert.rejects(l.code(), /the login link was opened twice, so the login was stopped and nothing was stored/)
    // and the callback is gone with it
    await assert.rejects(get(`${l.url}?code=c&state=s`), /ECONNREFUSED/)
})

test("a wrong start link gets 404 and leaves the login waiting; a callback before the start is refused", async () => {
    const l = await Loopback.open(10_000, 0)
    l.expect("s")
    const link = l.start(new URL("https://as.example/authorize"))
    const port = new URL(l.url).port
    assert.equal((await get(`http://127.0.0.1:${port}/start/guessed`)).status, 404)
    assert.equal((await get(`${l.url}?code=c&state=s`)).status, 400)
    assert.equal((await fetch(link, { redirect: "manual" })).status, 302)
    assert.equal((await get(`${l.url}?code=c&state=s`)).status, 200)
    assert.equal((await l.code()).code, "c")
})

test("the start link answers only with the Host 127.0.0.1:port", async () => {
    const l = await Loopback.open(10_000)
    const link = new URL(l.start(new URL("https://as.example/authorize")))
    assert.equal((await get(link.href, `localhost:${link.port}`)).status, 421)
    assert.equal((await fetch(link, { redirect: "manual" })).status, 302)
    l.close()
})

test("a reader who finishes a whole login before the person's browser opens the link is caught: the login fails, nothing is returned", async () => {
    const l = await Loopback.open(10_000, 1_500)
    l.expect("s")
    const link = l.start(new URL("https://as.example/authorize?state=s"))
    // another local user read the link from the opener's arguments and went through the login first
    assert.equal((await fetch(link, { redirect: "manual" })).status, 302)
    assert.equal((await get(`${l.url}?code=theirs&state=s`)).status, 200)
    // then the person's own browser opens it, within the hold
    const mine = await fetch(link, { redirect: "manual" })
    assert.equal(mine.status, 410)
    await assert.rejects(l.code(), /the login link was opened twice, so the login was stopped and nothing was stored/)
})

test("a login completes once the hold has passed since its link was handed out, and not before", async () => {
    const l = await Loopback.open(10_000, 800)
    l.expect("s")
    const link = l.start(new URL("https://as.example/authorize?state=s"))
    const t0 = Date.now()
    assert.equal((await fetch(link, { redirect: "manual" })).status, 302)
    assert.equal((await get(`${l.url}?code=c&state=s`)).status, 200)
    assert.equal((await l.code()).code, "c")
    assert.ok(Date.now() - t0 >= 700, `completed after ${Date.now() - t0} ms`)
    // the listener is gone once it completed
    await assert.rejects(fetch(link, { redirect: "manual" }), /fetch failed/)
})
