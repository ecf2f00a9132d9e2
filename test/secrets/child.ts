/**
 * A separate process using the vault, for the tests that need real concurrency or a real kill -9.
 * Run as `node --import tsx test/secrets/child.ts <command> …` with MCPLEXER_HOME set:
 *   init                      create the identity (racing creators), print {recipient}
 *   put <scope> <prefix> <n>  store n keys <prefix>0… with the values of `value()`
 *   rotate [step]             print "start", rotate printing "step <name>" at each step, then the result;
 *                             with a step, SIGKILL itself when reaching it
 *   reencrypt [scope] [step]  as rotate, for `secret reencrypt` with the home's config.yaml ("*": every
 *                             scope); with a step, SIGKILL itself when reaching it (the first time)
 *   read <scope> <stop>       a reader that holds the database as serve does: until the file <stop> exists,
 *                             read the scope again and again (each key, then the whole scope); print
 *                             "reading" once, then {reads, wrong, errors} (error messages, never values)
 *   dump                      print every secret as {"scope/key": value}
 */
import { existsSync } from "node:fs"
import * as config from "../../internal/config/index.ts"
import * as secrets from "../../internal/secrets/index.ts"

/** The value the tests store under (scope, key): long enough to be found in a file's bytes. */
export function value(scope: string, key: string): string {
    return `planted-${scope}-${key}-${"v".repeat(24)}`
}

async function main(argv: string[]): Promise<void> {
    const [cmd, ...args] = argv
    const paths = config.paths(process.env)
    if (cmd === "init") {
        const r = await secrets.init(paths)
        process.stdout.write(JSON.stringify(r) + "\n")
        return
    }
    const vault = secrets.open(paths, { actor: "child", create: true })
    try {
        if (cmd === "put") {
            const [scope = "", prefix = "", n = "0"] = args
            for (let i = 0; i < Number(n); i++) await vault.put(scope, `${prefix}${i}`, value(scope, `${prefix}${i}`))
        } else if (cmd === "rotate") {
            const [die] = args
            await vault.recipient()
            process.stdout.write("start\n")
            const r = await vault.rotate({
                step: at => {
                    // pipes are written synchronously on Linux: the parent sees how far a killed rotation got
                    process.stdout.write(`step ${at}\n`)
                    if (at === die) process.kill(process.pid, "SIGKILL")
                },
            })
            process.stdout.write(JSON.stringify(r) + "\n")
        } else if (cmd === "reencrypt") {
            const [scope = "*", die] = args
            const c = await config.load(paths.config)
            await vault.recipient()
            process.stdout.write("start\n")
            const r = await vault.reencrypt(c, scope === "*" ? undefined : [scope], {
                step: at => {
                    process.stdout.write(`step ${at}\n`)
                    if (at === die) process.kill(process.pid, "SIGKILL")
                },
            })
            process.stdout.write(JSON.stringify(r) + "\n")
        } else if (cmd === "read") {
            const [scope = "", stop = ""] = args
            const keys = vault.list(scope).map(e => e.key).filter(k => !k.endsWith(":next"))
            let reads = 0, wrong = 0
            const errors: string[] = []
            const seen = (k: string, v: string) => {
                reads++
                // a value is compared, never printed
                if (v !== value(scope, k)) wrong++
            }
            process.stdout.write("reading\n")
            while (!existsSync(stop)) {
                for (const k of keys) {
                    try {
                        seen(k, await vault.get(scope, k))
                    } catch (e) {
                        errors.push((e as Error).message)
                    }
                }
                try {
                    const all = await vault.scope(scope, { reason: "read" })
                    for (const k of keys) seen(k, all.get(k) ?? "")
                } catch (e) {
                    errors.push((e as Error).message)
                }
            }
            process.stdout.write(JSON.stringify({ reads, wrong, errors }) + "\n")
        } else if (cmd === "dump") {
            const out: Record<string, string> = {}
            for (const scope of new Set(vault.list().map(e => e.scope))) {
                for (const [k, v] of await vault.scope(scope, { reason: "dump" })) out[`${scope}/${k}`] = v
            }
            process.stdout.write(JSON.stringify({ recipient: await vault.recipient(), secrets: out }) + "\n")
        } else {
            throw new Error(`unknown command ${JSON.stringify(cmd)}`)
        }
    } finally {
        vault.close()
    }
}

if (process.argv[1] === import.meta.filename) {
    try {
        await main(process.argv.slice(2))
    } catch (e) {
        // as the CLI will print it, so that tests can check both lines
        process.stderr.write(`error: ${(e as Error).message}\n`)
        const hint = (e as { hint?: string }).hint
        if (hint !== undefined) process.stderr.write(`hint: ${hint}\n`)
        process.exitCode = 1
    }
}
