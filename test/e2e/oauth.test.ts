/**
 * OAuth end to end: `mcplexer auth login` against a local OAuth-protected server (the SDK's own
 * server-side auth parts, test/fixtures/oauth-server.ts), then tool calls through a real `serve`
 * from an SDK client: the login, a forced expiry refreshed unseen, a revoked refresh token ending
 * in "log in again", and URL-mode elicitation offering the login to a client that supports it.
 * The planted tokens (made at run time) must reach none of: what the client received, serve's
 * stderr and log, the audit table, config.yaml, the database file; the rows decrypt with Go age.
 */
import assert from "node:assert/strict"
import { execFileSync, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { readFile, readdir, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { test, type TestContext } from "node:test"
import Database from "better-sqlite3"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import { CallToolResultSchema, ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js"
import { start, type OAuthFixture, type Options } from "../fixtures/oauth-server.ts"
import { cli, fresh, root, run, tap } from "../helpers.ts"

const browser = join(root, "test", "fixtures", "browser")

function configFor(url: string): string {
    return `auth_scopes:
  rs: { description: the remote server's tokens }
servers:
  remote:
    url: ${JSON.stringify(url)}
    scope: rs
    oauth: {}
`
}

/** A fixture whose tokens start with a fresh plant, torn down with the test, and a home configured for it; `init`, and `login` (which inits), as asked. */
async function begin(t: TestContext, o: { init?: boolean; login?: boolean; fixture?: Options } = {}): Promise<{ plant: string; fx: OAuthFixture; home: string }> {
    const plant = `plant${randomBytes(9).toString("hex")}`
    const fx = await start(plant, o.fixture)
    t.after(() => fx.close())
    const home = await fresh(configFor(fx.url))
    if (o.init || o.login) assert.equal((await run(home, ["init"])).code, 0)
    if (o.login) assert.equal((await login(home)).code, 0)
    return { plant, fx, home }
}

interface Session { client: Client; seen: string[]; stderr: () => string; close(): Promise<void> }

async function serve(home: string, o: { elicitation?: boolean } = {}): Promise<Session> {
    const transport = new StdioClientTransport({
        command: process.execPath, args: [cli, "serve", "--log-level", "debug"],
        env: { PATH: process.env.PATH ?? "", HOME: home, MCPLEXER_HOME: home }, stderr: "pipe",
    })
    let stderr = ""
    transport.stderr?.on("data", (d: Buffer) => { stderr += d.toString() })
    const seen: string[] = []
    tap(transport, seen)
    const client = new Client({ name: "e2e-oauth", version: "1.0.0" }, o.elicitation ? { capabilities: { elicitation: { url: {} } } } : {})
    await client.connect(transport)
    return { client, seen, stderr: () => stderr, close: () => client.close() }
}

async function call(s: Session, name: string): Promise<{ ok: boolean; text: string }> {
    try {
        const r = await s.client.request({ method: "tools/call", params: { name, arguments: {} } }, CallToolResultSchema)
        return { ok: r.isError !== true, text: r.content.map(c => (c.type === "text" ? c.text : "")).join("") }
    } catch (e) {
        return { ok: false, text: e instanceof Error ? e.message : String(e) }
    }
}

/** Every place a token must never be: the database file included, since rows are ciphertext. */
async function assertClean(home: string, plant: string, sessions: Session[]): Promise<void> {
    const db = new Database(join(home, "mcplexer.db"), { readonly: true })
    const audit = JSON.stringify(db.prepare("SELECT * FROM audit").all())
    db.close()
    const files = (await readdir(home)).filter(f => f.startsWith("mcplexer.db") || f === "mcplexer.log" || f === "config.yaml")
    for (const f of files) assert.ok(!(await readFile(join(home, f))).includes(plant), `a planted token is in plaintext in ${f}`)
    assert.ok(!audit.includes(plant), "a planted token reached the audit table")
    for (const s of sessions) {
        assert.ok(!s.seen.join("\n").includes(plant), "a planted token reached the client")
        assert.ok(!s.stderr().includes(plant), "a planted token reached serve's stderr")
    }
}

async function login(home: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return run(home, ["auth", "login", "remote"], { env: { BROWSER: browser } })
}

test("a login, a call through serve, an unseen refresh, then a revoked refresh asks to log in again; no token leaks", async t => {
    const { plant, fx, home } = await begin(t, { init: true })

    // before any login, serve names the command that fixes it
    const before = await serve(home)
    const missing = await call(before, "remote__hello")
    assert.equal(missing.ok, false)
    assert.match(missing.text, /server "remote" needs a login: run mcplexer auth login remote/)
    await before.close()
    const st0 = await run(home, ["auth", "status", "--json"])
    assert.equal((JSON.parse(st0.stdout) as Array<{ loggedIn: boolean }>)[0]?.loggedIn, false)
    assert.match((await run(home, ["status"])).stdout, /^login missing:\n {2}server "remote": mcplexer auth login remote$/m)
    const doctor = await run(home, ["doctor"])
    assert.match(doctor.stderr, /^mcplexer: warning: server "remote" needs a login \(oauth\), and none is stored\nmcplexer: hint: mcplexer auth login remote$/m)

    const l = await login(home)
    assert.equal(l.code, 0, l.stderr)
    // the one-shot start link on the login's own listener: the state and PKCE challenge stay out of argv
    assert.match(l.stderr, /to log in to server "remote" \(at http:\/\/127\.0\.0\.1:\d+\), open:\n {2}http:\/\/127\.0\.0\.1:\d+\/start\/[\w-]+\n/)
    assert.match(l.stderr, /logged in to server "remote" \(expires /)
    assert.equal(fx.stats.codes, 1)
    const st = JSON.parse((await run(home, ["auth", "status", "--json"])).stdout) as Array<{ loggedIn: boolean; refreshable: boolean; scopes?: string[] }>
    assert.deepEqual([st[0]?.loggedIn, st[0]?.refreshable, st[0]?.scopes], [true, true, ["mcp:tools"]])

    assert.doesNotMatch((await run(home, ["status"])).stdout, /login missing/)
    const s = await serve(home)
    const first = await call(s, "remote__whoami")
    assert.equal(first.ok, true, first.text)
    // the server echoed the token it was sent: the client sees it masked
    assert.equal(first.text, "you are [redacted]")

    // the server forgets the access token: the next call meets a 401, refreshes, and goes through
    fx.expire()
    const second = await call(s, "remote__hello")
    assert.deepEqual(second, { ok: true, text: "hello" })
    assert.equal(fx.stats.refreshes, 1)
    assert.equal(fx.stats.authorizations, 1, "nobody was asked to log in again")

    // both tokens revoked: the refresh fails, and the client is told to log in again
    fx.expire()
    fx.revokeRefresh()
    const third = await call(s, "remote__hello")
    assert.equal(third.ok, false)
    assert.match(third.text, /server "remote" needs a login: run mcplexer auth login remote/)
    await s.close()

    const log = await readFile(join(home, "mcplexer.log"), "utf8")
    assert.ok(!log.includes(plant), "a planted token reached the log")
    await assertClean(home, plant, [before, s])
    assert.doesNotMatch(await readFile(join(home, "config.yaml"), "utf8"), /_oauth_|plant/)
})

test("the stored rows are age ciphertext that Go's age decrypts; logout revokes and deletes them", async t => {
    const { plant, fx, home } = await begin(t, { login: true })
    const db = new Database(join(home, "mcplexer.db"), { readonly: true })
    const rows = db.prepare("SELECT key, ciphertext FROM secrets WHERE scope = 'rs' ORDER BY key").all() as Array<{ key: string; ciphertext: Buffer }>
    db.close()
    assert.deepEqual(rows.map(r => r.key), ["_oauth_remote_access_token", "_oauth_remote_client", "_oauth_remote_discovery", "_oauth_remote_expiry", "_oauth_remote_refresh_token"])
    const plain = new Map<string, string>()
    for (const r of rows) {
        assert.ok(!r.ciphertext.includes(plant))
        const file = join(home, `${r.key}.age`)
        await writeFile(file, r.ciphertext)
        plain.set(r.key, execFileSync("age", ["-d", "-i", join(home, "age.key"), file], { encoding: "utf8" }))
    }
    assert.ok(plain.get("_oauth_remote_access_token")?.includes(`${plant}A1`))
    assert.ok(plain.get("_oauth_remote_refresh_token")?.includes(`${plant}R1`))
    assert.match(plain.get("_oauth_remote_expiry") ?? "", /"expires_at":\d+/)

    const out = await run(home, ["auth", "logout", "remote"])
    assert.equal(out.code, 0, out.stderr)
    assert.match(out.stderr, /logged out of server "remote" \(tokens revoked\)/)
    assert.equal(fx.stats.revocations, 1)
    const list = await run(home, ["secret", "list", "rs", "--json"])
    assert.deepEqual(JSON.parse(list.stdout), [])
})

test("serve offers the login to a client with URL-mode elicitation, and the call then goes through", async t => {
    const { plant, home } = await begin(t, { init: true })
    const s = await serve(home, { elicitation: true })
    const offered: string[] = []
    s.client.setRequestHandler(ElicitRequestSchema, req => {
        const p = req.params as { mode?: string; url?: string }
        assert.equal(p.mode, "url")
        offered.push(p.url ?? "")
        // the person opens the link: the headless browser follows it back to serve's listener
        // (not waited for: the fixture answering it runs in this process)
        spawn(browser, [p.url ?? ""], { stdio: "ignore" })
        return { action: "accept" }
    })
    const r = await call(s, "remote__hello")
    assert.deepEqual(r, { ok: true, text: "hello" })
    assert.equal(offered.length, 1)
    assert.match(offered[0] ?? "", /^http:\/\/127\.0\.0\.1:\d+\/start\/[\w-]+$/)
    await s.close()
    await assertClean(home, plant, [s])
})

test("a token about to expire is refreshed before it is sent: the server never answers 401", async t => {
    const { plant, fx, home } = await begin(t, { login: true })
    const rejected = fx.stats.rejected
    // the stored expiry says 5 s from now: inside the refresh margin
    const soon = JSON.stringify({ expires_at: Date.now() + 5000, lifetime: 3600, token_type: "Bearer", scope: "mcp:tools" })
    assert.equal((await run(home, ["secret", "put", "rs", "_oauth_remote_expiry"], { input: soon })).code, 0)
    const s = await serve(home)
    assert.deepEqual(await call(s, "remote__hello"), { ok: true, text: "hello" })
    await s.close()
    assert.equal(fx.stats.refreshes, 1)
    assert.equal(fx.stats.rejected, rejected, "no request went out with the old token")
    await assertClean(home, plant, [s])
})

test("mcplexer call runs the login itself when none is stored, printing the link", async t => {
    const { plant, fx, home } = await begin(t)
    const r = await run(home, ["call", "remote__whoami"], { env: { BROWSER: browser } })
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, "you are [redacted]\n")
    assert.match(r.stderr, /to log in to server "remote" \(at http:\/\/127\.0\.0\.1:\d+\), open:\n {2}http:\/\/127\.0\.0\.1:\d+\/start\/[\w-]+\n/)
    assert.equal(fx.stats.codes, 1)
    assert.ok(!r.stderr.includes(plant))
    const again = await run(home, ["call", "remote__hello"], { env: { BROWSER: "/nonexistent/browser" } })
    assert.deepEqual([again.code, again.stdout], [0, "hello\n"])
    assert.equal(fx.stats.authorizations, 1, "the stored login was used")
})

test("auth login never hands a file: login link to the opener, and says which scheme it refused", async t => {
    const { fx, home } = await begin(t, { init: true, fixture: { metadata: m => ({ ...m, authorization_endpoint: "file:///etc/passwd" }) } })
    const argv = join(home, "opener-argv")
    const opener = join(home, "opener")
    await writeFile(opener, `#!/bin/sh\nprintf '%s\\n' "$@" >> ${JSON.stringify(argv)}\n`, { mode: 0o700 })
    const r = await run(home, ["auth", "login", "remote"], { env: { BROWSER: opener } })
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^mcplexer: error: the authorization server of server "remote" gave a login link with scheme "file"; only https links \(and http ones to this machine\) are opened$/m)
    assert.match(r.stderr, /^mcplexer: hint: /m)
    assert.doesNotMatch(r.stderr, /etc\/passwd|report it/)
    await assert.rejects(readFile(argv), { code: "ENOENT" }, "the opener was run")
    assert.equal(fx.stats.authorizations, 0)
})

test("an authorization server's error_description reaches the terminal with its control characters escaped", async t => {
    const { home } = await begin(t, { init: true, fixture: { refuse: "denied \x1b[2J\x1b]0;pwned\x07 by policy" } })
    const r = await login(home)
    assert.equal(r.code, 1)
    assert.ok(!r.stderr.includes("\x1b") && !r.stderr.includes("\x07"), "a raw control character reached the terminal")
    assert.match(r.stderr, /^mcplexer: error: the authorization server refused the login: access_denied: denied \\x1b\[2J\\x1b\]0;pwned\\x07 by policy$/m)
    assert.match(r.stderr, /^mcplexer: hint: start the login again/m)
})
