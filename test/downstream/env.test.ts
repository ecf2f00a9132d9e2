import assert from "node:assert/strict"
import { randomBytes } from "node:crypto"
import { test } from "node:test"
import * as secrets from "../../internal/secrets/index.ts"
import { call, everything, setup, sha256, stdio, text } from "./kit.ts"

// shaped like a GitHub token, made fresh each run: no real-looking key sits in the repository
const token = `ghp_${randomBytes(27).toString("base64url").replace(/[-_]/g, "x").slice(0, 36)}`

test("a stdio server gets the base environment, its env and its scope's keys, and nothing else", async () => {
    const t = await setup(stdio("gh", { scope: "gh", env: { MODE: "fixture", FROM_SECRET: "${secret:OTHER}" } }))
    try {
        await t.vault.put("gh", "TOKEN", token)
        await t.vault.put("gh", "OTHER", "other-value-1234")
        const key = { server: "gh", scope: "gh" }
        const r = JSON.parse(await call(t.pool, key, "env", { name: "TOKEN" })) as { sha256: string; names: string[] }
        assert.equal(r.sha256, sha256(token))
        assert.deepEqual(r.names, ["FROM_SECRET", "HOME", "LANG", "MCPLEXER_INSTANCE", "MODE", "OTHER", "PATH", "TOKEN"])
        const other = JSON.parse(await call(t.pool, key, "env", { name: "FROM_SECRET" })) as { sha256: string }
        assert.equal(other.sha256, sha256("other-value-1234"))
        assert.equal(t.registry.size, 2, "both decrypted values are registered for redaction")
        assert.equal(t.registry.scrub(`x ${token} y`), "x [redacted] y")
    } finally {
        await t.pool.close()
    }
})

test("a secret with dollar signs, quotes and spaces arrives byte for byte", async () => {
    const value = `a$HOME b"c' \\d $(echo no) \${PATH} é🔑`
    const s = stdio("gh", { scope: "gh" })
    const t = await setup({ ...s, args: [...s.args, "--flag=${secret:TOKEN}"] })
    try {
        await t.vault.put("gh", "TOKEN", value)
        const r = JSON.parse(await call(t.pool, { server: "gh", scope: "gh" }, "env", { name: "TOKEN" })) as { sha256: string; argv: string[] }
        assert.equal(r.sha256, sha256(value))
        assert.deepEqual(r.argv, [`--flag=${value}`])
    } finally {
        await t.pool.close()
    }
})

test("server-everything's get-env sees the secret and nothing of mcplexer's environment", async () => {
    const t = await setup({ ...stdio("everything", { scope: "gh" }), args: [everything] })
    try {
        await t.vault.put("gh", "TOKEN", token)
        const r = await t.pool.request({ server: "everything", scope: "gh" }, "tools/call", { name: "get-env", arguments: {} })
        const env = JSON.parse(text(r)) as Record<string, string>
        assert.equal(env.TOKEN, token)
        // the one exception, the mark that lets a left-over process be found: no secret, no path
        assert.match(env.MCPLEXER_INSTANCE ?? "", /^\d+\.\w+$/)
        assert.deepEqual(Object.keys(env).filter(k => k.startsWith("MCPLEXER") && k !== "MCPLEXER_INSTANCE"), [])
        assert.equal(env.AWS_SECRET_ACCESS_KEY, undefined)
        assert.equal(env.HOME, t.home)
    } finally {
        await t.pool.close()
    }
})

test("a missing secret fails that server alone", async () => {
    const t = await setup(
        stdio("broken", { scope: "acme", env: { KEY: "${secret:NOT_THERE}" } }),
        stdio("fine", { scope: "gh" }),
    )
    try {
        await t.vault.put("gh", "TOKEN", token)
        await t.vault.put("acme", "SOMETHING", "something-else")
        await assert.rejects(call(t.pool, { server: "broken", scope: "acme" }, "echo", { text: "x" }), (e: unknown) => {
            assert.ok(e instanceof secrets.MissingSecretError)
            assert.equal(e.key, "NOT_THERE")
            return true
        })
        assert.equal(await call(t.pool, { server: "fine", scope: "gh" }, "echo", { text: "still here" }), "still here")
        const st = t.pool.status()
        const broken = st.find(s => s.server === "broken")
        assert.equal(broken?.state, "failed")
        assert.match(broken?.lastError ?? "", /NOT_THERE/)
        assert.equal(st.find(s => s.server === "fine")?.state, "running")
        // putting the secret is enough: the next call tries again
        await t.vault.put("acme", "NOT_THERE", "now-it-is-here")
        assert.equal(await call(t.pool, { server: "broken", scope: "acme" }, "echo", { text: "fixed" }), "fixed")
    } finally {
        await t.pool.close()
    }
})
