import assert from "node:assert/strict"
import { test } from "node:test"
import * as clients from "../../internal/clients/index.ts"

const found = (o: Partial<clients.Found>): clients.Found => ({ name: "s", source: "f", args: [], env: {}, headers: {}, inputs: new Map(), notes: [], ...o })

test("credentials are judged by name, by known prefix and by randomness; ordinary values are not", () => {
    for (const [name, value] of [["GITHUB_TOKEN", "abc12345"], ["X", "ghp_0123456789abcdefABCDEF"], ["X", "sk-ant-api03-abcdefghijkl"],
        ["X", "AKIAIOSFODNN7EXAMPLE"], ["X", "xoxb-1234-5678-abcdefgh"], ["DB", "aB3dE5gH7jK9mN1pQ3sT5vX7"], ["Authorization", "Basic dXNlcjpwYXNz"]]) {
        assert.ok(clients.judge(name ?? "", value ?? ""), `${name}=${value} is not judged a credential`)
    }
    for (const [name, value] of [["LOG_LEVEL", "debug"], ["API_KEY_FILE", "/etc/keys/api"], ["AUTH_ENABLED", "true"], ["TOKEN_TTL", "3600"],
        ["NODE_OPTIONS", "--max-old-space-size=4096"], ["ROOT", "/home/someone/projects/some-long-folder-name"], ["AUTH_URL", "https://auth.example.com/token"],
        ["MODE", "production-environment-2024"]]) {
        assert.equal(clients.judge(name ?? "", value ?? ""), undefined, `${name}=${value} is judged a credential`)
    }
})

test("a mask shows at most the first 4 characters, and none of a short value", () => {
    assert.equal(clients.mask("ghp_0123456789abcdef"), "ghp_…")
    assert.equal(clients.mask("short-secret"), "…")
})

test("secret-looking arguments move into the vault; the rest stays as written", () => {
    const p = clients.plan(found({
        command: "srv",
        args: ["--token=tok-123456", "--api-key", "key-123456", "--verbose", "https://u:pa%40ss@h.example/x?a=1&api_key=zz99&b=2", "ghp_0123456789abcdefABCDEF", "--port", "8080"],
    }))
    assert.deepEqual(p.entry.args, ["--token=${secret:TOKEN}", "--api-key", "${secret:API_KEY}", "--verbose",
        "https://u:${secret:URL_PASSWORD}@h.example/x?a=1&api_key=${secret:API_KEY_2}&b=2", "${secret:ARG_TOKEN}", "--port", "8080"])
    assert.deepEqual(p.secrets.map(s => [s.key, s.value]), [["TOKEN", "tok-123456"], ["API_KEY", "key-123456"], ["URL_PASSWORD", "pa%40ss"],
        ["API_KEY_2", "zz99"], ["ARG_TOKEN", "ghp_0123456789abcdefABCDEF"]])
    assert.equal(p.scope, "s")
})

test("indirections are kept or turned into references, never resolved", () => {
    const p = clients.plan(found({
        name: "my_server.v2", command: "srv", args: ["${workdir}"],
        env: { A: "${HOME_TOKEN}", B: "${X:-fallback}", C: "${env:Y}", D: "pre-${input:my-key}" },
        inputs: new Map([["my-key", { id: "my-key", description: "the key", password: true }]]),
    }))
    assert.equal(p.name, "my-server-v2")
    assert.deepEqual(p.entry.env, { A: "${env:HOME_TOKEN}", B: "${env:X}", C: "${env:Y}", D: "pre-${secret:MY_KEY}" })
    assert.deepEqual(p.entry.args, ["${env:workdir}"])
    assert.deepEqual(p.prompts, [{ key: "MY_KEY", input: "my-key", description: "the key", password: true }])
    assert.ok(p.notes.some(n => n.includes("default is not kept")))
    for (const arg of ["${workspaceFolder}", "${file:/etc/token}"]) {
        const skipped = clients.plan(found({ command: "srv", args: [arg], env: { GITHUB_TOKEN: "ghp_0123456789abcdefABCDEF" } }))
        assert.match(skipped.skip ?? "", /only its client can resolve/)
        assert.deepEqual(skipped.secrets, [])
    }
})

test("a header's scheme stays in the config and only the credential moves", () => {
    const p = clients.plan(found({ url: "https://h.example/mcp", headers: { Authorization: "Bearer abc123def456", "X-Api-Key": "k-999999", Accept: "text/plain" } }))
    assert.deepEqual(p.entry.headers, { Authorization: "Bearer ${secret:AUTHORIZATION}", "X-Api-Key": "${secret:X_API_KEY}", Accept: "text/plain" })
    assert.deepEqual(p.secrets.map(s => s.value), ["abc123def456", "k-999999"])
})

test("each client's user file is where that client keeps it on Linux, macOS and Windows", () => {
    const linux = { env: { HOME: "/home/u" }, platform: "linux" as const, cwd: "/w" }
    const mac = { env: { HOME: "/Users/u" }, platform: "darwin" as const, cwd: "/w" }
    const win = { env: { HOME: "C:\\Users\\u", APPDATA: "C:\\Users\\u\\AppData\\Roaming" }, platform: "win32" as const, cwd: "C:\\w" }
    assert.equal(clients.user("claude-desktop", linux), "/home/u/.config/Claude/claude_desktop_config.json")
    assert.equal(clients.user("claude-desktop", { ...linux, env: { HOME: "/home/u", XDG_CONFIG_HOME: "/x" } }), "/x/Claude/claude_desktop_config.json")
    assert.equal(clients.user("claude-desktop", mac), "/Users/u/Library/Application Support/Claude/claude_desktop_config.json")
    assert.equal(clients.user("claude-desktop", win), "C:\\Users\\u\\AppData\\Roaming\\Claude\\claude_desktop_config.json")
    assert.equal(clients.user("vscode", mac), "/Users/u/Library/Application Support/Code/User/mcp.json")
    assert.equal(clients.user("vscode", win), "C:\\Users\\u\\AppData\\Roaming\\Code\\User\\mcp.json")
    assert.equal(clients.user("windsurf", win), "C:\\Users\\u\\.codeium\\windsurf\\mcp_config.json")
    assert.equal(clients.user("codex", { ...linux, env: { HOME: "/home/u", CODEX_HOME: "/c" } }), "/c/config.toml")
    assert.deepEqual(clients.places("cursor", linux).map(p => p.file), ["/home/u/.cursor/mcp.json", "/w/.cursor/mcp.json"])
})

test("a file that does not parse is reported by line and column, never with its text", () => {
    const token = "ghp_0123456789abcdefABCDEF"
    for (const [text, file, at] of [[`{"mcpServers": {"a": {"env": {"T": ${token}}}}}`, "mcp.json", /invalid JSON/], [`{\n  "a": "${token}" x\n}`, "mcp.json", /invalid JSON at line 2, column \d+/],
        [`[mcp_servers.a]\nenv = { T = "${token}" } x`, "config.toml", /invalid TOML at line 2, column \d+/]] as const) {
        assert.throws(() => clients.read(text, file), (e: Error) => {
            assert.match(e.message, at)
            assert.ok(!e.message.includes(token) && !e.message.includes("ghp_"), e.message)
            return true
        })
    }
})

test("each plaintext form import once left in config.yaml moves into the vault, the rest of its value kept", () => {
    const secrets = {
        pg: "pgPw-7f3a", sql: "sqlPw-91c2", hook: "https://hooks.slack.com/services/T0001/B0002/aBcDeFgHiJkLmNoPqRsTuVwX",
        p: "Hunter2-pw", my: "myPw-33aa", bus: "busKey-0042", bearer: "abc123def456ghi", apiKey: "k-999999x", storage: "c3RvcmFnZWtleQ==",
    }
    const p = clients.plan(found({
        command: "srv",
        args: ["-u", "root", "-p", secrets.p, `--db=mysql://root:${secrets.my}@db.example/app`,
            "--header", `Authorization: Bearer ${secrets.bearer}`, `--header=X-Api-Key: ${secrets.apiKey}`],
        env: {
            DATABASE_URL: `postgres://u:${secrets.pg}@h/db`,
            SQL: `Server=tcp:h,1433;Database=d;User Id=u;Password=${secrets.sql};Encrypt=true`,
            STORAGE: `DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${secrets.storage};EndpointSuffix=core.windows.net`,
            BUS: `Endpoint=sb://ns.servicebus.windows.net/; SharedAccessKeyName=Root; SharedAccessKey = ${secrets.bus}`,
            SLACK_WEBHOOK_URL: secrets.hook,
        },
    }))
    assert.deepEqual(p.entry.args, ["-u", "root", "-p", "${secret:PASSWORD}", "--db=mysql://root:${secret:DB_PASSWORD}@db.example/app",
        "--header", "Authorization: Bearer ${secret:AUTHORIZATION}", "--header=X-Api-Key: ${secret:X_API_KEY}"])
    assert.deepEqual(p.entry.env, {
        DATABASE_URL: "postgres://u:${secret:DATABASE_URL_PASSWORD}@h/db",
        SQL: "Server=tcp:h,1433;Database=d;User Id=u;Password=${secret:SQL_PASSWORD};Encrypt=true",
        // it looks random as a whole, so it moves whole
        STORAGE: "${secret:STORAGE}",
        BUS: "Endpoint=sb://ns.servicebus.windows.net/; SharedAccessKeyName=Root; SharedAccessKey = ${secret:BUS_SHAREDACCESSKEY}",
        SLACK_WEBHOOK_URL: "${secret:SLACK_WEBHOOK_URL}",
    })
    const entry = JSON.stringify(p.entry)
    for (const v of Object.values(secrets)) {
        assert.ok(!entry.includes(v), `${v} is still in the config entry`)
        assert.ok(p.secrets.some(s => s.value.includes(v)), `${v} is not moved into the vault`)
    }
})

test("the variants of those forms a probe found left behind move too: -pPASS, libpq's key=value, JDBC's nested scheme, NAME=value arguments", () => {
    const secrets = { joined: "Joined-pw77", libpq: "libpqPw-4411", jdbc: "jdbcPw-8812", assign: "assignKey-5531" }
    const p = clients.plan(found({
        command: "env",
        args: [`API_KEY=${secrets.assign}`, "mysql", "-uroot", `-p${secrets.joined}`],
        env: { CONN: `host=db user=x password=${secrets.libpq} dbname=y`, JDBC: `jdbc:mysql://db/x?user=root&password=${secrets.jdbc}` },
    }))
    assert.deepEqual(p.entry.args, ["API_KEY=${secret:API_KEY}", "mysql", "-uroot", "-p${secret:PASSWORD}"])
    assert.deepEqual(p.entry.env, { CONN: "host=db user=x password=${secret:CONN_PASSWORD} dbname=y", JDBC: "jdbc:mysql://db/x?user=root&password=${secret:PASSWORD_2}" })
    const entry = JSON.stringify(p.entry)
    for (const v of Object.values(secrets)) {
        assert.ok(!entry.includes(v), `${v} is still in the config entry`)
        assert.ok(p.secrets.some(s => s.value === v), `${v} is not moved into the vault`)
    }
    // and their look-alikes stay
    const args = ["-p8080", "-pv", "PORT=8080", "NODE_ENV=production", "LOG=debug"]
    const env = { CONN: "host=db user=x dbname=y", DSN: "jdbc:sqlite:///tmp/x.db?mode=ro" }
    const q = clients.plan(found({ command: "srv", args, env }))
    assert.deepEqual(q.entry.args, args)
    assert.deepEqual(q.entry.env, env)
    assert.deepEqual(q.secrets, [])
})

test("look-alikes of those forms that hold no credential stay as written", () => {
    const args = ["-p", "8080", "-p", "./profile", "--header", "Accept: text/plain", "--db=sqlite:///tmp/x.db", "https://hooks.example.com/services/x",
        "Server=h;Database=d;Trusted_Connection=yes", "C:\\data"]
    const env = { URL: "postgres://u@h/db", CONN: "Server=h;Database=d", PWD: "/home/u", HOOK: "https://example.com/api/webhooks/1" }
    const p = clients.plan(found({ command: "srv", args, env }))
    assert.deepEqual(p.entry.args, args)
    assert.deepEqual(p.entry.env, env)
    assert.deepEqual(p.secrets, [])
})
