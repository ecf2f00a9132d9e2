import assert from "node:assert/strict"
import { spawn } from "node:child_process"
import { cp, readFile, readdir, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { test } from "node:test"
import Database from "better-sqlite3"
import { drizzle } from "drizzle-orm/better-sqlite3"
import { migrate } from "drizzle-orm/better-sqlite3/migrator"
import * as store from "../../internal/store/index.ts"
import { Encrypter } from "age-encryption"
import { cli, fresh, run } from "../helpers.ts"

const planted = "ghp_plantedSECRET-4f9c2e1d-never-print-me"

/** Every byte of the home folder's files, as text, for the never-leaks checks. */
async function everything(home: string): Promise<string> {
    let all = ""
    for (const f of await readdir(home)) all += (await readFile(join(home, f))).toString("latin1")
    return all
}

test("a value put from stdin comes back exactly, and nowhere else", async () => {
    const home = await fresh()
    const put = await run(home, ["secret", "put", "gh", "GITHUB_TOKEN"], { input: `${planted}\n` })
    assert.equal(put.code, 0, put.stderr)
    assert.match(put.stderr, /^stored gh\/GITHUB_TOKEN$/m)
    const get = await run(home, ["secret", "get", "gh", "GITHUB_TOKEN"])
    assert.equal(get.code, 0, get.stderr)
    assert.equal(get.stdout, planted)
    const list = await run(home, ["secret", "list"])
    assert.match(list.stdout, /^gh\s+GITHUB_TOKEN\s+\d{4}-\d\d-\d\dT/m)
    for (const r of [put, list]) assert.ok(!(r.stdout + r.stderr).includes(planted))
    assert.ok(!(await everything(home)).includes(planted), "the plaintext is on disk")
})

test("audit rows record put, get and delete but never the value", async () => {
    const home = await fresh()
    await run(home, ["secret", "put", "gh", "TOKEN"], { input: planted })
    await run(home, ["secret", "get", "gh", "TOKEN"])
    await run(home, ["secret", "delete", "gh", "TOKEN"])
    const db = new Database(join(home, "mcplexer.db"), { readonly: true })
    const rows = db.prepare("select * from audit order by id").all() as Record<string, unknown>[]
    db.close()
    const actions = rows.map(r => r.action)
    for (const a of ["put", "get", "delete"]) assert.ok(actions.some(x => String(x).includes(a)), `no ${a} row in ${actions.join(",")}`)
    assert.ok(rows.every(r => r.scope === "gh" && r.key === "TOKEN" && r.actor === "cli"))
    assert.ok(!JSON.stringify(rows).includes(planted))
})

test("overwriting a key says so", async () => {
    const home = await fresh()
    await run(home, ["secret", "put", "gh", "TOKEN"], { input: "first-value" })
    const r = await run(home, ["secret", "put", "gh", "TOKEN"], { input: "second-value" })
    assert.equal(r.code, 0)
    assert.match(r.stderr, /^replaced gh\/TOKEN/m)
    assert.equal((await run(home, ["secret", "get", "gh", "TOKEN"])).stdout, "second-value")
})

test("a value on the command line works but warns about shell history", async () => {
    const home = await fresh()
    const r = await run(home, ["secret", "put", "gh", "TOKEN", "from-argv-value"])
    assert.equal(r.code, 0)
    assert.match(r.stderr, /^mcplexer: warning: .*shell history/m)
    assert.equal((await run(home, ["secret", "get", "gh", "TOKEN"])).stdout, "from-argv-value")
})

test("--from-env and --from-file read the value from there", async () => {
    const home = await fresh()
    const env = await run(home, ["secret", "put", "gh", "A", "--from-env", "MY_VALUE"], { env: { MY_VALUE: "env-value-1" } })
    assert.equal(env.code, 0, env.stderr)
    const file = join(home, "value.txt")
    await writeFile(file, "file-value-2\n")
    const f = await run(home, ["secret", "put", "gh", "B", "--from-file", file])
    assert.equal(f.code, 0, f.stderr)
    assert.equal((await run(home, ["secret", "get", "gh", "A"])).stdout, "env-value-1")
    assert.equal((await run(home, ["secret", "get", "gh", "B"])).stdout, "file-value-2")
    const unset = await run(home, ["secret", "put", "gh", "C", "--from-env", "NOT_SET_ANYWHERE"])
    assert.equal(unset.code, 1)
    assert.match(unset.stderr, /^mcplexer: error: environment variable "NOT_SET_ANYWHERE" is not set$/m)
})

test("two sources at once is a usage error", async () => {
    const home = await fresh()
    const r = await run(home, ["secret", "put", "gh", "A", "v", "--from-env", "X"])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /^mcplexer: error: give the value one way/m)
})

test("an undeclared scope is refused with the declared ones listed", async () => {
    const home = await fresh()
    const r = await run(home, ["secret", "put", "nope", "TOKEN"], { input: "value-1234" })
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^mcplexer: error: scope "nope" is not declared in .*config\.yaml$/m)
    assert.match(r.stderr, /^mcplexer: hint: declared scopes: gh, acme$/m)
})

test("an empty value is refused and nothing is stored", async () => {
    const home = await fresh()
    const r = await run(home, ["secret", "put", "gh", "TOKEN"], { input: "\n" })
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^mcplexer: error: .*empty/m)
    assert.equal((await run(home, ["secret", "list", "--json"])).stdout.trim(), "[]")
})

test("invalid scope and key names are refused", async () => {
    const home = await fresh()
    const scope = await run(home, ["secret", "put", "bad scope", "TOKEN"], { input: "value-1234" })
    assert.equal(scope.code, 1)
    assert.match(scope.stderr, /^mcplexer: error: invalid scope name "bad scope"/m)
    assert.match(scope.stderr, /^mcplexer: hint: /m)
    const key = await run(home, ["secret", "put", "gh", "1-TOKEN"], { input: "value-1234" })
    assert.equal(key.code, 1)
    assert.match(key.stderr, /^mcplexer: error: invalid key name "1-TOKEN"/m)
})

test("getting or deleting a missing key is an error with a hint", async () => {
    const home = await fresh()
    await run(home, ["secret", "put", "gh", "TOKEN"], { input: "value-1234" })
    const get = await run(home, ["secret", "get", "gh", "MISSING"])
    assert.equal(get.code, 1)
    assert.match(get.stderr, /^mcplexer: error: .*"gh\/MISSING"/m)
    assert.match(get.stderr, /^mcplexer: hint: /m)
    const del = await run(home, ["secret", "delete", "gh", "MISSING"])
    assert.equal(del.code, 1)
    assert.match(del.stderr, /^mcplexer: error: .*"gh\/MISSING"/m)
    const ok = await run(home, ["secret", "delete", "gh", "TOKEN"])
    assert.equal(ok.code, 0)
    assert.match(ok.stderr, /^deleted gh\/TOKEN$/m)
    assert.equal((await run(home, ["secret", "get", "gh", "TOKEN"])).code, 1)
})

test("list filters by scope and prints JSON without values", async () => {
    const home = await fresh()
    await run(home, ["secret", "put", "gh", "ONE"], { input: "value-one-1" })
    await run(home, ["secret", "put", "acme", "TWO"], { input: "value-two-2" })
    const r = await run(home, ["secret", "list", "acme", "--json"])
    assert.equal(r.code, 0, r.stderr)
    const rows = JSON.parse(r.stdout) as Array<Record<string, string>>
    assert.deepEqual(rows.map(x => [x.scope, x.key]), [["acme", "TWO"]])
    assert.ok(!Number.isNaN(Date.parse(rows[0]?.updatedAt ?? "")))
    assert.ok(!r.stdout.includes("value-two-2"))
})

test("a YAML syntax error in the config is reported with its position", async () => {
    const home = await fresh("auth_scopes:\n  gh: { description: x\nservers: {}\n")
    const r = await run(home, ["secret", "put", "gh", "TOKEN"], { input: "value-1234" })
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^mcplexer: error: .*config\.yaml:\d+:\d+: /m)
    assert.match(r.stderr, /^mcplexer: hint: /m)
})

test("an unknown config key is an error, not ignored", async () => {
    const home = await fresh("auth_scopes:\n  gh: {}\nservrs: {}\n")
    const r = await run(home, ["secret", "put", "gh", "TOKEN"], { input: "value-1234" })
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^mcplexer: error: .*config\.yaml:3:1: .*"servrs"/m)
})

test("a missing config says how to create one", async () => {
    const home = await fresh(null)
    const r = await run(home, ["secret", "put", "gh", "TOKEN"], { input: "value-1234" })
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^mcplexer: hint: .*mcplexer init/m)
})

test("usage mistakes exit 2 with a pointer to --help", async () => {
    const home = await fresh()
    const r = await run(home, ["secret", "put", "gh"])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /^mcplexer: error: /m)
    assert.match(r.stderr, /^mcplexer: hint: run "mcplexer secret put --help"/m)
    const none = await run(home, [])
    assert.equal(none.code, 2)
    const unknown = await run(home, ["sekret"])
    assert.equal(unknown.code, 2)
})

test("every command's help shows an example", async () => {
    const home = await fresh()
    for (const cmd of [["init"], ["secret", "put"], ["secret", "get"], ["secret", "list"], ["secret", "delete"], ["key", "show"], ["key", "rotate"]]) {
        const r = await run(home, [...cmd, "--help"])
        assert.equal(r.code, 0, `${cmd.join(" ")}: ${r.stderr}`)
        assert.match(r.stdout, /Examples:/, cmd.join(" "))
    }
})

test("secret get on a database of an older release upgrades it; its rows are read once `key upgrade` vouched for them", async () => {
    // the row and key of a current home, moved into a database made with the migrations of the
    // release before rows were authenticated (0006 marks a store whose rows all carry a MAC)
    const current = await fresh()
    assert.equal((await run(current, ["secret", "put", "gh", "TOKEN"], { input: planted })).code, 0)
    const src = new Database(join(current, "mcplexer.db"), { readonly: true })
    const row = src.prepare("SELECT * FROM secrets WHERE scope = 'gh' AND key = 'TOKEN'").get() as Record<string, unknown>
    src.close()
    const home = await fresh()
    // without the mark line this release writes in every key (an older release's key had none)
    const key = (await readFile(join(current, "age.key"), "utf8")).split("\n").filter(l => !l.startsWith("# mcplexer: rows authenticated")).join("\n")
    await writeFile(join(home, "age.key"), key, { mode: 0o600 })
    const old = join(home, "old-migrations")
    await cp(store.migrations(), old, { recursive: true })
    const journal = JSON.parse(await readFile(join(old, "meta", "_journal.json"), "utf8")) as { entries: Array<{ when: number; tag: string }> }
    await writeFile(join(old, "meta", "_journal.json"), JSON.stringify({ ...journal, entries: journal.entries.filter(e => e.tag < "0006") }))
    const raw = new Database(join(home, "mcplexer.db"))
    migrate(drizzle(raw), { migrationsFolder: old })
    raw.prepare("INSERT INTO secrets (scope, key, recipient, ciphertext, created_at, updated_at) VALUES (@scope, @key, @recipient, @ciphertext, @created_at, @updated_at)").run(row)
    raw.close()

    // the schema is upgraded, but a row from before MACs is not trusted on its own
    const refused = await run(home, ["secret", "get", "gh", "TOKEN"])
    assert.equal(refused.code, 1)
    assert.equal(refused.stdout, "")
    assert.match(refused.stderr, /^mcplexer: error: secret "gh\/TOKEN" was stored before rows were authenticated, and is not trusted$/m)
    assert.match(refused.stderr, /^mcplexer: hint: .*mcplexer key upgrade/m)
    const upgrade = await run(home, ["key", "upgrade"])
    assert.equal(upgrade.code, 0, upgrade.stderr)
    assert.match(upgrade.stderr, /^authenticated gh\/TOKEN$/m)
    const get = await run(home, ["secret", "get", "gh", "TOKEN"])
    assert.equal(get.code, 0, get.stderr)
    assert.equal(get.stdout, planted)
    const db = new Database(join(home, "mcplexer.db"), { readonly: true })
    const newest = db.prepare("SELECT max(created_at) FROM __drizzle_migrations").pluck().get()
    const audited = db.prepare("SELECT count(*) FROM audit WHERE action = 'get' AND status = 'ok'").pluck().get()
    db.close()
    assert.equal(Number(newest), Math.max(...journal.entries.map(e => e.when)))
    assert.equal(audited, 1)
})

test("secret get on a database of a newer release is refused with a hint, and changes nothing", async () => {
    const home = await fresh()
    assert.equal((await run(home, ["secret", "put", "gh", "TOKEN"], { input: planted })).code, 0)
    const db = new Database(join(home, "mcplexer.db"))
    db.prepare("INSERT INTO __drizzle_migrations (hash, created_at) VALUES ('future', ?)").run(Date.now() + 1e9)
    db.close()
    const get = await run(home, ["secret", "get", "gh", "TOKEN"])
    assert.equal(get.code, 1)
    assert.equal(get.stdout, "")
    assert.match(get.stderr, /^mcplexer: error: database ".*mcplexer\.db" was written by a newer mcplexer$/m)
    assert.match(get.stderr, /^mcplexer: hint: upgrade mcplexer/m)
})

interface Raw { code: number | null; stdout: Buffer; stderr: string }

/** Runs the built CLI with `input` as bytes on stdin, keeping stdout as bytes. */
function rawRun(home: string, args: string[], input: Uint8Array = Buffer.alloc(0)): Promise<Raw> {
    return new Promise((done, fail) => {
        const child = spawn(process.execPath, [cli, ...args], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, MCPLEXER_HOME: home }, stdio: ["pipe", "pipe", "pipe"] })
        const out: Buffer[] = []
        let stderr = ""
        child.stdout.on("data", (d: Buffer) => out.push(d))
        child.stderr.setEncoding("utf8").on("data", (d: string) => { stderr += d })
        child.on("error", fail)
        child.on("close", code => done({ code, stdout: Buffer.concat(out), stderr }))
        child.stdin.on("error", () => { /* it exited without reading: its output and exit code are the result */ })
        child.stdin.end(input)
    })
}

/**
 * Runs `secret put gh <key>` on a real terminal (util-linux `script` gives it a pty), and types
 * `keys` once the prompt shows. Returns the exit code and everything the terminal showed.
 */
function typed(home: string, key: string, keys: Buffer): Promise<{ code: number | null; screen: string }> {
    return new Promise((done, fail) => {
        const child = spawn("script", ["-qfec", `${process.execPath} ${cli} secret put gh ${key}`, "/dev/null"],
            { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, MCPLEXER_HOME: home, TERM: "dumb" }, stdio: ["pipe", "pipe", "pipe"] })
        let screen = ""
        let sent = false
        child.stdout.on("data", (d: Buffer) => {
            screen += d.toString("latin1")
            if (!sent && screen.includes("(input hidden): ")) {
                sent = true
                // the prompt is written just before the terminal is put in raw mode: let it get there
                setTimeout(() => child.stdin.write(keys), 200)
            }
        })
        child.on("error", fail)
        child.on("close", code => { child.stdin.destroy(); done({ code, screen }) })
    })
}

// bytes UTF-8 cannot carry, a lone continuation byte, a truncated sequence, and every other byte but NUL
const binary = Buffer.concat([Buffer.from([0xff, 0xfe, 0x80, 0x41, 0xc3]), Buffer.from(Array.from({ length: 255 }, (_, i) => i + 1))])

test("any bytes but NUL round-trip exactly through stdin, --from-file and secret get to a pipe", async () => {
    const home = await fresh()
    const put = await rawRun(home, ["secret", "put", "gh", "BIN"], binary)
    assert.equal(put.code, 0, put.stderr)
    // not text: stored, and the person is told that a server cannot be given it
    assert.match(put.stderr, /^mcplexer: warning: the value of gh\/BIN is not UTF-8 text/m)
    const get = await rawRun(home, ["secret", "get", "gh", "BIN"])
    assert.equal(get.code, 0, get.stderr)
    assert.ok(get.stdout.equals(binary), `got ${get.stdout.toString("hex")}`)

    const file = join(home, "value.bin")
    await writeFile(file, binary)
    assert.equal((await rawRun(home, ["secret", "put", "gh", "FILE", "--from-file", file])).code, 0)
    assert.ok((await rawRun(home, ["secret", "get", "gh", "FILE"])).stdout.equals(binary))
})

test("a value with a NUL byte is refused at put, and nothing is stored", async () => {
    const home = await fresh()
    const put = await rawRun(home, ["secret", "put", "gh", "NUL"], Buffer.from("abc\0def"))
    assert.equal(put.code, 1)
    assert.match(put.stderr, /^mcplexer: error: value of secret "gh\/NUL" contains a NUL byte; nothing was stored$/m)
    assert.match(put.stderr, /^mcplexer: hint: .*cannot hold NUL/m)
    assert.match((await run(home, ["secret", "list"])).stderr, /no secrets stored yet/)
})

const haveScript = (await new Promise<number | null>(done => spawn("script", ["--version"], { stdio: "ignore" }).on("close", done).on("error", () => done(null)))) === 0

test("the hidden prompt takes bytes as typed, Backspace removing a whole character, and ends its line", async t => {
    if (!haveScript) return t.skip("util-linux script not installed")
    const home = await fresh()
    // 0xff, "A", "é" then Backspace (which removes both of its bytes), "B", Enter
    const r = await typed(home, "PROMPTED", Buffer.from("ff41c3a97f420d", "hex"))
    assert.equal(r.code, 0, r.screen)
    assert.match(r.screen, /\(input hidden\): \r?\n/, "the prompt's line is ended")
    assert.ok(!r.screen.includes("\u00ffA"), "input was echoed")
    assert.ok((await rawRun(home, ["secret", "get", "gh", "PROMPTED"])).stdout.equals(Buffer.from("ff4142", "hex")))
})

test("Ctrl-C at the hidden prompt cancels quietly with exit 130, ending the line and storing nothing", async t => {
    if (!haveScript) return t.skip("util-linux script not installed")
    const home = await fresh()
    const r = await typed(home, "CANCELED", Buffer.from("se\x03"))
    assert.equal(r.code, 130, r.screen)
    assert.match(r.screen, /\(input hidden\): \r?\n$/, "only the prompt, and its line ended")
    assert.doesNotMatch(r.screen, /error|bug/)
    assert.match((await run(home, ["secret", "list"])).stderr, /no secrets stored yet/)
})

test("secret get refuses a row forged by encrypting to the stored recipient, naming it", async () => {
    const home = await fresh()
    assert.equal((await run(home, ["secret", "put", "gh", "TOKEN"], { input: planted })).code, 0)
    const db = new Database(join(home, "mcplexer.db"))
    const recipient = db.prepare("SELECT recipient FROM secrets").pluck().get() as string
    const e = new Encrypter()
    e.addRecipient(recipient)
    const forged = Buffer.from(await e.encrypt("mcplexer-secret/v1 gh FORGED\nattacker-chosen-value"))
    db.prepare("INSERT INTO secrets (scope, key, recipient, ciphertext, created_at, updated_at) VALUES ('gh', 'FORGED', ?, ?, 1, 1)").run(recipient, forged)
    db.close()
    const r = await run(home, ["secret", "get", "gh", "FORGED"])
    assert.equal(r.code, 1)
    assert.equal(r.stdout, "")
    assert.match(r.stderr, /^mcplexer: error: secret "gh\/FORGED" /m)
    assert.match(r.stderr, /^mcplexer: hint: /m)
    assert.ok(!r.stderr.includes("attacker-chosen-value"))
})
