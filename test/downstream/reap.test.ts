/**
 * A downstream that leaves its process group (a daemon started with setsid) still dies with serve
 * (issue 19): every downstream process carries serve's mark in its environment, the watchdog stops
 * the marked ones when serve is killed, and when the watchdog was killed too, the next start does.
 * Real processes throughout: serve from the sources, a shell that forks a setsid daemon holding the
 * scope's secret, then the fixture server.
 */
import assert from "node:assert/strict"
import { spawn, type ChildProcessByStdio } from "node:child_process"
import type { Readable, Writable } from "node:stream"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { test } from "node:test"
import { temp } from "../helpers.ts"
import { home, planted } from "../cli/kit.ts"

const root = resolve(import.meta.dirname, "..", "..")
const tsx = join(root, "node_modules", "tsx", "dist", "loader.mjs")
const entry = join(root, "cmd", "mcplexer.ts")

/** Whether `pid` runs (a zombie waiting for PID 1 to reap it counts as gone). */
function running(pid: number): boolean {
    try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
        return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z"
    } catch {
        return false
    }
}

function environ(pid: number): string[] {
    return readFileSync(`/proc/${pid}/environ`, "latin1").split("\0")
}

async function until(what: () => boolean, ms: number): Promise<boolean> {
    const end = Date.now() + ms
    while (!what() && Date.now() < end) await new Promise(done => setTimeout(done, 20))
    return what()
}

/** A config whose server is a shell that forks a setsid daemon (its pid in `file`), then runs the fixture. */
function daemonizing(file: string): Record<string, string> {
    const script = `setsid -f /bin/sh -c 'echo $$ > "$0"; exec sleep 3600' "$DAEMON_FILE" </dev/null >/dev/null 2>&1; exec "$0" "$@"`
    return {
        ds: JSON.stringify({
            command: "/bin/sh",
            args: ["-c", script, process.execPath, "--import", tsx, join(root, "test", "fixtures", "ds-server.ts")],
            scope: "gh",
            env: { DAEMON_FILE: file },
        }),
    }
}

interface Serve { child: ChildProcessByStdio<Writable, Readable, null>; call(name: string): Promise<unknown> }

/** `serve` over stdio from the sources, initialized. */
async function serve(h: string): Promise<Serve> {
    const child = spawn(process.execPath, ["--import", "tsx", entry, "serve"], {
        cwd: root,
        env: { PATH: process.env.PATH ?? "", HOME: h, MCPLEXER_HOME: h },
        stdio: ["pipe", "pipe", "ignore"],
    })
    const answers = new Map<number, (r: unknown) => void>()
    let buf = ""
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
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
        child.stdin.write(JSON.stringify({ jsonrpc: "2.0", id, method, params }) + "\n")
    })
    await request("initialize", { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "test", version: "1" } })
    child.stdin.write(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) + "\n")
    return { child, call: name => request("tools/call", { name, arguments: {} }) }
}

/** Starts serve and its downstream; returns serve, the downstream's pid and the daemon's. */
async function started(h: string, file: string): Promise<{ s: Serve; pids: number[] }> {
    const s = await serve(h)
    const r = await s.call("ds__pid") as { content: Array<{ text: string }> }
    const server = (JSON.parse(r.content[0]!.text) as { pid: number }).pid
    assert.ok(await until(() => existsSync(file) && readFileSync(file, "utf8").endsWith("\n"), 5000), "the daemon did not start")
    const daemon = Number(readFileSync(file, "utf8"))
    assert.ok(running(server) && running(daemon))
    // the daemon left the downstream's session, with the secret and serve's mark
    const sid = (pid: number) => readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")[3]
    assert.notEqual(sid(daemon), sid(server))
    const env = environ(daemon)
    assert.ok(env.includes(`TOKEN=${planted}`), "the daemon holds the secret")
    assert.ok(env.some(v => new RegExp(`^MCPLEXER_INSTANCE=${s.child.pid}\\.\\d+$`).test(v)), "the daemon carries serve's mark")
    return { s, pids: [server, daemon] }
}

/** The watchdog of serve `pid`: its child shell in a session of its own. */
function watchdogOf(pid: number): number | undefined {
    return readdirSync("/proc").filter(p => /^\d+$/.test(p)).map(Number).find(p => {
        try {
            const stat = readFileSync(`/proc/${p}/stat`, "utf8")
            return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid && readFileSync(`/proc/${p}/cmdline`, "latin1").includes("trap")
        } catch {
            return false
        }
    })
}

function cleanup(pids: number[]): void {
    for (const pid of pids) {
        try {
            process.kill(pid, "SIGKILL")
        } catch {
            // gone, as it should be
        }
    }
}

test("kill -9 of serve ends a daemon its downstream started with setsid", async () => {
    const file = join(temp(), "daemon.pid")
    const h = await home(daemonizing(file))
    const { s, pids } = await started(h, file)
    try {
        s.child.kill("SIGKILL")
        const killed = Date.now()
        const gone = await until(() => !pids.some(running), 5000)
        console.log(`downstream and setsid daemon gone ${Date.now() - killed} ms after kill -9 of serve`)
        assert.ok(gone, `still running: ${pids.filter(running).join(", ")}`)
    } finally {
        s.child.kill("SIGKILL")
        cleanup(pids)
    }
})

test("when serve and its watchdog are both killed, the next start ends what they left", async () => {
    const file = join(temp(), "daemon.pid")
    const h = await home(daemonizing(file))
    const { s, pids } = await started(h, file)
    const pid = s.child.pid!
    let next: Serve | undefined
    try {
        const watchdog = watchdogOf(pid)
        assert.ok(watchdog, "serve has no watchdog")
        // stopped first, serve cannot start another watchdog when this one dies
        process.kill(pid, "SIGSTOP")
        process.kill(watchdog, "SIGKILL")
        s.child.kill("SIGKILL")
        await until(() => !running(pid), 2000)
        await new Promise(done => setTimeout(done, 1500))
        // the fixture server may end on its own once its input is gone; the daemon never does
        assert.ok(running(pids[1]!), "something else ended the daemon: this test shows nothing")

        next = await serve(h)
        const t = Date.now()
        const gone = await until(() => !pids.some(running), 5000)
        console.log(`left-over downstream and daemon gone ${Date.now() - t} ms after the next serve started`)
        assert.ok(gone, `still running: ${pids.filter(running).join(", ")}`)
    } finally {
        s.child.kill("SIGKILL")
        next?.child.kill("SIGKILL")
        cleanup(pids)
    }
})

test("a watchdog killed while serve runs is started again, and still ends the downstreams", async () => {
    const file = join(temp(), "daemon.pid")
    const h = await home(daemonizing(file))
    const { s, pids } = await started(h, file)
    try {
        const first = watchdogOf(s.child.pid!)
        assert.ok(first, "serve has no watchdog")
        process.kill(first, "SIGKILL")
        assert.ok(await until(() => { const w = watchdogOf(s.child.pid!); return w !== undefined && w !== first }, 5000), "no new watchdog")
        s.child.kill("SIGKILL")
        assert.ok(await until(() => !pids.some(running), 5000), `still running: ${pids.filter(running).join(", ")}`)
    } finally {
        s.child.kill("SIGKILL")
        cleanup(pids)
    }
})
