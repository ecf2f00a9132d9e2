import assert from "node:assert/strict"
import { execFileSync } from "node:child_process"
import { existsSync } from "node:fs"
import { lstat, mkdir, readdir, readFile, rename, stat, symlink, writeFile } from "node:fs/promises"
import { basename, dirname, join } from "node:path"
import { test } from "node:test"
import { parse as toml } from "smol-toml"
import { cli } from "../helpers.ts"
import { clients, path, plant, run, tokens, user, type Client } from "./kit.ts"

/** mcplexer's entry in the client's file, wherever that client keeps servers. */
function entry(client: Client, text: string): Record<string, unknown> | undefined {
    const data = client === "codex" ? toml(text) : JSON.parse(text) as Record<string, unknown>
    const servers = data[client === "vscode" ? "servers" : client === "codex" ? "mcp_servers" : "mcpServers"] as Record<string, Record<string, unknown>>
    assert.deepEqual(Object.keys(servers), ["mcplexer"], "mcplexer is not the only server")
    return servers.mcplexer
}

async function backups(file: string): Promise<string[]> {
    return (await readdir(dirname(file))).filter(n => n.startsWith(`${basename(file)}.mcplexer-`) && n.includes(".bak"))
}

/** Go age, when this machine has it (apt-get install age): a second reader of the backups. */
const goAge = (() => {
    try {
        execFileSync("age", ["--version"], { stdio: "ignore" })
        return true
    } catch {
        return false
    }
})()

for (const client of clients) {
    test(`${client}: install then uninstall restores the file byte for byte; --dry-run writes nothing`, async () => {
        const u = await user()
        const t = tokens()
        const f = await plant(client, u.home, t)
        const mtime = (await stat(f.path)).mtimeMs

        const dry = await run(u, ["install", client, "--dry-run"])
        assert.equal(dry.code, 0, dry.stderr)
        assert.match(dry.stdout, /^\+.*mcplexer/m)
        assert.ok(!Object.values(t).some(v => dry.stdout.includes(v)), `the diff shows a token:\n${dry.stdout}`)
        assert.deepEqual(await readFile(f.path), f.bytes)
        assert.equal((await stat(f.path)).mtimeMs, mtime)
        assert.deepEqual(await backups(f.path), [])
        assert.ok(!existsSync(u.mcplexer), "the dry run wrote into mcplexer's home")

        const r = await run(u, ["install", client])
        assert.equal(r.code, 0, r.stderr)
        const e = entry(client, await readFile(f.path, "utf8"))
        assert.equal(e?.command, process.execPath)
        assert.deepEqual(e?.args, [cli, "serve"])
        assert.equal(e?.env, undefined, "MCPLEXER_HOME is set though the home is the default")
        const [backup] = await backups(f.path)
        assert.ok(backup, "no backup")
        assert.ok(r.stderr.includes(join(dirname(f.path), backup)), r.stderr)
        assert.equal((await stat(join(dirname(f.path), backup))).mode & 0o777, 0o600)
        // the backup is an age file to the identity: the plaintext tokens of the old file are not in it
        const kept = await readFile(join(dirname(f.path), backup))
        assert.ok(backup.endsWith(".bak.age"), backup)
        assert.ok(kept.subarray(0, 22).equals(Buffer.from("age-encryption.org/v1\n")), "the backup is not an age file")
        assert.deepEqual(Object.values(t).filter(v => kept.includes(v)), [], "a planted token is in the backup")
        if (goAge) assert.deepEqual(execFileSync("age", ["-d", "-i", join(u.mcplexer, "age.key"), join(dirname(f.path), backup)]), f.bytes)
        const after = await readFile(f.path, "utf8")
        assert.deepEqual(Object.values(t).filter(v => after.includes(v)), [], "a planted token is still in the client's file")
        if (client === "claude-code") assert.deepEqual((JSON.parse(after) as { projects: Record<string, { mcpServers: unknown }> }).projects["/home/u/acme"]?.mcpServers, {})
        // nothing was imported first: install names what the backup alone keeps
        assert.match(r.stderr, new RegExp(`^mcplexer: warning: not imported into mcplexer yet: github${client === "claude-desktop" ? "" : ", linear"}`, "m"))

        const un = await run(u, ["uninstall", client])
        assert.equal(un.code, 0, un.stderr)
        assert.deepEqual(await readFile(f.path), f.bytes)
        assert.deepEqual(await backups(f.path), [], "uninstall left the backup")
    })
}

test("uninstall refuses, with a hint, when the file changed since install", async () => {
    const u = await user()
    const f = await plant("cursor", u.home, tokens())
    assert.equal((await run(u, ["install", "cursor"])).code, 0)
    await writeFile(f.path, (await readFile(f.path, "utf8")).replace("serve", "serve\", \"--log-level\", \"debug"))
    const changed = await readFile(f.path)
    const r = await run(u, ["uninstall", "cursor"])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^mcplexer: error: .*mcp\.json changed since mcplexer install$/m)
    assert.match(r.stderr, /^mcplexer: hint: to put the old file back anyway: age -d -i ".*age\.key" -o ".*mcp\.json" ".*\.bak\.age"$/m)
    assert.deepEqual(await readFile(f.path), changed)
})

test("uninstall still restores the plaintext backup an earlier version kept", async () => {
    const u = await user()
    const f = await plant("cursor", u.home, tokens())
    assert.equal((await run(u, ["install", "cursor"])).code, 0)
    const ledger = join(u.mcplexer, "installs.json")
    const state = JSON.parse(await readFile(ledger, "utf8")) as Record<string, { backup: string; sealed?: boolean }>
    const r = state[f.path]
    assert.ok(r)
    await writeFile(r.backup, f.bytes)
    delete r.sealed
    await writeFile(ledger, JSON.stringify(state))
    const un = await run(u, ["uninstall", "cursor"])
    assert.equal(un.code, 0, un.stderr)
    assert.deepEqual(await readFile(f.path), f.bytes)
})

test("a backup made before a key rotation is still restored with the key kept beside the new one", async () => {
    const u = await user()
    const f = await plant("cursor", u.home, tokens())
    assert.equal((await run(u, ["install", "cursor"])).code, 0)
    const rot = await run(u, ["key", "rotate"])
    assert.equal(rot.code, 0, rot.stderr)
    const un = await run(u, ["uninstall", "cursor"])
    assert.equal(un.code, 0, un.stderr)
    assert.deepEqual(await readFile(f.path), f.bytes)
})

test("a client file kept behind a link (a dotfiles folder) is written through it: the link stays and no plaintext is left in its target", async () => {
    const u = await user()
    const t = tokens()
    const f = await plant("claude-code", u.home, t)
    const target = join(u.home, "dotfiles", "claude.json")
    await mkdir(dirname(target))
    await rename(f.path, target)
    await symlink(target, f.path)
    const r = await run(u, ["install", "claude-code"])
    assert.equal(r.code, 0, r.stderr)
    assert.ok((await lstat(f.path)).isSymbolicLink(), "install replaced the link with a file")
    const now = await readFile(target, "utf8")
    assert.ok(entry("claude-code", now) !== undefined)
    assert.ok(!now.includes(t.github), "the plaintext token was left in the link's target")
    const un = await run(u, ["uninstall", "claude-code"])
    assert.equal(un.code, 0, un.stderr)
    assert.ok((await lstat(f.path)).isSymbolicLink(), "uninstall replaced the link with a file")
    assert.deepEqual(await readFile(target), f.bytes)
})

test("install names a home that is not the default, and uninstall removes a file that did not exist", async () => {
    const u = await user()
    const other = join(u.home, "elsewhere")
    const file = path("gemini", u.home)
    const r = await run(u, ["install", "gemini"], { MCPLEXER_HOME: other })
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(entry("gemini", await readFile(file, "utf8"))?.env, { MCPLEXER_HOME: other })
    assert.equal((await run(u, ["uninstall", "gemini"], { MCPLEXER_HOME: other })).code, 0)
    assert.ok(!existsSync(file))
})

test("XDG_CONFIG_HOME moves Claude Desktop's and VS Code's files", async () => {
    const u = await user()
    const xdg = join(u.home, "xdg")
    const r = await run(u, ["install", "vscode", "--dry-run"], { XDG_CONFIG_HOME: xdg })
    assert.match(r.stdout, new RegExp(`^\\+\\+\\+ ${xdg}/Code/User/mcp\\.json$`, "m"))
})

test("uninstall puts back only the servers when the client changed its other settings since install", async () => {
    const u = await user()
    const t = tokens()
    const f = await plant("claude-code", u.home, t)
    assert.equal((await run(u, ["install", "claude-code"])).code, 0)
    const installed = JSON.parse(await readFile(f.path, "utf8")) as Record<string, unknown>
    await writeFile(f.path, JSON.stringify({ ...installed, numStartups: 13 }, null, 2) + "\n")
    const r = await run(u, ["uninstall", "claude-code"])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /other settings changed since install and are kept/)
    const original = JSON.parse(f.bytes.toString("utf8")) as Record<string, unknown>
    assert.deepEqual(JSON.parse(await readFile(f.path, "utf8")), { ...original, numStartups: 13 })
})

test("install refuses a file it cannot parse, naming the place and never the text", async () => {
    const u = await user()
    const t = tokens()
    const f = await plant("cursor", u.home, t)
    await writeFile(f.path, f.bytes.toString("utf8").replace(`"${t.github}"`, t.github))
    const r = await run(u, ["install", "cursor"])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^mcplexer: error: cannot parse .*mcp\.json: invalid JSON( at line \d+, column \d+)?$/m)
    assert.ok(!r.stderr.includes(t.github), r.stderr)
    assert.deepEqual(await backups(f.path), [])
})
