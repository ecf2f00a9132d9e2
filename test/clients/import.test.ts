import assert from "node:assert/strict"
import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { existsSync } from "node:fs"
import { mkdir, readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { test } from "node:test"
import * as config from "../../internal/config/index.ts"
import { cli } from "../helpers.ts"
import { bytes, clients, plant, run, tokens, user, type Client, type Tokens } from "./kit.ts"

/** The tokens `client`'s file holds (Claude Desktop's has no remote server, so no bearer token). */
function planted(client: Client, t: Tokens): string[] {
    return Object.entries(t).filter(([k]) => !(client === "claude-desktop" && k === "bearer")).map(([, v]) => v)
}

function leaks(text: string, values: string[]): string[] {
    return values.filter(v => text.includes(v))
}

/** Every stored value, read back through `secret get`. */
async function stored(u: { home: string; project: string }): Promise<string[]> {
    const list = await run(u, ["secret", "list", "--json"])
    assert.equal(list.code, 0, list.stderr)
    const rows = JSON.parse(list.stdout) as { scope: string; key: string }[]
    return Promise.all(rows.map(async r => (await run(u, ["secret", "get", r.scope, r.key])).stdout))
}

for (const client of clients) {
    test(`${client}: import moves every planted token into the vault and into no file mcplexer writes`, async () => {
        const u = await user()
        const t = tokens()
        const f = await plant(client, u.home, t)
        const values = planted(client, t)

        const dry = await run(u, ["import", client, "--dry-run"])
        assert.equal(dry.code, 0, dry.stderr)
        assert.deepEqual(leaks(dry.stdout + dry.stderr, values), [], "the dry run shows a value")
        assert.ok(dry.stdout.includes(`${t.github.slice(0, 4)}…`), dry.stdout)
        assert.ok(!existsSync(u.mcplexer), "the dry run wrote something")

        const r = await run(u, ["import", client, "--yes"])
        assert.equal(r.code, 0, r.stderr)
        assert.deepEqual(leaks(r.stdout + r.stderr, values), [])
        const got = await stored(u)
        for (const v of values) assert.ok(got.includes(v), `${v} is not in the vault`)
        assert.deepEqual(leaks(await bytes(u.mcplexer), values), [], "a value is in a file mcplexer wrote (config, log or database)")
        assert.deepEqual(await readFile(f.path), f.bytes, "the client's file changed")

        const file = join(u.mcplexer, "config.yaml")
        const c = await config.load(file)
        const gh = c.servers.get("github")
        assert.equal(gh?.kind, "stdio")
        if (gh?.kind === "stdio") {
            assert.equal(gh.scope, "github")
            assert.equal(gh.env.GITHUB_PERSONAL_ACCESS_TOKEN, "${secret:GITHUB_PERSONAL_ACCESS_TOKEN}")
            assert.equal(gh.env.LOG_LEVEL, "debug")
            if (client !== "codex") assert.equal(gh.env.FROM_SHELL, "${env:SHELL_TOKEN}")
            assert.deepEqual(gh.args.slice(0, 3), ["-y", "@modelcontextprotocol/server-github", "--api-key"])
            assert.match(gh.args[4] ?? "", /^https:\/\/bot:\$\{secret:URL_PASSWORD\}@example\.com\/x\?key=\$\{secret:KEY\}&page=2$/)
        }
        assert.ok(c.scopes.has("github"))
        const linear = c.servers.get("linear")
        if (client !== "claude-desktop") assert.equal(linear?.kind === "remote" && linear.headers.Authorization, "Bearer ${secret:AUTHORIZATION}")
        if (client === "vscode") {
            assert.equal(linear?.kind === "remote" && linear.headers["X-Extra"], "${secret:LINEAR_KEY}")
            assert.match(r.stderr, /mcplexer secret put linear LINEAR_KEY/)
        }
        if (client === "claude-code") assert.equal(linear?.kind === "remote" && linear.headers["X-Org"], "${env:ORG}")
        if (client === "codex") {
            const notion = c.servers.get("notion")
            assert.equal(notion?.kind === "remote" && notion.headers.Authorization, "Bearer ${env:NOTION_TOKEN}")
        }

        const before = await readFile(file)
        const again = await run(u, ["import", client, "--yes"])
        assert.equal(again.code, 0, again.stderr)
        assert.match(again.stderr, /^nothing to do/m)
        assert.deepEqual(await readFile(file), before, "a second import changed config.yaml")
        assert.equal((await stored(u)).length, got.length)
    })
}

test("without --yes and without a terminal, import shows every command in full and writes nothing", async () => {
    const u = await user()
    const t = tokens()
    await plant("cursor", u.home, t)
    const r = await run(u, ["import", "cursor"])
    assert.equal(r.code, 1)
    assert.ok(r.stdout.includes("npx -y @modelcontextprotocol/server-github --api-key '${secret:API_KEY}' 'https://bot:${secret:URL_PASSWORD}@example.com/x?key=${secret:KEY}&page=2'"), r.stdout)
    assert.match(r.stderr, /^mcplexer: error: import needs a confirmation/m)
    assert.match(r.stderr, /^mcplexer: hint: .*--yes/m)
    assert.ok(!existsSync(join(u.mcplexer, "config.yaml")))
    assert.deepEqual(leaks(r.stdout + r.stderr, Object.values(t)), [])
})

test("a server whose name exists with another definition is reported, and replaced only with --force", async () => {
    const u = await user()
    const t = tokens()
    const f = await plant("cursor", u.home, t)
    assert.equal((await run(u, ["import", "cursor", "--yes"])).code, 0)
    const file = join(u.mcplexer, "config.yaml")
    const before = await readFile(file)
    await writeFile(f.path, f.bytes.toString("utf8").replace('"LOG_LEVEL": "debug"', '"LOG_LEVEL": "info"'))
    const clash = await run(u, ["import", "cursor", "--yes"])
    assert.equal(clash.code, 1, clash.stderr)
    assert.match(clash.stdout, /! github {2}clash: config\.yaml has another "github"/)
    assert.deepEqual(await readFile(file), before)
    const forced = await run(u, ["import", "cursor", "--yes", "--force"])
    assert.equal(forced.code, 0, forced.stderr)
    const gh = (await config.load(file)).servers.get("github")
    assert.equal(gh?.kind === "stdio" && gh.env.LOG_LEVEL, "info")
})

test("with no argument, import finds every client's file, user and project", async () => {
    const u = await user()
    const t = tokens()
    await plant("gemini", u.home, t)
    await plant("codex", u.home, t)
    await writeFile(join(u.project, ".mcp.json"), JSON.stringify({ mcpServers: { memory: { command: "npx", args: ["-y", "@modelcontextprotocol/server-memory"] } } }))
    // one broken file stops no other
    await mkdir(join(u.home, ".cursor"))
    await writeFile(join(u.home, ".cursor", "mcp.json"), `{"mcpServers": {"x": {"env": {"T": ${t.github}}}}}`)
    const r = await run(u, ["import", "--dry-run"])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^cursor {2}.*\.cursor\/mcp\.json\n {2}\(skipped: cannot parse .*: invalid JSON\)$/m)
    assert.ok(!r.stdout.includes(t.github))
    assert.match(r.stdout, /^gemini {2}.*\.gemini\/settings\.json$/m)
    assert.match(r.stdout, /^codex {2}.*\.codex\/config\.toml$/m)
    assert.match(r.stdout, /^claude-code {2}.*project\/\.mcp\.json$/m)
    assert.match(r.stdout, /^ {2}\+ memory$/m)
    // the same linear server in two files is one server; two different github servers clash
    assert.match(r.stdout, /^ {2}= linear {2}twice: the same as in .*settings\.json$/m)
    assert.match(r.stdout, /^ {2}! github {2}clash: another "github" comes first, from .*settings\.json$/m)
})

test("a file given by path is imported, whatever its name", async () => {
    const u = await user()
    const t = tokens()
    const f = await plant("vscode", u.home, t)
    const r = await run(u, ["import", f.path, "--yes"])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /^imported 2 server\(s\)/m)
    assert.ok((await stored(u)).includes(t.github))
})

test("a server config.yaml cannot take is skipped with the reason, and the others are imported", async () => {
    const u = await user()
    const token = tokens().github
    const file = join(u.project, "odd.json")
    await writeFile(file, JSON.stringify({ mcpServers: {
        odd: { command: "srv", env: { "BAD-NAME": "x", GITHUB_TOKEN: token } },
        fine: { command: "srv", env: { GITHUB_TOKEN: token } },
    } }))
    const r = await run(u, ["import", file, "--yes"])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^ {2}- odd {2}skip: config\.yaml cannot take it: .*invalid environment variable name "BAD-NAME"/m)
    const c = await config.load(join(u.mcplexer, "config.yaml"))
    assert.deepEqual([...c.servers.keys()], ["fine"])
    assert.deepEqual([...(await stored(u))], [token])
})

/** Runs the CLI on a terminal (script(1) gives it a pty), answering each prompt as it appears. */
function terminal(u: { home: string; project: string }, args: string[], answers: [RegExp, string][]): Promise<{ code: number | null; transcript: string }> {
    const line = [process.execPath, cli, ...args].map(a => `'${a}'`).join(" ")
    return new Promise((done, fail) => {
        const child = spawn("script", ["-qefc", line, "/dev/null"], { cwd: u.project, env: { PATH: process.env.PATH ?? "", HOME: u.home, TERM: "dumb" } })
        let transcript = ""
        let seen = 0
        child.stdout.setEncoding("utf8").on("data", (d: string) => {
            transcript += d
            const next = answers[0]
            if (next && next[0].test(transcript.slice(seen))) {
                seen = transcript.length
                answers.shift()
                child.stdin.write(`${next[1]}\r`)
            }
        })
        child.on("error", fail)
        child.on("close", code => done({ code, transcript }))
    })
}

test("on a terminal, import asks before writing, then asks for the values the client asked its user for", async () => {
    const u = await user()
    const t = tokens()
    await plant("vscode", u.home, t)
    const no = await terminal(u, ["import", "vscode"], [[/\[y\/N\] $/, "n"]])
    assert.equal(no.code, 1, no.transcript)
    assert.ok(!existsSync(join(u.mcplexer, "config.yaml")))

    const typed = `typed-${tokens().query}`
    const yes = await terminal(u, ["import", "vscode"], [[/\[y\/N\] $/, "y"], [/linear\/LINEAR_KEY \(Linear API key\), empty to skip: $/, typed]])
    assert.equal(yes.code, 0, yes.transcript)
    assert.ok(!yes.transcript.includes(typed), "the typed value was echoed")
    assert.ok(yes.transcript.includes("npx -y @modelcontextprotocol/server-github --api-key"), yes.transcript)
    assert.equal((await run(u, ["secret", "get", "linear", "LINEAR_KEY"])).stdout, typed)
})

test("a value the vault already holds under the same scope and key is not overwritten unless --force", async () => {
    const u = await user()
    const t = tokens()
    await plant("claude-desktop", u.home, t)
    await mkdir(u.mcplexer)
    await writeFile(join(u.mcplexer, "config.yaml"), "auth_scopes:\n  github: { description: mine }\nservers: {}\n")
    const mine = `mine-${tokens().query}`
    const put = await run(u, ["secret", "put", "github", "GITHUB_PERSONAL_ACCESS_TOKEN"], {}, mine)
    assert.equal(put.code, 0, put.stderr)
    const r = await run(u, ["import", "claude-desktop", "--yes"])
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stdout, /! github {2}clash: the vault already holds github\/GITHUB_PERSONAL_ACCESS_TOKEN with another value/)
    assert.equal((await run(u, ["secret", "get", "github", "GITHUB_PERSONAL_ACCESS_TOKEN"])).stdout, mine)
    const forced = await run(u, ["import", "claude-desktop", "--yes", "--force"])
    assert.equal(forced.code, 0, forced.stderr)
    assert.equal((await run(u, ["secret", "get", "github", "GITHUB_PERSONAL_ACCESS_TOKEN"])).stdout, t.github)
})

test("a URL password, a connection string, a webhook URL, -p, a flag's URL and a --header line reach the vault, never config.yaml", async () => {
    const u = await user()
    const r4 = () => randomBytes(4).toString("hex")
    const v = { pg: `pg${r4()}`, sql: `sql${r4()}`, hook: `https://hooks.slack.com/services/T01/B02/${r4()}${r4()}`, p: `p${r4()}`, my: `my${r4()}`, bearer: `b${r4()}${r4()}` }
    const file = join(u.project, "servers.json")
    await writeFile(file, JSON.stringify({
        mcpServers: {
            db: {
                command: "npx", args: ["-y", "db-mcp", "-u", "root", "-p", v.p, `--db=mysql://root:${v.my}@db.example/app`, "--header", `Authorization: Bearer ${v.bearer}`],
                env: { DATABASE_URL: `postgres://u:${v.pg}@h/db`, SQL: `Server=tcp:h;User Id=u;Password=${v.sql};Encrypt=true`, SLACK_WEBHOOK_URL: v.hook },
            },
        },
    }))
    const r = await run(u, ["import", file, "--yes"])
    assert.equal(r.code, 0, r.stderr)
    const values = Object.values(v)
    assert.deepEqual(leaks(r.stdout + r.stderr, values), [])
    assert.deepEqual(leaks(await bytes(u.mcplexer), values), [], "a value is in a file mcplexer wrote")
    const got = await stored(u)
    for (const x of values) assert.ok(got.includes(x), `${x} is not in the vault`)
    const c = await config.load(join(u.mcplexer, "config.yaml"))
    const db = c.servers.get("db")
    assert.equal(db?.kind, "stdio")
    if (db?.kind === "stdio") assert.equal(db.env.SQL, "Server=tcp:h;User Id=u;Password=${secret:SQL_PASSWORD};Encrypt=true")
})
