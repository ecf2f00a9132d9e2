/**
 * A config or home folder others can change is refused (issue 10): anyone who can append a
 * server to the config gets any scope's secrets on the next tools/list.
 */
import assert from "node:assert/strict"
import { chmod, chown, stat } from "node:fs/promises"
import { join } from "node:path"
import { test } from "node:test"
import { fresh, run } from "../helpers.ts"
import { clean, home } from "./kit.ts"

/** nobody's uid, for a file owned by another user (the tests run as root) */
const nobody = 65534
const root = process.getuid?.() === 0

test("a config others can write is refused with the chmod fix, and doctor reports it", async () => {
    const h = await home({})
    const file = join(h, "config.yaml")
    await chmod(file, 0o666)
    for (const args of [["secret", "list"], ["tools"], ["secret", "get", "gh", "TOKEN"]]) {
        const r = await run(h, args)
        assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`)
        assert.ok(r.stderr.includes(`mcplexer: error: config file "${file}" is writable by anyone (mode 0666)\n`), r.stderr)
        assert.ok(r.stderr.includes(`mcplexer: hint: chmod 600 ${file}\n`), r.stderr)
        assert.equal(r.stdout, "")
        clean(r)
    }
    await chmod(file, 0o620)
    const d = await run(h, ["doctor"])
    assert.equal(d.code, 1)
    assert.match(d.stderr, /^mcplexer: error: config file ".*config\.yaml" is writable by its group \(mode 0620\)$/m)
    assert.doesNotMatch(d.stderr, /no problems found/)
    await chmod(file, 0o644)
    assert.equal((await run(h, ["secret", "list"])).code, 0)
})

test("a home folder others can write is refused, doctor reports it, and init tightens it", async () => {
    const h = await home({})
    await chmod(h, 0o777)
    const r = await run(h, ["secret", "list"])
    assert.equal(r.code, 1)
    assert.ok(r.stderr.includes(`mcplexer: error: home folder "${h}" is writable by anyone (mode 0777)\n`), r.stderr)
    assert.ok(r.stderr.includes(`mcplexer: hint: chmod 700 ${h}\n`), r.stderr)
    const d = await run(h, ["doctor"])
    assert.equal(d.code, 1)
    assert.match(d.stderr, /^mcplexer: error: home folder ".*" is writable by anyone \(mode 0777\)$/m)
    const i = await run(h, ["init"])
    assert.equal(i.code, 0, i.stderr)
    assert.match(i.stderr, /^tightened home folder .* from mode 0777 to 0700$/m)
    assert.equal((await stat(h)).mode & 0o777, 0o700)
    assert.equal((await run(h, ["secret", "list"])).code, 0)
    const again = await run(h, ["doctor"])
    assert.match(again.stderr, /^ok: home folder .* \(mode 0700\)$/m)
})

test("a config in a folder others can write is refused", async () => {
    const h = await home({})
    const dir = await fresh()
    await chmod(dir, 0o777)
    const r = await run(h, ["secret", "list", "--config", join(dir, "config.yaml")])
    assert.equal(r.code, 1)
    assert.ok(r.stderr.includes(`mcplexer: error: the config's folder "${dir}" is writable by anyone (mode 0777)\n`), r.stderr)
    // a sticky folder (as /tmp) lets others add files but not replace ours
    await chmod(dir, 0o1777)
    const ok = await run(h, ["secret", "list", "--config", join(dir, "config.yaml")])
    assert.equal(ok.code, 0, ok.stderr)
})

test("a config or home owned by another user is refused", { skip: !root && "needs root to chown" }, async () => {
    const h = await home({})
    const file = join(h, "config.yaml")
    await chown(file, nobody, nobody)
    const r = await run(h, ["secret", "list"])
    assert.equal(r.code, 1)
    assert.ok(r.stderr.includes(`mcplexer: error: config file "${file}" is owned by another user (uid ${nobody})\n`), r.stderr)
    assert.match(r.stderr, /^mcplexer: hint: check what it holds, then make it yours: sudo chown 0 /m)
    const d = await run(h, ["doctor"])
    assert.equal(d.code, 1)
    assert.match(d.stderr, /is owned by another user/)
    await chown(file, 0, 0)
    await chown(h, nobody, nobody)
    for (const args of [["secret", "list"], ["init"], ["doctor"]]) {
        const x = await run(h, args)
        assert.equal(x.code, 1, args.join(" "))
        assert.ok(x.stderr.includes(`mcplexer: error: home folder "${h}" is owned by another user (uid ${nobody})\n`), x.stderr)
    }
})

test("doctor warns for each secret in a command's arguments, pointing to env", async () => {
    const h = await home({ s: JSON.stringify({ command: "node", args: ["--token=${secret:TOKEN}", "x", "${secret:acme/KEY}"], scope: "gh" }) })
    const r = await run(h, ["doctor"])
    assert.match(r.stderr, /^mcplexer: warning: server "s": argument 1 holds \$\{secret:TOKEN\}, which every local user can read in ps while it runs$/m)
    assert.match(r.stderr, /^mcplexer: hint: pass it in env instead, if the server reads it from there: env: \{ TOKEN: "\$\{secret:TOKEN\}" \}$/m)
    assert.match(r.stderr, /^mcplexer: warning: server "s": argument 3 holds \$\{secret:acme\/KEY\}/m)
    clean(r)
})
