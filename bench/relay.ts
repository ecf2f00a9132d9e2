/**
 * The byte-relay floor: `node --import tsx bench/relay.ts <command> [args…]` spawns the server and
 * copies bytes between the pipes, parsing nothing. Whatever it adds to a direct connection is the
 * cost of one extra process hop, the least any stdio proxy can cost.
 */
import { spawn } from "node:child_process"

const [command, ...args] = process.argv.slice(2)
if (command === undefined) {
    process.stderr.write("usage: relay.ts <command> [args…]\n")
    process.exit(2)
}

const child = spawn(command, args, { stdio: ["pipe", "pipe", "inherit"] })
process.stdin.pipe(child.stdin)
child.stdout.pipe(process.stdout)
child.stdin.on("error", () => { /* the server is gone: its exit ends us */ })
child.on("exit", (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)))
for (const s of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(s, () => child.kill(s))
