import assert from "node:assert/strict"
import { spawnSync } from "node:child_process"
import { join } from "node:path"
import { test } from "node:test"
import Database from "better-sqlite3"
import { run } from "../helpers.ts"
import { clean, fixture, home, planted, started } from "./kit.ts"

interface Json {
    servers: Array<{
        name: string; kind: string; scope?: string
        instances: Array<{ scope?: string; state: string; pid?: number; restarts: number; lastError?: string }>
        missing: Array<{ scope: string; key: string }>
    }>
    collisions: string[] | null
    unknown: string[]
}

test("status lists every server with kind, scope and state, and starts nothing", async () => {
    const h = await home(h => ({
        ds: fixture("ds-server.ts", { scope: "gh", env: { DS_START_LOG: join(h, "starts.log") } }),
        web: JSON.stringify({ url: "https://example.com/mcp", scope: "acme" }),
    }))
    const log = join(h, "starts.log")
    const r = await run(h, ["status"])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^SERVER\s+KIND\s+SCOPE\s+STATE\s+PID\s+RESTARTS\s+SINCE\s+LAST ERROR$/m)
    assert.match(r.stdout, /^ds\s+stdio\s+gh\s+stopped\s/m)
    assert.match(r.stdout, /^web\s+remote\s+acme\s+stopped\s/m)
    assert.match(r.stdout, /^missing secrets: none$/m)
    assert.match(r.stdout, /^naming collisions: unknown until `mcplexer tools` has learned the catalogs of "ds", "web"$/m)
    assert.deepEqual(started(log), [])
    clean(r)
})

test("status names each missing secret with the exact command that fixes it", async () => {
    const h = await home({
        ds: fixture("ds-server.ts", { scope: "gh", env: { API: "${secret:API_KEY}", OTHER: "${secret:acme/ACME_TOKEN}", OK: "${secret:TOKEN}" } }),
    })
    const r = await run(h, ["status"])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^ {2}server "ds" needs "gh\/API_KEY": mcplexer secret put gh API_KEY$/m)
    assert.match(r.stdout, /^ {2}server "ds" needs "acme\/ACME_TOKEN": mcplexer secret put acme ACME_TOKEN$/m)
    assert.doesNotMatch(r.stdout, /gh\/TOKEN/)
    const j = await run(h, ["status", "--json"])
    const s = (JSON.parse(j.stdout) as Json).servers[0]
    assert.deepEqual(s?.missing, [{ scope: "gh", key: "API_KEY" }, { scope: "acme", key: "ACME_TOKEN" }])
    clean(r, j)
})

test("status shows what a running serve recorded, and a row whose process is gone as stopped", async () => {
    const h = await home({ ds: fixture("ds-server.ts", { scope: "gh" }), other: fixture("ds-server.ts") })
    // a process that has exited: its pid is free
    const gone = spawnSync(process.execPath, ["-e", "console.log(process.pid)"], { encoding: "utf8" })
    const dead = Number(gone.stdout.trim())
    const db = new Database(join(h, "mcplexer.db"))
    const now = Date.now()
    const insert = db.prepare("insert into instances (server, scope, state, pid, restarts, last_error, started_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?)")
    insert.run("ds", "gh", "running", process.pid, 2, "server \"ds\" exited (code 1)", now - 5000, now)
    insert.run("other", "", "running", dead, 0, null, now - 5000, now)
    db.close()
    const r = await run(h, ["status", "--json"])
    assert.equal(r.code, 0, r.stderr)
    const j = JSON.parse(r.stdout) as Json
    const ds = j.servers.find(s => s.name === "ds")
    assert.equal(ds?.instances[0]?.state, "running")
    assert.equal(ds?.instances[0]?.pid, process.pid)
    assert.equal(ds?.instances[0]?.restarts, 2)
    assert.equal(ds?.instances[0]?.lastError, "server \"ds\" exited (code 1)")
    const other = j.servers.find(s => s.name === "other")
    assert.equal(other?.instances[0]?.state, "stopped")
    assert.equal(other?.instances[0]?.pid, undefined)
    const t = await run(h, ["status"])
    assert.match(t.stdout, new RegExp(`^ds\\s+stdio\\s+gh\\s+running\\s+${process.pid}\\s+2\\s+\\d{4}-\\d\\d-\\d\\dT\\S+\\s+server "ds" exited \\(code 1\\)$`, "m"))
    assert.match(t.stdout, /^other\s+stdio\s+-\s+stopped\s+-\s+0\s/m)
})

test("status reports naming collisions from the cached catalogs without starting a server", async () => {
    const h = await home(h => ({
        a: fixture("ds-server.ts", { prefix: false, env: { DS_START_LOG: join(h, "starts.log") } }),
        b: fixture("ds-server.ts", { prefix: false, env: { DS_START_LOG: join(h, "starts.log"), DS_NO_EXTRAS: "1" } }),
    }))
    const log = join(h, "starts.log")
    const learn = await run(h, ["tools"])
    assert.equal(learn.code, 0, learn.stderr)
    const starts = started(log).length
    assert.equal(starts, 2)
    const r = await run(h, ["status"])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^naming collisions:$/m)
    assert.match(r.stdout, /^ {2}tool "echo" of server "b" is exposed as "echo_[0-9a-f]{6}": "echo" is taken by server "a"$/m)
    assert.equal(started(log).length, starts, "status started a server")
    const j = JSON.parse((await run(h, ["status", "--json"])).stdout) as Json
    assert.ok(j.collisions && j.collisions.length >= 15)
    assert.deepEqual(j.unknown, [])
})

test("status never decrypts: it works with the key file gone", async () => {
    const h = await home({ ds: fixture("ds-server.ts", { scope: "gh" }) })
    const { rm } = await import("node:fs/promises")
    await rm(join(h, "age.key"))
    const r = await run(h, ["status"])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^ds\s+stdio\s+gh\s+stopped/m)
})

test("status shows the instance a running serve started, and stopped once serve exits", async () => {
    const h = await home({ ds: fixture("ds-server.ts", { scope: "gh" }) })
    const { Client } = await import("@modelcontextprotocol/sdk/client/index.js")
    const { StdioClientTransport } = await import("@modelcontextprotocol/sdk/client/stdio.js")
    const { cli } = await import("../helpers.ts")
    const client = new Client({ name: "status-test", version: "1.0.0" })
    await client.connect(new StdioClientTransport({
        command: process.execPath,
        args: [cli, "serve", "--log-level", "error"],
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: h, MCPLEXER_HOME: h },
        stderr: "ignore",
    }))
    let pid: number
    try {
        const r = await client.callTool({ name: "ds__pid", arguments: {} })
        const content = r.content as Array<{ type: string; text: string }>
        pid = (JSON.parse(content[0]?.text ?? "{}") as { pid: number }).pid
        const s = await run(h, ["status", "--json"])
        assert.equal(s.code, 0, s.stderr)
        const i = (JSON.parse(s.stdout) as Json).servers[0]?.instances[0]
        assert.equal(i?.state, "running")
        assert.equal(i?.pid, pid)
        assert.equal(i?.scope, "gh")
        clean(s)
    } finally {
        await client.close()
    }
    for (let i = 0; i < 50; i++) {
        const s = await run(h, ["status", "--json"])
        if ((JSON.parse(s.stdout) as Json).servers[0]?.instances[0]?.state === "stopped") return
        await new Promise(done => setTimeout(done, 100))
    }
    assert.fail(`server process ${pid} still shows as running after serve exited`)
})

test("a backoff row left by a serve that was killed shows as stopped", async () => {
    const h = await home({ ds: fixture("ds-server.ts", { scope: "gh" }) })
    const dead = Number(spawnSync(process.execPath, ["-e", "console.log(process.pid)"], { encoding: "utf8" }).stdout.trim())
    const db = new Database(join(h, "mcplexer.db"))
    db.prepare("insert into instances (server, scope, state, pid, owner, restarts, last_error, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?)")
        .run("ds", "gh", "backoff", null, dead, 3, "server \"ds\" exited (code 1)", Date.now())
    db.close()
    const r = await run(h, ["status", "--json"])
    assert.equal(r.code, 0, r.stderr)
    const ds = (JSON.parse(r.stdout) as Json).servers.find(s => s.name === "ds")
    assert.equal(ds?.instances[0]?.state, "stopped")
    assert.equal(ds?.instances[0]?.restarts, 3)
})

test("status shows the audit rows a running serve keeps while another process holds the database lock, and serve says so once", async () => {
    const h = await home({ ds: fixture("ds-server.ts", { scope: "gh" }) })
    const { Client } = await import("@modelcontextprotocol/sdk/client/index.js")
    const { StdioClientTransport } = await import("@modelcontextprotocol/sdk/client/stdio.js")
    const { cli } = await import("../helpers.ts")
    const client = new Client({ name: "status-test", version: "1.0.0" })
    const transport = new StdioClientTransport({
        command: process.execPath,
        args: [cli, "serve", "--log-level", "warn"],
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: h, MCPLEXER_HOME: h },
        stderr: "pipe",
    })
    let stderr = ""
    transport.stderr?.on("data", (d: Buffer) => { stderr += d.toString("utf8") })
    await client.connect(transport)
    const serve = transport.pid
    const db = join(h, "mcplexer.db")
    const calls = () => {
        const r = new Database(db, { readonly: true })
        try {
            return r.prepare("SELECT count(*) FROM audit WHERE action = 'call'").pluck().get() as number
        } finally {
            r.close()
        }
    }
    const wait = async (what: string, ok: () => boolean | Promise<boolean>) => {
        for (let i = 0; i < 150; i++) {
            if (await ok()) return
            await new Promise(done => setTimeout(done, 100))
        }
        assert.fail(`timed out waiting for ${what}; serve's stderr:\n${stderr}`)
    }
    try {
        await client.callTool({ name: "ds__pid", arguments: {} })
        await wait("the first row", () => calls() === 1)
        const holder = new Database(db)
        holder.exec("BEGIN EXCLUSIVE")
        try {
            for (let i = 0; i < 5; i++) await client.callTool({ name: "ds__pid", arguments: {} })
            await wait("status to show the queue", async () => {
                const s = await run(h, ["status"])
                return new RegExp(`^audit queue:\\n  serve ${serve}: 5 rows queued, 0 dropped; last error since \\S+: the database is locked by another process$`, "m").test(s.stdout)
            })
            const j = await run(h, ["status", "--json"])
            assert.deepEqual((JSON.parse(j.stdout) as { audit: Array<{ pid: number; queued: number }> }).audit.map(b => [b.pid, b.queued]), [[serve, 5]])
            clean(j)
        } finally {
            holder.exec("ROLLBACK")
            holder.close()
        }
        await wait("every row", () => calls() === 6)
        await wait("status to show it empty", async () => /^audit queue: empty$/m.test((await run(h, ["status"])).stdout))
        assert.equal(stderr.match(/audit trail: cannot write to/g)?.length, 1, stderr)
        assert.match(stderr, /audit trail: wrote 5 rows kept while .* could not be written/)
        assert.ok(!stderr.includes(planted))
    } finally {
        await client.close()
    }
})
