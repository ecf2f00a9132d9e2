/** An `oauth:` server without a stored login is shown as such by the REST API and the web UI, with the command that logs in. */
import assert from "node:assert/strict"
import { after, before, test } from "node:test"
import * as config from "../../internal/config/index.ts"
import { dsConfig, start, type Kit } from "./kit.ts"

let k: Kit
before(async () => {
    // never reached: listing the servers decides from the stored key names alone
    k = await start(dsConfig(`  linear:
    url: "http://127.0.0.1:9/mcp"
    scope: acme
    oauth: {}
`))
})
after(async () => { await k.close() })

test("the API and the dashboard name a missing login and how to log in, and stop once a token is stored", async () => {
    const servers = async () => (await (await k.req("/api/v1/servers")).json()) as Array<{ name: string; login?: string }>
    assert.equal((await servers()).find(s => s.name === "linear")?.login, "mcplexer auth login linear")
    assert.equal((await servers()).find(s => s.name === "ds")?.login, undefined)
    const { base, cookie } = await k.login()
    const page = async () => (await k.req(`${base}/`, { auth: false, headers: { cookie } })).text()
    assert.match(await page(), /data-login="missing">login missing: run <code>mcplexer auth login linear<\/code>/)

    await k.vault.put("acme", config.oauthKey("linear", "access_token"), `planted-access-${Date.now()}`)
    assert.equal((await servers()).find(s => s.name === "linear")?.login, undefined)
    assert.doesNotMatch(await page(), /login missing/)
})
