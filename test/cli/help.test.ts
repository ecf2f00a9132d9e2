/** Help examples: each on one line, and runnable as pasted right after `mcplexer init` (issue 10). */
import assert from "node:assert/strict"
import { spawn } from "node:child_process"
import { chmod, mkdir, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { test } from "node:test"
import { cli, fresh, run } from "../helpers.ts"

const commands = [[], ["init"], ["secret", "put"], ["secret", "get"], ["secret", "list"], ["secret", "delete"], ["key", "show"], ["key", "rotate"],
    ["serve"], ["token"], ["status"], ["tools"], ["tools", "refresh"], ["call"], ["route"], ["approvals"], ["approve"], ["deny"], ["revoke"], ["audit"], ["doctor"]]

/** The example lines of every command's help: [comment, command] pairs. */
async function examples(home: string): Promise<string[][]> {
    const out: string[][] = []
    for (const c of commands) {
        const r = await run(home, [...c, "--help"])
        const at = r.stdout.indexOf("\nExamples:\n")
        if (at < 0) continue
        const lines = r.stdout.slice(at + 11).split("\n\n")[0]!.split("\n").map(l => l.trim()).filter(Boolean)
        for (let i = 0; i < lines.length; i += 2) out.push([lines[i]!, lines[i + 1] ?? ""])
    }
    return out
}

test("every help example is one line under its comment", async () => {
    const h = await fresh()
    const all = await examples(h)
    assert.ok(all.length >= 20, `${all.length} examples`)
    for (const [comment, command] of all) {
        assert.match(comment!, /^# /, `a comment line, got ${JSON.stringify(comment)}`)
        assert.match(command!, /^(mcplexer |gh auth token \| mcplexer |export [A-Z_]+=\$\(mcplexer )/, `a whole command after ${JSON.stringify(comment)}, got ${JSON.stringify(command)}`)
    }
})

test("every help example runs as pasted right after mcplexer init", async () => {
    const h = await fresh(null)
    assert.equal((await run(h, ["init"])).code, 0)
    // `mcplexer` on the PATH, as after npm install -g
    const bin = join(h, "bin")
    await mkdir(bin)
    await writeFile(join(bin, "mcplexer"), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(cli)} "$@"\n`)
    await chmod(join(bin, "mcplexer"), 0o755)
    for (const [, command] of await examples(h)) {
        // these serve until stopped: their parsing is checked by the line test above
        if (/--http|--follow/.test(command!)) continue
        const r = await shell(command!, { PATH: `${bin}:${process.env.PATH ?? ""}`, HOME: h, MCPLEXER_HOME: h, LINEAR_API_KEY: "lin_example" })
        assert.notEqual(r.code, 2, `${command}: a usage error\n${r.stderr}`)
        assert.doesNotMatch(r.stderr, /is not declared|unknown (command|option)|this is a bug/, `${command}\n${r.stderr}`)
    }
})

function shell(command: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
    return new Promise(done => {
        const child = spawn("/bin/sh", ["-c", command], { env, stdio: ["pipe", "ignore", "pipe"] })
        let stderr = ""
        child.stderr.setEncoding("utf8").on("data", (d: string) => { stderr += d })
        child.on("close", code => done({ code, stderr }))
        child.stdin.end()
    })
}
