/**
 * A separate process using the vault, for the tests that need real concurrency or a real kill -9.
 * Run as `node --import tsx test/secrets/child.ts <command> …` with MCPLEXER_HOME set:
 *   init                      create the identity (racing creators), print {recipient}
 *   put <scope> <prefix> <n>  store n keys <prefix>0… with the values of `value()`
 *   rotate [step]             print "start", rotate printing "step <name>" at each step, then the result;
 *                             with a step, SIGKILL itself when reaching it
 *   dump                      print every secret as {"scope/key": value}
 */
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
