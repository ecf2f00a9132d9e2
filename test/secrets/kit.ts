/** Helpers of the secrets tests: a fresh home, its paths, and the child script run as its own process. */
import { spawn, type ChildProcess } from "node:child_process"
import { join } from "node:path"
import * as config from "../../internal/config/index.ts"
import * as helpers from "../helpers.ts"

/** A new, empty folder to serve as MCPLEXER_HOME. */
export function fresh(): Promise<string> {
    return helpers.fresh(null)
}

/** The paths of `home`, as config would compute them from this environment. */
export function paths(home: string, env: Record<string, string> = {}): config.Paths {
    return config.paths({ HOME: home, MCPLEXER_HOME: home, ...env })
}

export interface Exit { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

const script = join(import.meta.dirname, "child.ts")

/** Starts test/secrets/child.ts with `args` in `home`. */
export function start(home: string, args: string[], env: Record<string, string> = {}, o: { uid?: number; gid?: number } = {}): ChildProcess & { exit: Promise<Exit> } {
    const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, MCPLEXER_HOME: home, ...env },
        stdio: ["ignore", "pipe", "pipe"],
        ...o,
    })
    let stdout = "", stderr = ""
    child.stdout.setEncoding("utf8").on("data", (d: string) => { stdout += d })
    child.stderr.setEncoding("utf8").on("data", (d: string) => { stderr += d })
    const exit = new Promise<Exit>((done, fail) => {
        child.on("error", fail)
        child.on("close", (code, signal) => done({ code, signal, stdout, stderr }))
    })
    return Object.assign(child, { exit })
}

/** Runs the child script to its end and fails unless it exits 0. */
export async function run(home: string, args: string[], env: Record<string, string> = {}): Promise<string> {
    const r = await start(home, args, env).exit
    if (r.code !== 0) throw new Error(`child ${args.join(" ")} exited ${r.code ?? r.signal}: ${r.stderr}`)
    return r.stdout
}

/** Resolves when `child` has written `line` on stdout. */
export function reached(child: ChildProcess, line: string): Promise<void> {
    return new Promise((done, fail) => {
        let seen = ""
        const on = (d: string) => {
            seen += d
            if (seen.split("\n").includes(line)) {
                child.stdout?.off("data", on)
                done()
            }
        }
        child.stdout?.on("data", on)
        child.on("close", () => fail(new Error(`child ended before printing ${JSON.stringify(line)}`)))
    })
}
