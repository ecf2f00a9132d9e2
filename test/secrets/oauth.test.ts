/** OAuth tokens share their server's scope, but are never injected into anything else. */
import assert from "node:assert/strict"
import { test } from "node:test"
import * as config from "../../internal/config/index.ts"
import * as secrets from "../../internal/secrets/index.ts"
import { fresh, paths } from "./kit.ts"

test("a stdio server and an inject: headers server of the scope get its keys but not the oauth rows", async () => {
    const v = secrets.open(paths(await fresh()), { actor: "test", create: true })
    await v.put("lin", "API_KEY", "plain-api-key")
    await v.put("lin", config.oauthKey("linear", "access_token"), "oauth-access-token-value")
    await v.put("lin", config.oauthKey("linear", "refresh_token"), "oauth-refresh-token-value")
    const base = { prefix: true, idleTimeout: 600000, timeout: 60000, scope: "lin", tools: { disabled: [] }, quarantine: false }
    const stdio: config.StdioServer = { ...base, name: "tool", kind: "stdio", command: "npx", args: [], env: {} }
    const remote: config.RemoteServer = { ...base, name: "other", kind: "remote", url: "https://example.com/mcp", headers: {}, inject: "headers" }
    const s = await secrets.resolve(v, stdio, "lin", { env: {}, reason: "test" })
    assert.deepEqual(s.env, { API_KEY: "plain-api-key" })
    const r = await secrets.resolve(v, remote, "lin", { env: {}, reason: "test" })
    assert.deepEqual(r.headers, { API_KEY: "plain-api-key" })
    // still redacted like every value of the scope that was decrypted
    assert.ok(r.values.includes("oauth-access-token-value"))
    v.close()
})
