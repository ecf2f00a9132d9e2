import assert from "node:assert/strict"
import { readFile } from "node:fs/promises"
import { join } from "node:path"
import { test } from "node:test"
import { fresh, root, run } from "../helpers.ts"

test("--version, -V and version print the package's version", async () => {
    const { version } = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as { version: string }
    const home = await fresh()
    for (const arg of ["--version", "-V", "version"]) {
        const r = await run(home, [arg])
        assert.equal(r.code, 0, r.stderr)
        assert.equal(r.stdout, `${version}\n`)
        assert.equal(r.stderr, "")
    }
})

test("help lists import, install and uninstall, and a wrong client is a usage error", async () => {
    const home = await fresh()
    const help = await run(home, ["--help"])
    for (const c of ["import [source]", "install <client>", "uninstall <client>"]) assert.ok(help.stdout.includes(c), help.stdout)
    const r = await run(home, ["install", "notepad"])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /^mcplexer: error: unknown client "notepad"$/m)
    assert.match(r.stderr, /^mcplexer: hint: clients: claude-desktop, claude-code, cursor, vscode, windsurf, gemini, codex$/m)
})
