/**
 * Runs a command on a pseudo-terminal (Python's pty module, as a person's terminal would run it),
 * answering what it asks: for Go's `age -d` and mcplexer's passphrase prompt, which read from the
 * terminal itself, and for what `secret get` prints on one.
 */
import { spawn } from "node:child_process"

/** One exchange: once `expect` shows up in the output (after the previous one's), `send` is typed. */
export interface Answer { expect: string; send: string }

/** What the terminal showed (stdout and stderr together, as on a screen) and the exit code. */
export interface Screen { code: number; output: string }

const driver = String.raw`
import json, os, pty, select, sys, time, signal
spec = json.loads(sys.stdin.read())
pid, fd = pty.fork()
if pid == 0:
    os.chdir(spec["cwd"])
    os.execvpe(spec["cmd"][0], spec["cmd"], spec["env"])
out, at, answers = b"", 0, spec["answers"]
deadline = time.time() + spec["timeout"]
while True:
    if answers:
        i = out.find(answers[0]["expect"].encode(), at)
        if i >= 0:
            at = i + len(answers[0]["expect"])
            time.sleep(0.2)
            os.write(fd, answers.pop(0)["send"].encode())
    if time.time() > deadline:
        os.kill(pid, signal.SIGKILL)
        break
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            d = os.read(fd, 4096)
        except OSError:
            break
        if not d:
            break
        out += d
_, status = os.waitpid(pid, 0)
code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
sys.stdout.write(json.dumps({"code": code, "output": out.decode("utf-8", "replace")}))
`

/** Whether python3 is here to drive a pseudo-terminal. */
export const available = await new Promise<boolean>(done => {
    const p = spawn("python3", ["-c", "import pty"], { stdio: "ignore" })
    p.on("error", () => done(false))
    p.on("close", code => done(code === 0))
})

/** Runs `cmd` on a new pseudo-terminal with exactly `env`, typing each answer when its prompt appears. */
export function tty(cmd: string[], env: Record<string, string>, answers: Answer[] = [], o: { cwd?: string; timeout?: number } = {}): Promise<Screen> {
    return new Promise((done, fail) => {
        const p = spawn("python3", ["-c", driver], { stdio: ["pipe", "pipe", "inherit"] })
        let text = ""
        p.stdout.setEncoding("utf8").on("data", (d: string) => { text += d })
        p.on("error", fail)
        p.on("close", () => {
            try {
                done(JSON.parse(text) as Screen)
            } catch (e) {
                fail(new Error(`the pty driver printed ${JSON.stringify(text)}`, { cause: e }))
            }
        })
        p.stdin.end(JSON.stringify({ cmd, env, answers, cwd: o.cwd ?? process.cwd(), timeout: (o.timeout ?? 60) }))
    })
}
