/**
 * README.md's own examples run as pasted (issue 10): every YAML block is a config `doctor`
 * loads, and every shell line that needs nothing but mcplexer runs in a fresh home after init.
 */
import assert from "node:assert/strict"
import { spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { chmod, mkdir, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { test } from "node:test"
import { cli, fresh, root, run } from "../helpers.ts"

const readme = readFileSync(join(root, "README.md"), "utf8")

function blocks(lang: string): string[] {
    return [...readme.matchAll(new RegExp("^```" + lang + "\\n([\\s\\S]*?)^```$", "gm"))].map(m => m[1]!)
}

test("every YAML block of the README is a config doctor loads", async () => {
    const yaml = blocks("yaml")
    assert.ok(yaml.length >= 2)
    for (const text of yaml) {
        const h = await fresh(text)
        assert.equal((await run(h, ["init"])).code, 0)
        const r = await run(h, ["doctor", "--json"])
        const doc = JSON.parse(r.stdout) as { ok: string[]; findings: Array<{ message: string }> }
        assert.ok(doc.ok.some(l => /^config .* loads/.test(l)), `${text}\n${doc.findings.map(f => f.message).join("\n")}`)
    }
})

test("every self-contained shell line of the README runs in a fresh home after init", async () => {
    const h = await fresh(null)
    assert.equal((await run(h, ["init"])).code, 0)
    const bin = join(h, "bin")
    await mkdir(bin)
    await writeFile(join(bin, "mcplexer"), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(cli)} "$@"\n`)
    await chmod(join(bin, "mcplexer"), 0o755)
    const lines = blocks("sh").flatMap(b => b.split("\n")).map(l => l.replace(/\s+#.*$/, "").trim())
    // mcplexer alone: not serve (it serves until stopped), not --follow, nor a line needing other
    // tools, another client's files and a terminal (import, install: test/clients) or a remote
    // login server (auth: test/e2e/oauth.test.ts)
    const mine = lines.filter(l => l.startsWith("mcplexer ") && !/^mcplexer (serve|import|install|uninstall|auth)\b|--follow/.test(l))
    assert.ok(mine.length >= 6, mine.join("\n"))
    for (const line of mine) {
        const r = await shell(line, { PATH: `${bin}:${process.env.PATH ?? ""}`, HOME: h, MCPLEXER_HOME: h }, "a value\n")
        assert.equal(r.code, 0, `${line}\n${r.stderr}`)
    }
})

function shell(command: string, env: Record<string, string>, input: string): Promise<{ code: number | null; stderr: string }> {
    return new Promise(done => {
        const child = spawn("/bin/sh", ["-c", command], { env, stdio: ["pipe", "ignore", "pipe"] })
        let stderr = ""
        child.stderr.setEncoding("utf8").on("data", (d: string) => { stderr += d })
        child.on("close", code => done({ code, stderr }))
        child.stdin.on("error", () => { /* it exited without reading: its output and exit code are the result */ })
        child.stdin.end(input)
    })
}
