/**
 * A login's rows (`_oauth_<server>_…`: access and refresh token, client registration) are never
 * handed out by name: not to a tool through a secret:// argument, not to another server through
 * ${secret:…}. Planted values are checked against everything the test can see.
 */
import assert from "node:assert/strict"
import { after, before, describe, test } from "node:test"
import * as config from "../../internal/config/index.ts"
import * as secrets from "../../internal/secrets/index.ts"
import { server, start, text, type Kit } from "./kit.ts"

const planted = {
    access: "oauth-access-token-8d2f61c0a9",
    refresh: "oauth-refresh-token-4e7b93d15f",
    client: JSON.stringify({ client_id: "cid-1", client_secret: "oauth-client-secret-c3a8e2b7" }),
}
const rows = {
    [config.oauthKey("beta", "access_token")]: planted.access,
    [config.oauthKey("beta", "refresh_token")]: planted.refresh,
    [config.oauthKey("beta", "client")]: planted.client,
}
const values = [planted.access, planted.refresh, "oauth-client-secret-c3a8e2b7"]

describe("a login's rows and secret://", () => {
    let k: Kit
    before(async () => {
        // alpha shares the scope that holds beta's login
        k = await start((_home, log) => `auth_scopes:
  shared: {}
servers:
  alpha: ${server("alpha", log, { scope: "shared" })}
`, { secrets: { shared: { ...rows, OWN_KEY: "own-value-5b1d0e9f7a" } } })
    })
    after(async () => { await k.close() })

    for (const ref of [
        `secret://${config.oauthKey("beta", "access_token")}`,
        `secret://${config.oauthKey("beta", "refresh_token")}`,
        `secret://shared/${config.oauthKey("beta", "client")}`,
    ]) {
        test(`${ref} is refused, and the server never gets the value`, async () => {
            const c = await k.connect()
            const before = k.received().length
            const r = await c.client.callTool({ name: "alpha__echo", arguments: { v: ref } })
            assert.equal(r.isError, true)
            assert.match(text(r), /belongs to a server's login and is never given to a tool; nothing was sent to server "alpha"/)
            assert.equal(k.received().length, before)
            const row = k.audit().findLast(x => x.action === "secret")
            assert.equal(row?.status, "denied")
            const seen = JSON.stringify([r, k.audit()])
            for (const v of values) assert.ok(!seen.includes(v), "a login's value was shown")
        })
    }

    test("the server's own key still resolves (the rule is for login rows only)", async () => {
        const c = await k.connect()
        const r = await c.client.callTool({ name: "alpha__echo", arguments: { v: "secret://OWN_KEY" } })
        assert.equal(text(r), `{"v":"[redacted]"}`)
    })
})

describe("a login's rows and ${secret:…}", () => {
    const yaml = (ref: string) => `auth_scopes:
  shared: {}
servers:
  alpha:
    command: node
    scope: shared
    env: { TOKEN: "${ref}" }
`

    test("the config refuses a reference to a login row, naming it", () => {
        for (const ref of ["${secret:_oauth_beta_access_token}", "${secret:shared/_oauth_beta_refresh_token}"]) {
            assert.throws(() => config.parse(yaml(ref), "/tmp/x/config.yaml"), (e: unknown) => {
                assert.ok(e instanceof config.ConfigError)
                assert.match(e.message, /belongs to a server's login and is never given by name/)
                return true
            })
        }
    })

    test("a server started from a config that slipped past the check gets an error, not the token", async () => {
        const k = await start(() => yaml("${secret:OWN_KEY}"), { secrets: { shared: { ...rows, OWN_KEY: "own-value-5b1d0e9f7a" } } })
        try {
            const c = config.parse(yaml("${secret:OWN_KEY}"), k.paths.config)
            const s = c.servers.get("alpha") as config.StdioServer
            for (const ref of ["${secret:_oauth_beta_access_token}", "${secret:shared/_oauth_beta_client}"]) {
                const bad: config.StdioServer = { ...s, env: { TOKEN: ref } }
                await assert.rejects(secrets.resolve(k.vault, bad, "shared", { env: {}, reason: "test" }), (e: unknown) => {
                    assert.match((e as Error).message, /belongs to a server's login and is never given by name/)
                    for (const v of values) assert.ok(!(e as Error).message.includes(v))
                    return true
                })
                const args: config.StdioServer = { ...s, args: [`--token=${ref}`] }
                await assert.rejects(secrets.resolve(k.vault, args, "shared", { env: {}, reason: "test" }), /belongs to a server's login/)
            }
            // and a login's rows are never injected as variables of the scope
            const ok = await secrets.resolve(k.vault, s, "shared", { env: {}, reason: "test" })
            assert.equal(ok.env.TOKEN, "own-value-5b1d0e9f7a")
            for (const v of values) assert.ok(!JSON.stringify([ok.env, ok.args]).includes(v))
        } finally {
            await k.close()
        }
    })
})
