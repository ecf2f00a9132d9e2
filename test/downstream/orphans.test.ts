/**
 * No downstream outlives its serve, however serve dies (issue 10): after kill -9, a server that
 * ignores the end of its input and SIGTERM, and the child it started, are gone within 2 s.
 */
import assert from "node:assert/strict"
import { spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { test } from "node:test"
import { cli } from "../helpers.ts"
import { fixture, home } from "../cli/kit.ts"

/** Whether `pid` runs (a zombie waiting for PID 1 to reap it counts as gone). */
function running(pid: number): boolean {
    try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
        return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z"
    } catch {
        return false
    }
}

test("kill -9 of serve ends its downstreams and their children within 2 s", async () => {
    const h = await home({ ds: fixture("ds-server.ts", { scope: "gh", env: { DS_IGNORE_TERM: "1" } }) })
    const serve = spawn(process.execPath, [cli, "serve", "--log-level", "debug"], {
        env: { PATH: process.env.PATH ?? "", HOME: h, MCPLEXER_HOME: h },
        stdio: ["pipe", "pipe", "ignore"],
    })
    const pids: number[] = []
    try {
        const answers = new Map<number, (r: unknown) => void>()
        let buf = ""
        serve.stdout.setEncoding("utf8").on("data", (d: string) => {
            buf += d
            for (let at = buf.indexOf("\n"); at >= 0; at = buf.indexOf("\n")) {
                const m = JSON.parse(buf.slice(0, at)) as { id?: number; result?: unknown }
                buf = buf.slice(at + 1)
                if (m.id !== undefined) answers.get(m.id)?.(m.result)
            }
        })
        let next = 1
        const request = (method: string, params: unknown) => new Promise<unknown>(done => {
            const id = next++
            answers.set(id, done)
            serve.stdin.write(JSON.stringify({ jsonrpc: "2.0", id, method, params }) + "\n")
        })
        const call = async (name: string) => {
            const r = await request("tools/call", { name, arguments: {} }) as { content: Array<{ text: string }> }
            return (JSON.parse(r.content[0]!.text) as { pid: number }).pid
        }
        await request("initialize", { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "test", version: "1" } })
        serve.stdin.write(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) + "\n")
        pids.push(await call("ds__pid"), await call("ds__spawn"))
        assert.ok(pids.every(running), "the downstream and its child run")

        serve.kill("SIGKILL")
        const killed = Date.now()
        while (pids.some(running) && Date.now() - killed < 2000) await new Promise(done => setTimeout(done, 20))
        const left = pids.filter(running)
        console.log(`downstream and child gone ${Date.now() - killed} ms after kill -9 of serve`)
        assert.deepEqual(left, [], `still running ${Date.now() - killed} ms after serve was killed`)
    } finally {
        serve.kill("SIGKILL")
        for (const pid of pids) {
            try {
                process.kill(pid, "SIGKILL")
            } catch {
                // gone, as it should be
            }
        }
    }
})
