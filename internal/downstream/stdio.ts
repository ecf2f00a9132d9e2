import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process"
import { randomBytes } from "node:crypto"
import { existsSync, readFileSync } from "node:fs"
import { readdir, readFile } from "node:fs/promises"
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js"
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js"
import { Reader, Writer } from "./jsonl.ts"

/** How a downstream process is started; `env` is its whole environment but for the marker (see `mark`). */
export interface Spawn {
    command: string
    args: string[]
    env: Record<string, string>
    cwd?: string
    /** each chunk of the process's stderr, as it comes */
    stderr(chunk: Buffer): void
    /** a stdout line that is not a JSON-RPC message (the raw line, unscrubbed: the caller scrubs) */
    garbage(line: string, why: string): void
    /** bytes a stdout line may reach; past it the process is stopped (default `maxLine`) */
    maxLine?: number
}

/**
 * The longest stdout line by default: far above any sane result, and a bound on what one server
 * can make mcplexer hold (a 400 MB line grew serve to 362 MB and stalled every client).
 */
export const maxLine = 64 * 1024 ** 2

/** How the process ended: an exit code or the signal that killed it. */
export interface Exit { code: number | null; signal: NodeJS.Signals | null }

/** How long close() waits after closing stdin, and then after SIGTERM, before the next step. */
export const grace = { stdin: 200, term: 2000, kill: 1000 }

/**
 * A Transport to a child process speaking newline-delimited JSON-RPC on stdin/stdout. The child is
 * started detached, so it leads its own process group, and close() stops the whole group: close
 * stdin, wait briefly, SIGTERM the group, then SIGKILL it. Nothing but JSON-RPC is read from stdout;
 * a line that is not JSON-RPC is reported through `garbage` and skipped.
 */
export class Process implements Transport {
    onclose?: () => void
    onerror?: (error: Error) => void
    onmessage?: (message: JSONRPCMessage) => void

    /** set once the process has exited */
    exit: Exit | undefined
    /** set when it was stopped for a stdout line past this many bytes */
    overflow: number | undefined
    private child: ChildProcessWithoutNullStreams | undefined
    private writer: Writer | undefined
    private readonly reader: Reader
    private closing: Promise<void> | undefined
    private ended = false
    private readonly exited: Promise<void>
    private onexit!: () => void

    private readonly o: Spawn
    private readonly stopped = (): boolean => this.ended

    constructor(o: Spawn) {
        this.o = o
        this.reader = new Reader({ message: m => this.onmessage?.(m), garbage: (line, why) => this.o.garbage(line, why) })
        this.exited = new Promise(done => { this.onexit = done })
    }

    /** The process id, which is also its process group id; undefined before start. */
    get pid(): number | undefined {
        return this.child?.pid
    }

    start(): Promise<void> {
        return new Promise((done, fail) => {
            const child = spawn(this.o.command, this.o.args, {
                env: { ...this.o.env, [mark.name]: mark.value() },
                cwd: this.o.cwd,
                stdio: ["pipe", "pipe", "pipe"],
                detached: true,
                windowsHide: true,
            })
            this.child = child
            this.writer = new Writer(child.stdin)
            child.once("spawn", () => {
                groups.add(child.pid!)
                if (groups.size === 1) process.on("exit", killAll)
                watchdog.add(child.pid!)
                done()
            })
            child.once("error", e => {
                if (child.pid === undefined) {
                    this.onexit()
                    const cwd = this.o.cwd
                    // Node blames the command when it is the working folder that is missing
                    if ((e as NodeJS.ErrnoException).code === "ENOENT" && cwd !== undefined && !existsSync(cwd)) {
                        fail(new Error(`working folder ${JSON.stringify(cwd)} does not exist`))
                    } else {
                        fail(e)
                    }
                } else {
                    this.onerror?.(e)
                }
            })
            const max = this.o.maxLine ?? maxLine
            child.stdout.on("data", (chunk: Buffer) => {
                if (this.reader.push(chunk, this.stopped, max) > max) this.overflowed(max)
            })
            child.stderr.on("data", (chunk: Buffer) => this.o.stderr(chunk))
            // A write after the process died is reported by 'exit'/'close'; nothing to add here.
            child.stdin.on("error", () => {})
            child.on("exit", (code, signal) => {
                this.exit = { code, signal }
                this.onexit()
                // 'close' waits for stdout and stderr to end, which a surviving grandchild holding the
                // pipes can delay forever: end after a short wait either way.
                setTimeout(() => this.end(), 100).unref()
            })
            child.on("close", () => this.end())
        })
    }

    send(message: JSONRPCMessage): Promise<void> {
        const stdin = this.child?.stdin
        if (!stdin || !this.writer || this.ended || stdin.destroyed || !stdin.writable) return Promise.reject(new Error("not connected"))
        return this.writer.write(message)
    }

    /** Stops the process group (stdin, SIGTERM, SIGKILL) and resolves when none of it is left. */
    close(): Promise<void> {
        this.closing ??= this.stop()
        return this.closing
    }

    private async stop(): Promise<void> {
        const child = this.child
        if (child?.pid === undefined) {
            this.end()
            return
        }
        const pgid = child.pid
        this.writer?.flush()
        child.stdin.end()
        if (!this.exit) await within(this.exited, grace.stdin)
        if (alive(pgid)) {
            signal(pgid, "SIGTERM")
            await gone(pgid, grace.term)
        }
        if (alive(pgid)) {
            signal(pgid, "SIGKILL")
            await gone(pgid, grace.kill)
        }
        await within(this.exited, grace.kill)
        forget(pgid)
        this.end()
    }

    /** Stops a process past the line cap: its calls fail now (onclose), its group goes as in close(). */
    private overflowed(max: number): void {
        if (this.ended) return
        this.overflow = max
        // read nothing more of it: a flood read and thrown away still cost pauses of ~100 ms here
        this.child?.stdout.destroy()
        void this.close()
        this.end()
    }

    private end(): void {
        if (this.ended) return
        this.ended = true
        const pgid = this.child?.pid
        // The leader is gone; anything left in its group is an orphan of a dead server.
        if (pgid !== undefined && !this.closing && alive(pgid)) {
            signal(pgid, "SIGTERM")
            void gone(pgid, grace.term).then(() => {
                if (alive(pgid)) signal(pgid, "SIGKILL")
                forget(pgid)
            })
        }
        if (pgid !== undefined && !alive(pgid)) forget(pgid)
        this.child?.stdout.removeAllListeners("data")
        this.reader.clear()
        this.onclose?.()
    }
}

// Process groups still running, for the last resort: if mcplexer exits without closing its pool
// (an uncaught error, process.exit), no downstream may outlive it.
const groups = new Set<number>()

function killAll(): void {
    for (const g of groups) signal(g, "SIGKILL")
}

function forget(pgid: number): void {
    groups.delete(pgid)
    watchdog.remove(pgid)
    if (groups.size === 0) process.off("exit", killAll)
}

/**
 * The mark every downstream process of this mcplexer process carries in its environment, and
 * passes on to whatever it starts: `MCPLEXER_INSTANCE=<pid>.<start>`, the pid of this process and
 * its start time (in clock ticks since boot, from /proc), so that a process which left our
 * process groups (a daemon that called setsid) can still be found and stopped, and a later
 * mcplexer can tell the marks of a dead process from those of a live one whose pid is reused.
 * It is the one MCPLEXER_* variable a downstream sees (DESIGN says none leaks): it carries no
 * secret and no path, nothing a downstream cannot learn from its own parent pid.
 */
export const mark = {
    name: "MCPLEXER_INSTANCE",
    own: undefined as string | undefined,
    value(): string {
        return this.own ??= `${process.pid}.${started(process.pid) ?? `r${randomBytes(6).toString("hex")}`}`
    },
}

/** The start time of `pid` in clock ticks since boot (field 22 of /proc/PID/stat); undefined without /proc. */
function started(pid: number): string | undefined {
    try {
        const stat = readFileSync(`/proc/${pid}/stat`, "latin1")
        return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]
    } catch {
        return undefined
    }
}

/**
 * Stops the processes of this user that carry the mark of a dead mcplexer process among `owners`
 * (the owners of the instance rows of our database): what neither the exit handler nor the
 * watchdog reached, because the watchdog was killed too, or the machine's /bin/sh has no GNU grep.
 * SIGTERM, then SIGKILL a second later. Resolves with the pids it stopped; Linux only (/proc).
 */
export async function reap(owners: Iterable<number>): Promise<number[]> {
    const want = new Set([...owners].filter(o => o !== process.pid).map(String))
    if (want.size === 0 || process.platform !== "linux") return []
    const found = await marked(value => {
        const [pid, start] = value.split(".")
        return pid !== undefined && want.has(pid) && started(Number(pid)) !== start
    })
    for (const pid of found) kill(pid, "SIGTERM")
    if (found.length > 0) {
        await new Promise(done => setTimeout(done, 1000))
        for (const pid of found) kill(pid, "SIGKILL")
    }
    return found
}

/** The pids of this user's processes whose mark satisfies `dead`. */
async function marked(dead: (value: string) => boolean): Promise<number[]> {
    const key = Buffer.from(`${mark.name}=`)
    const out: number[] = []
    for (const name of await readdir("/proc").catch(() => [] as string[])) {
        if (!/^\d+$/.test(name) || Number(name) === process.pid) continue
        let env: Buffer
        try {
            // another user's environ is unreadable (EACCES): only our own processes are searched
            env = await readFile(`/proc/${name}/environ`)
        } catch {
            continue
        }
        for (let at = env.indexOf(key); at >= 0; at = env.indexOf(key, at + 1)) {
            if (at > 0 && env[at - 1] !== 0) continue
            const end = env.indexOf(0, at)
            if (dead(env.toString("latin1", at + key.length, end < 0 ? env.length : end))) out.push(Number(name))
            break
        }
    }
    return out
}

function kill(pid: number, sig: NodeJS.Signals): void {
    try {
        process.kill(pid, sig)
    } catch {
        // already gone
    }
}

/**
 * The 'exit' handler above never runs when mcplexer is killed with SIGKILL (or crashes in native
 * code): its downstreams, holding decrypted secrets in their environment, would live on under
 * PID 1. So a watchdog outlives it instead of waiting for the reaper at the next start (which would
 * leave them running, maybe for days, until then): a tiny shell in its own session, reading the
 * process groups to guard from a pipe whose write end only this process holds (Node opens pipes
 * close-on-exec, so no downstream inherits it). When the pipe closes, however mcplexer ended, it
 * sends SIGTERM to every group still listed and to every process of ours carrying this process's
 * mark (found with GNU grep in /proc/PID/environ: a daemon that left its group), then SIGKILL a
 * second later, looking for the mark once more (a daemon may have forked meanwhile). It is started
 * again if it dies while mcplexer runs; if both die at once, the reaper at the next start remains.
 */
const watchScript = `trap '' HUP INT TERM PIPE
g=' '
while read -r op id; do
  case $op in
    +) g="$g$id " ;;
    -) case $g in *" $id "*) g="\${g%% $id *} \${g#* $id }" ;; esac ;;
  esac
done
marked() {
  for f in $(grep -lzxF "${mark.name}=$1" /proc/[0-9]*/environ 2>/dev/null); do f=\${f#/proc/}; echo \${f%/environ}; done
}
t=$(marked "$1")
[ "$g" = ' ' ] && [ -z "$t" ] && exit 0
for p in $g; do kill -TERM -$p 2>/dev/null; done
for p in $t; do kill -TERM $p 2>/dev/null; done
sleep 1
for p in $g; do kill -KILL -$p 2>/dev/null; done
for p in $(marked "$1"); do kill -KILL $p 2>/dev/null; done`

const watchdog = new class {
    private stdin: NodeJS.WritableStream | undefined
    private failed = false
    private restarts = 0

    add(pgid: number): void {
        this.write(`+ ${pgid}\n`)
    }

    remove(pgid: number): void {
        if (this.stdin) this.write(`- ${pgid}\n`)
    }

    private write(line: string): void {
        if (this.failed) return
        // a new watchdog is told every group at once: `groups` already holds (or lost) this one
        if (!this.stdin) this.spawn()
        else this.stdin.write(line)
    }

    /** Starts the watchdog, telling it every group running. */
    private spawn(): void {
        try {
            // its own environment carries no mark: nested under another mcplexer, it is not its prey
            const w = spawn("/bin/sh", ["-c", watchScript, "watchdog", mark.value()], { stdio: ["pipe", "ignore", "ignore"], detached: true, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } })
            w.on("error", () => { this.failed = true })
            w.stdin.on("error", () => { this.failed = true })
            // it only ends on its own when our end of the pipe closes, that is when we exit; killed
            // while we run, it is started again (a few times: a shell that cannot run is not retried forever)
            w.on("exit", () => {
                if (this.stdin !== w.stdin) return
                this.stdin = undefined
                if (++this.restarts > 5) this.failed = true
                else if (groups.size > 0) this.spawn()
            })
            // neither the watchdog nor its pipe keeps mcplexer running
            w.unref()
            ;(w.stdin as unknown as { unref(): void }).unref() // a net.Socket underneath
            this.stdin = w.stdin
            for (const g of groups) w.stdin.write(`+ ${g}\n`)
        } catch {
            this.failed = true
        }
    }
}()

/** Whether any process of the group `pgid` still exists. */
export function alive(pgid: number): boolean {
    try {
        process.kill(-pgid, 0)
        return true
    } catch (e) {
        return (e as NodeJS.ErrnoException).code === "EPERM"
    }
}

/** Sends `sig` to every process of the group, ignoring a group that is already gone. */
export function signal(pgid: number, sig: NodeJS.Signals): void {
    try {
        process.kill(-pgid, sig)
    } catch {
        // already gone
    }
}

async function gone(pgid: number, ms: number): Promise<void> {
    const until = Date.now() + ms
    while (alive(pgid) && Date.now() < until) await new Promise(done => setTimeout(done, 20))
}

function within(p: Promise<void>, ms: number): Promise<void> {
    let t: NodeJS.Timeout | undefined
    return Promise.race([p, new Promise<void>(done => { t = setTimeout(done, ms) })]).finally(() => clearTimeout(t))
}
