/** The `oauth:` key of a remote server: what it accepts, and each mistake with its position and fix. */
import assert from "node:assert/strict"
import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import { test } from "node:test"
import * as config from "../../internal/config/index.ts"
import { temp } from "../helpers.ts"

async function load(text: string): Promise<config.Config> {
    const dir = temp()
    await writeFile(join(dir, "config.yaml"), text)
    return config.load(join(dir, "config.yaml"), { env: { HOME: "/home/u" } })
}

async function fails(text: string): Promise<config.ConfigError> {
    try {
        await load(text)
    } catch (e) {
        assert.ok(e instanceof config.ConfigError, `not a ConfigError: ${String(e)}`)
        assert.ok(e.hint.length > 0)
        return e
    }
    assert.fail("config loaded without an error")
}

const remote = (oauth: string, scope = "    scope: lin\n") => `auth_scopes:\n  lin: {}\nservers:\n  linear:\n    url: https://mcp.linear.app/mcp\n${scope}    oauth: ${oauth}\n`

test("an empty oauth map opts a remote server in, with the authorization code grant", async () => {
    const s = (await load(remote("{}"))).servers.get("linear")
    assert.equal(s?.kind, "remote")
    assert.deepEqual(s.kind === "remote" ? s.oauth : undefined, { grant: "authorization_code" })
})

test("every optional field is read", async () => {
    const c = await load(remote(`{ scopes: [read, "write:all"], client_id: "\${secret:LIN_ID}", client_secret: "\${secret:lin/LIN_SECRET}", client_metadata_url: "https://example.com/mcplexer.json" }`))
    const s = c.servers.get("linear")
    assert.deepEqual(s?.kind === "remote" ? s.oauth : undefined, {
        grant: "authorization_code", scopes: ["read", "write:all"], clientId: "${secret:LIN_ID}",
        clientSecret: "${secret:lin/LIN_SECRET}", clientMetadataUrl: "https://example.com/mcplexer.json",
    })
    const m = await load(remote(`{ client_id: "\${secret:ID}", client_secret: "\${secret:SECRET}", grant: client_credentials }`))
    const ms = m.servers.get("linear")
    assert.equal(ms?.kind === "remote" ? ms.oauth?.grant : undefined, "client_credentials")
    const k = await load(remote(`{ client_id: "\${secret:ID}", private_key: "\${secret:KEY}", signing_algorithm: RS256, grant: client_credentials }`))
    const ks = k.servers.get("linear")
    assert.deepEqual(ks?.kind === "remote" ? ks.oauth : undefined, { grant: "client_credentials", clientId: "${secret:ID}", privateKey: "${secret:KEY}", signingAlgorithm: "RS256" })
    const d = await load(remote(`{ client_id: "\${secret:ID}", private_key: "\${secret:KEY}" }`))
    const ds = d.servers.get("linear")
    assert.equal(ds?.kind === "remote" ? ds.oauth?.signingAlgorithm : undefined, "ES256")
})

test("mistakes are refused with where and how to fix them", async () => {
    const cases: Array<[string, RegExp, string?]> = [
        [remote("{ scope: read }"), /unknown key "scope" in server "linear": "oauth"/],
        [remote(`{ client_id: my-client }`), /"oauth.client_id" must be a \$\{secret:…\} reference, not a literal/],
        [remote(`{ client_id: "id-\${secret:ID}" }`), /must be a \$\{secret:…\} reference/],
        [remote(`{ client_id: "\${secret:ID}", client_secret: hunter2 }`), /"oauth.client_secret" must be a \$\{secret:…\} reference/],
        [remote(`{ client_secret: "\${secret:S}" }`), /"oauth.client_secret" needs "oauth.client_id"/],
        [remote(`{ client_id: "\${secret:nope/ID}" }`), /scope "nope" in "\$\{secret:nope\/ID\}" is not declared/],
        [remote(`{ client_metadata_url: "http://example.com/c.json" }`), /invalid "oauth.client_metadata_url"/],
        [remote(`{ grant: password }`), /"oauth.grant" must be/],
        [remote(`{ grant: client_credentials }`), /needs "oauth.client_id" and "oauth.client_secret" \(or "oauth.private_key"\)/],
        [remote(`{ client_id: "\${secret:ID}", private_key: "-----BEGIN PRIVATE KEY-----" }`), /"oauth.private_key" must be a \$\{secret:…\} reference, not a literal/],
        [remote(`{ private_key: "\${secret:KEY}" }`), /"oauth.private_key" needs "oauth.client_id"/],
        [remote(`{ client_id: "\${secret:ID}", client_secret: "\${secret:S}", private_key: "\${secret:KEY}" }`), /two ways to authenticate the client: give one/],
        [remote(`{ client_id: "\${secret:ID}", private_key: "\${secret:KEY}", signing_algorithm: HS256 }`), /"oauth.signing_algorithm" must be/],
        [remote(`{ client_id: "\${secret:ID}", signing_algorithm: ES256 }`), /"oauth.signing_algorithm" needs "oauth.private_key"/],
        [remote(`{ scopes: ["a b"] }`), /invalid oauth scope "a b"/],
        [remote("{}", ""), /"oauth" needs the server to have a scope/],
        ["servers:\n  s:\n    command: npx\n    oauth: {}\n", /"oauth" applies only to remote servers/],
    ]
    for (const [text, message] of cases) {
        const e = await fails(text)
        assert.match(e.message, message, text)
        assert.ok(e.line > 0, text)
    }
})

test("the vault keys of oauth state are marked, so they are never injected nor restart anything", () => {
    assert.equal(config.oauthKey("my-server", "access_token"), "_oauth_my_server_access_token")
    assert.ok(config.isOAuthKey(config.oauthKey("x", "refresh_token")))
    assert.ok(!config.isOAuthKey("GITHUB_TOKEN"))
    config.checkName("key", config.oauthKey("a-b-c", "discovery"))
})
