/**
 * serve over stdio stops when its one client connection ends, whatever ended it: stdin closing, or
 * a line over the 10 MiB cap, which closes the connection (issue 19 re-probe: after an 11 MiB line
 * serve stayed up, answering nothing, its downstreams alive, until killed).
 */
import assert from "node:assert/strict"
import { spawn } from "node:child_process"
import { join } from "node:path"
import { test } from "node:test"
import { fresh, root } from "../helpers.ts"

test("a client line over 10 MiB ends serve, which says why", { timeout: 60_000 }, async () => {
    const h = await fresh()
    const child = spawn(process.execPath, ["--import", "tsx", join(root, "cmd", "mcplexer.ts"), "serve"], {
        cwd: root, env: { PATH: process.env.PATH ?? "", HOME: h, MCPLEXER_HOME: h }, stdio: ["pipe", "pipe", "pipe"],
    })
    let stderr = ""
    child.stderr.setEncoding("utf8").on("data", (d: string) => { stderr += d })
    child.stdout.resume()
    // serve stops reading once it closed the connection: the rest of the write never drains
    child.stdin.on("error", () => { /* EPIPE once serve is gone */ })
    const exited = new Promise<number | null>(done => child.on("close", code => { done(code) }))
    child.stdin.write(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } } }) + "\n")
    child.stdin.write(JSON.stringify({ jsonrpc: "2.0", id: 2, method: "ping", params: { pad: "x".repeat(11 * 1024 * 1024) } }) + "\n")
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000)
    const code = await exited
    clearTimeout(timer)
    assert.equal(code, 0, stderr)
    assert.match(stderr, /stopping: the client sent a line longer than 10485760 bytes/)
})
