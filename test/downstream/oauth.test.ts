/**
 * What a login takes from an authorization server, in process against the OAuth fixture
 * (test/fixtures/oauth-server.ts) with a real vault: the link handed to the browser (its scheme,
 * and a one-shot start link rather than the state and PKCE challenge in the opener's arguments),
 * RFC 9207's `iss`, RFC 8414's issuer, and the size of what is read (with a backoff after a
 * failure). The browser is the headless one of the e2e tests behind a script that records its argv.
 */
import assert from "node:assert/strict"
import { randomBytes } from "node:crypto"
import { existsSync } from "node:fs"
import { chmod, readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { test, type TestContext } from "node:test"
import type * as config from "../../internal/config/index.ts"
import { browser } from "../../internal/cli/auth.ts"
import { report, type Output } from "../../internal/cli/output.ts"
import * as downstream from "../../internal/downstream/index.ts"
import * as redact from "../../internal/redact/index.ts"
import { start, type OAuthFixture, type Options } from "../fixtures/oauth-server.ts"
import { fresh, root, vault } from "./kit.ts"

/** An Output that keeps every line, as the terminal would have shown it. */
function recorder(): Output & { lines: string[] } {
    const lines: string[] = []
    return {
        lines,
        out: t => { lines.push(String(t)) },
        info: t => { lines.push(t) },
        warn: t => { lines.push(`warning: ${t}`) },
        error: t => { lines.push(`error: ${t}`) },
        hint: t => { lines.push(`hint: ${t}`) },
        tty: false,
    }
}

interface Setup { fx: OAuthFixture; home: string; argv: string; out: ReturnType<typeof recorder>; target: downstream.Target }

/** A fixture, a vault, and $BROWSER set to a script that appends its argv to `argv` and then follows the link headlessly. */
async function setup(t: TestContext, o: Options = {}, headers: Record<string, string> = {}): Promise<Setup> {
    const fx = await start(`plant${randomBytes(6).toString("hex")}`, o)
    t.after(() => fx.close())
    const home = await fresh()
    const argv = join(home, "browser-argv")
    const script = join(home, "browser")
    await writeFile(script, `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a" >> ${JSON.stringify(argv)}; done\nexec ${JSON.stringify(join(root, "test", "fixtures", "browser"))} "$@"\n`)
    await chmod(script, 0o700)
    const before = process.env.BROWSER
    process.env.BROWSER = script
    t.after(() => { process.env.BROWSER = before })
    const v = vault(home)
    t.after(() => v.close())
    const server: config.RemoteServer = {
        name: "remote", kind: "remote", url: fx.url, headers, inject: "none", oauth: { grant: "authorization_code" },
        scope: "rs", prefix: true, idleTimeout: 600_000, timeout: 20_000, tools: { disabled: [] }, quarantine: false,
    }
    return { fx, home, argv, out: recorder(), target: { server, vault: v, registry: redact.create(), env: process.env, timeout: 15_000 } }
}

const args = async (file: string): Promise<string[]> => existsSync(file) ? (await readFile(file, "utf8")).split("\n").filter(Boolean) : []

for (const [endpoint, scheme] of [["file:///etc/passwd", "file"], ["vscode://evil.ext/run?cmd=x", "vscode"], ["http://evil.example/authorize", "http"]] as const) {
    test(`an authorization_endpoint of ${endpoint} is never opened nor printed; the error names scheme ${scheme}`, async t => {
        const s = await setup(t, { metadata: m => ({ ...m, authorization_endpoint: endpoint }) })
        await assert.rejects(downstream.login(s.target, browser(s.out)), (e: Error & { hint?: string }) => {
            assert.match(e.message, new RegExp(`gave a login link with scheme "${scheme}"`))
            assert.equal(typeof e.hint, "string")
            return true
        })
        assert.deepEqual(await args(s.argv), [], "the opener was called")
        assert.ok(!s.out.lines.join("\n").includes(endpoint.split("?")[0]!), "the link was printed")
        assert.equal(s.fx.stats.authorizations, 0)
    })
}

for (const endpoint of ["javascript:alert(1)", "data:text/html,<script>x</script>"]) {
    test(`an authorization_endpoint of ${endpoint.slice(0, 16)} (refused by the SDK's schema) is the server's error with a hint, never "a bug" with the schema's dump`, async t => {
        const s = await setup(t, { metadata: m => ({ ...m, authorization_endpoint: endpoint }) })
        await assert.rejects(downstream.login(s.target, browser(s.out)), (e: Error & { hint?: string }) => {
            assert.match(e.message, /^the authorization server of server "remote" sent an OAuth document mcplexer cannot use \(authorization_endpoint: URL cannot use javascript:, data:/)
            assert.equal(typeof e.hint, "string")
            return true
        })
        assert.deepEqual(await args(s.argv), [], "the opener was called")
        assert.equal(s.fx.stats.authorizations, 0)
    })
}

test("the opener's link is only http to this machine or https", () => {
    const ok = ["https://as.example/authorize", "http://127.0.0.1:8080/start/x", "http://127.1.2.3/", "http://localhost:1/", "http://[::1]:9/"]
    const no = ["file:///etc/passwd", "vscode://x", "javascript:alert(1)", "http://evil.example/", "http://127.0.0.1.evil.example/", "ftp://as.example/", "data:text/html,x"]
    for (const u of ok) assert.ok(downstream.oauth.openable(new URL(u)), u)
    for (const u of no) assert.ok(!downstream.oauth.openable(new URL(u)), u)
})

test("the browser's arguments hold a one-shot start link, not the state or PKCE challenge; the login completes", async t => {
    const s = await setup(t)
    assert.equal(await downstream.login(s.target, browser(s.out)), true)
    const a = await args(s.argv)
    assert.equal(a.length, 1)
    assert.match(a[0] ?? "", /^http:\/\/127\.0\.0\.1:\d+\/start\/[A-Za-z0-9_-]{22}$/)
    assert.doesNotMatch(a[0] ?? "", /state|code_challenge|authorize/)
    assert.match(s.out.lines.join("\n"), /to log in to server "remote" \(at http:\/\/127\.0\.0\.1:\d+\), open:\n {2}http:\/\/127\.0\.0\.1:\d+\/start\//)
    assert.equal(s.fx.stats.codes, 1)
})

test("a second request for the start link gets nothing and fails the login: nothing is stored", async t => {
    const s = await setup(t)
    let stolen: Response | undefined
    let second: Response | undefined
    const present: downstream.oauth.Present = async url => {
        // another local user read the link first, and follows it as far as the authorization server
        stolen = await fetch(url, { redirect: "manual" })
        assert.equal(stolen.status, 302)
        const authorize = await fetch(stolen.headers.get("location") ?? "", { redirect: "manual" })
        assert.equal(authorize.status, 302)
        // then the person's browser opens it
        second = await fetch(url, { redirect: "manual" })
    }
    await assert.rejects(downstream.login(s.target, present), /the login link was opened twice, so the login was stopped and nothing was stored/)
    assert.ok(second !== undefined && [404, 410].includes(second.status))
    assert.equal(second.headers.get("location"), null)
    assert.equal(s.fx.stats.codes, 0, "a code was exchanged")
    assert.deepEqual(s.target.vault.list("rs").map(e => e.key).filter(k => /token/.test(k)), [])
})

test("where the server says it sends iss (RFC 9207), another issuer or none fails the login", async t => {
    for (const iss of [() => "https://evil.example/", () => undefined]) {
        const s = await setup(t, { metadata: m => ({ ...m, authorization_response_iss_parameter_supported: true }), iss })
        await assert.rejects(downstream.login(s.target, browser(s.out)), /came back from issuer .*\(RFC 9207\); nothing was stored/)
        assert.equal(s.fx.stats.codes, 0)
    }
    // the right one passes
    const s = await setup(t, { metadata: m => ({ ...m, authorization_response_iss_parameter_supported: true }), iss: i => i })
    assert.equal(await downstream.login(s.target, browser(s.out)), true)
    assert.equal(s.fx.stats.codes, 1)
})

test("metadata whose issuer is not the URL it was fetched for is refused before anything is registered or opened", async t => {
    const s = await setup(t, { metadata: m => ({ ...m, issuer: "https://evil.example/" }) })
    await assert.rejects(downstream.login(s.target, browser(s.out)), (e: Error & { hint?: string }) => {
        assert.match(e.message, /names issuer "https:\/\/evil\.example\/", not "http:\/\/127\.0\.0\.1:\d+\/" it was fetched for \(RFC 8414 §3\.3\)/)
        assert.equal(typeof e.hint, "string")
        return true
    })
    assert.deepEqual(await args(s.argv), [])
    assert.equal(s.fx.stats.authorizations, 0)
    assert.deepEqual(s.target.vault.list("rs").map(e => e.key), [])
})

test("without protected resource metadata (2025-03-26), an issuer at a path of the server's origin is taken, one elsewhere refused", async t => {
    const here = await setup(t, { noResourceMetadata: true, metadata: m => ({ ...m, issuer: `${String(m.issuer)}oauth` }) })
    assert.equal(await downstream.login(here.target, browser(here.out)), true)
    const there = await setup(t, { noResourceMetadata: true, metadata: m => ({ ...m, issuer: "https://evil.example/" }) })
    await assert.rejects(downstream.login(there.target, browser(there.out)), /names issuer "https:\/\/evil\.example\/", not "http:\/\/127\.0\.0\.1:\d+\/" it was fetched for/)
    assert.equal(there.fx.stats.authorizations, 0)
})

test("an issuer that differs only by a trailing slash is the same issuer", async t => {
    const s = await setup(t, { metadata: m => ({ ...m, issuer: String(m.issuer).replace(/\/$/, "") }) })
    assert.equal(await downstream.login(s.target, browser(s.out)), true)
})

for (const size of [5 * 1024 * 1024, Infinity]) {
    test(`a ${size === Infinity ? "endless" : "5 MiB"} metadata document is cut off at 1 MiB, and not asked for again within the backoff`, async t => {
        const s = await setup(t, { bigMetadata: size })
        await assert.rejects(downstream.login(s.target, browser(s.out)), /answer from http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-authorization-server is larger than 1 MiB, the most mcplexer reads/)
        // the server saw the reader hang up before it had sent everything
        for (let i = 0; i < 100 && s.fx.stats.metadataCut === 0; i++) await new Promise(r => setTimeout(r, 20))
        assert.equal(s.fx.stats.metadataCut, 1)
        assert.ok(s.fx.stats.metadataBytes < 4 * 1024 * 1024, `sent ${s.fx.stats.metadataBytes} bytes`)
        assert.equal(s.fx.stats.metadata, 1)
        await assert.rejects(downstream.login(s.target, browser(s.out)), /not asking http:\/\/127\.0\.0\.1:\d+ again for \d+s: .*larger than 1 MiB/)
        assert.equal(s.fx.stats.metadata, 1, "the document was asked for again within the backoff")
        assert.deepEqual(await args(s.argv), [])
    })
}

test("an authorization server's error_description ends the login as an error with a hint, printed only through Output", async t => {
    const description = "no \x1b[2J\x1b[31mway\x07"
    const s = await setup(t, { refuse: description })
    const e = await downstream.login(s.target, browser(s.out)).then(() => undefined, (e: unknown) => e)
    assert.ok(e instanceof Error)
    assert.match(e.message, /^the authorization server refused the login: access_denied: no /)
    assert.equal(typeof (e as Error & { hint?: unknown }).hint, "string", "no hint: the CLI would call it a bug")
    // what the CLI prints of it goes through the Output it is given, and nowhere else
    const code = report(e, s.out)
    assert.equal(code, 1)
    assert.ok(s.out.lines.some(l => l.startsWith("error: the authorization server refused the login: access_denied: no ")))
    assert.ok(!s.out.lines.some(l => /report it/.test(l)))
})

test("the server's own headers go to its origin only, never to an authorization server elsewhere", async t => {
    // the authorization server is http://localhost:<port>, the MCP endpoint http://127.0.0.1:<port>
    const s = await setup(t, { issuerHost: "localhost", watch: "x-api-key" }, { "X-Api-Key": "k3y-that-stays-home" })
    assert.equal(await downstream.login(s.target, browser(s.out)), true)
    assert.equal(s.fx.stats.codes, 1)
    assert.ok(s.fx.stats.watched.includes("/.well-known/oauth-protected-resource/mcp"), "the header did not reach the server's own origin: the test proves nothing")
    const elsewhere = s.fx.stats.watched.filter(p => p !== "/.well-known/oauth-protected-resource/mcp")
    assert.deepEqual(elsewhere, [], "the header reached the authorization server")
})
