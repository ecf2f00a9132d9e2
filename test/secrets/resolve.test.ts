import assert from "node:assert/strict"
import { test } from "node:test"
import type * as config from "../../internal/config/index.ts"
import * as secrets from "../../internal/secrets/index.ts"
import * as store from "../../internal/store/index.ts"
import { fresh, paths } from "./kit.ts"

function stdio(o: Partial<config.StdioServer> = {}): config.StdioServer {
    return { name: "github", kind: "stdio", command: "npx", args: [], env: {}, prefix: true, idleTimeout: 600000, timeout: 60000, tools: { disabled: [] }, quarantine: false, ...o }
}

function remote(o: Partial<config.RemoteServer> = {}): config.RemoteServer {
    return { name: "linear", kind: "remote", url: "https://mcp.example.com/mcp", headers: {}, inject: "none", prefix: true, idleTimeout: 600000, timeout: 60000, tools: { disabled: [] }, quarantine: false, ...o }
}

async function vault(values: Record<string, string> = {}): Promise<secrets.Vault> {
    const v = secrets.open(paths(await fresh()), { actor: "test", create: true })
    for (const [k, value] of Object.entries(values)) {
        const [scope = "", key = ""] = k.split("/")
        await v.put(scope, key, value)
    }
    return v
}

const hostEnv = {
    PATH: "/usr/bin:/bin", HOME: "/home/u", USER: "u", LOGNAME: "u", LANG: "C.UTF-8", LC_ALL: "C", TERM: "xterm", SHELL: "/bin/sh",
    TMPDIR: "/tmp", TZ: "UTC", MCPLEXER_HOME: "/home/u/.mcplexer", MCPLEXER_AGE_KEY: "/k", AWS_SECRET_ACCESS_KEY: "host secret", ORG: "acme-org",
}

test("a stdio server gets the safe base environment, its env, then every key of its scope", async () => {
    const v = await vault({ "gh/GITHUB_TOKEN": "ghp_scope_token", "gh/SHARED": "from the scope" })
    const r = await secrets.resolve(v, stdio({ env: { SHARED: "from the server", DEBUG: "1" } }), "gh", { env: hostEnv, reason: "test" })
    assert.deepEqual(r.env, {
        PATH: "/usr/bin:/bin", HOME: "/home/u", USER: "u", LOGNAME: "u", LANG: "C.UTF-8", LC_ALL: "C", TERM: "xterm", SHELL: "/bin/sh",
        TMPDIR: "/tmp", TZ: "UTC", DEBUG: "1", SHARED: "from the scope", GITHUB_TOKEN: "ghp_scope_token",
    })
    assert.deepEqual(r.values.sort(), ["from the scope", "ghp_scope_token"])
    assert.deepEqual(r.headers, {})
    v.close()
})

test("nothing else of mcplexer's environment leaks, never MCPLEXER_*", async () => {
    const v = await vault()
    const r = await secrets.resolve(v, stdio(), undefined, { env: hostEnv, reason: "test" })
    assert.equal(Object.keys(r.env).some(k => k.startsWith("MCPLEXER_")), false)
    assert.equal(r.env.AWS_SECRET_ACCESS_KEY, undefined)
    assert.deepEqual(r.values, [])
    v.close()
})

test("references are expanded byte for byte in env, args and cwd, with no $VAR expansion", async () => {
    const tricky = "p@$$w0rd $HOME ${env:ORG} `id` \\n\n"
    const v = await vault({ "gh/TOKEN": tricky, "acme/BOT": "acme bot token" })
    const r = await secrets.resolve(v, stdio({
        args: ["--token=${secret:TOKEN}", "${secret:acme/BOT}", "$HOME", "$${secret:TOKEN}"],
        env: { AUTH: "Bearer ${secret:TOKEN}", ORG_NAME: "${env:ORG}" },
        cwd: "/srv/${env:ORG}",
    }), "gh", { env: hostEnv, reason: "test" })
    assert.deepEqual(r.args, [`--token=${tricky}`, "acme bot token", "$HOME", "$${secret:TOKEN}"])
    assert.equal(r.env.AUTH, `Bearer ${tricky}`)
    assert.equal(r.env.ORG_NAME, "acme-org")
    assert.equal(r.env.TOKEN, tricky)
    assert.equal(r.env.BOT, undefined, "another scope's keys are not injected wholesale")
    assert.equal(r.cwd, "/srv/acme-org")
    assert.ok(r.values.includes(tricky) && r.values.includes("acme bot token"))
    v.close()
})

test("each needed scope is decrypted once, with one audit row carrying the reason", async () => {
    const v = await vault({ "gh/A": "value a", "gh/B": "value b", "acme/C": "value c" })
    const before = v.store.db.select().from(store.schema.audit).all().length
    await secrets.resolve(v, stdio({ args: ["${secret:A}", "${secret:B}", "${secret:acme/C}", "${secret:acme/C}"] }), "gh", { env: {}, reason: "start github" })
    const rows = v.store.db.select().from(store.schema.audit).all().slice(before)
    assert.deepEqual(rows.map(r => [r.action, r.scope, r.server, (r.detail as { reason?: string } | null)?.reason]), [
        ["resolve", "gh", "github", "start github"],
        ["resolve", "acme", "github", "start github"],
    ])
    v.close()
})

test("a missing key is a MissingSecretError naming server, scope and key, with the put hint", async () => {
    const v = await vault({ "gh/A": "value a" })
    await assert.rejects(secrets.resolve(v, stdio({ env: { X: "${secret:acme/NOPE}" } }), "gh", { env: {}, reason: "test" }), (e: secrets.MissingSecretError) => {
        assert.ok(e instanceof secrets.MissingSecretError)
        assert.equal(e.server, "github")
        assert.equal(e.scope, "acme")
        assert.equal(e.key, "NOPE")
        assert.equal(e.message, `server "github" needs secret "acme/NOPE", which is not stored`)
        assert.equal(e.hint, "mcplexer secret put acme NOPE")
        return true
    })
    v.close()
})

test("an unset ${env:NAME} is an error naming it", async () => {
    const v = await vault()
    await assert.rejects(secrets.resolve(v, stdio({ args: ["${env:NOT_SET}"] }), undefined, { env: {}, reason: "test" }), (e: Error & { hint?: string }) => {
        assert.equal(e.message, "server \"github\" refers to ${env:NOT_SET}, which is not set")
        assert.equal(e.hint, "set NOT_SET in mcplexer's environment, or remove the reference")
        return true
    })
    v.close()
})

test("${secret:KEY} in a server without a scope is an error with a hint", async () => {
    const v = await vault()
    await assert.rejects(secrets.resolve(v, stdio({ args: ["${secret:TOKEN}"] }), undefined, { env: {}, reason: "test" }),
        { message: "server \"github\" refers to ${secret:TOKEN} but has no scope" })
    v.close()
})

test("a remote server gets its url and headers expanded, and no scope keys unless inject is headers", async () => {
    const v = await vault({ "linear/LINEAR_API_KEY": "lin_api_123", "linear/OTHER": "other value" })
    const server = remote({ url: "https://mcp.example.com/${env:ORG}/mcp", headers: { Authorization: "Bearer ${secret:LINEAR_API_KEY}" } })
    const r = await secrets.resolve(v, server, "linear", { env: hostEnv, reason: "test" })
    assert.equal(r.url, "https://mcp.example.com/acme-org/mcp")
    assert.deepEqual(r.headers, { Authorization: "Bearer lin_api_123" })
    assert.deepEqual(r.env, {})
    assert.deepEqual(r.args, [])
    assert.ok(r.values.includes("lin_api_123"))
    const injected = await secrets.resolve(v, { ...server, inject: "headers" }, "linear", { env: hostEnv, reason: "test" })
    assert.deepEqual(injected.headers, { Authorization: "Bearer lin_api_123", LINEAR_API_KEY: "lin_api_123", OTHER: "other value" })
    v.close()
})

test("a remote server with nothing to resolve decrypts nothing", async () => {
    const v = await vault({ "linear/KEY": "some value" })
    const before = v.store.db.select().from(store.schema.audit).all().length
    const r = await secrets.resolve(v, remote(), "linear", { env: {}, reason: "test" })
    assert.deepEqual(r.values, [])
    assert.equal(v.store.db.select().from(store.schema.audit).all().length, before)
    v.close()
})
