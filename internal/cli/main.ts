// The entry of the command line: the forms that skip yargs, the parse, and usage mistakes in mcplexer's voice.
import type { Argv } from "yargs"
import * as config from "../config/index.ts"
import { commands, paths, type Act } from "./commands.ts"
import { exit, report, std, UsageError, type Output } from "./output.ts"

/** Runs the command line and returns the process exit code. */
export async function main(argv: string[], out: Output = std()): Promise<number> {
    const early = await fast(argv, out)
    if (early !== undefined) return early
    await passphrases()
    if (argv[0] === "serve" && !argv.includes("--help") && !argv.includes("-h")) {
        const code = await unlock(out)
        if (code !== undefined) return code
    }
    const { default: yargs } = await import("yargs")
    let code: number = exit.ok
    const act: Act = fn => async a => {
        try {
            code = (await fn(a)) ?? exit.ok
        } catch (err) {
            code = report(passphraseFile(err), out)
        }
    }
    const y: Argv = commands(yargs(argv)
        .scriptName("mcplexer")
        .usage("mcplexer: one MCP server for every AI client, with an age-encrypted secret store\n\nUsage: $0 <command> [options]")
        .option("config", { type: "string", describe: "config file (default $MCPLEXER_HOME/config.yaml)", global: true }), act, out)
        .demandCommand(1, "name a command")
        .strict()
        .help()
        .alias("h", "help")
        .version(false)
        .wrap(Math.min(100, process.stderr.columns || 100))
        .exitProcess(false)
        .fail((msg: string | null, err: Error | null) => {
            // an option that takes one argument (nargs) and got none comes as yargs-parser's Error
            if (err && !/^Not enough arguments following: /.test(err.message)) throw err
            // yargs keeps one instance, reset for each command level: `y` is the level that failed
            throw usage(msg ?? err?.message ?? "invalid usage", argv, y)
        })
    // yargs lays examples out in two columns and cuts a command at half the width: put each
    // description on a comment line of its own above its command, which stays whole to paste
    const example = y.example.bind(y)
    y.example = ((cmd: string, desc?: string) => {
        if (desc) example(`# ${desc}`, "")
        return example(cmd, "")
    }) as typeof y.example
    if (argv.length === 0) {
        // the whole usage, as a mistake: a script that forgot its command must not read exit 0
        y.showHelp(text => out.info(text))
        return exit.usage
    }
    if (!argv.includes("--help") && !argv.includes("-h")) quiet(y)
    try {
        await y.parseAsync()
    } catch (err) {
        return report(passphraseFile(err), out)
    }
    return code
}

/**
 * The forms with nothing to parse, run without yargs (with the Unicode tables its help layout
 * builds at load it would be a large part of their start): `secret get S K`, which scripts call in
 * loops, a plain `serve`, which every AI client starts, and the version. Undefined for the rest.
 */
async function fast(argv: string[], out: Output): Promise<number | undefined> {
    const [a, b, ...rest] = argv
    // `secret get S K`, with --reveal anywhere after get
    const reveal = rest.filter(w => w === "--reveal").length
    const [scope, key, ...more] = rest.filter(w => w !== "--reveal")
    try {
        if (a === "secret" && b === "get" && scope !== undefined && key !== undefined && more.length === 0 && reveal <= 1
            && !scope.startsWith("-") && !key.startsWith("-")) {
            await passphrases()
            await (await import("./get.ts")).get({ paths: await paths({}), scope, key, reveal: reveal === 1 }, out)
            return exit.ok
        }
        if (a === "serve" && b === undefined) {
            await passphrases()
            return await unlock(out) ?? await (await import("./serve.ts")).serve({ paths: await paths({}), level: "info" }, out)
        }
    } catch (err) {
        return report(passphraseFile(err), out)
    }
    if (a === "--version" || a === "-V" || (a === "version" && b === undefined)) {
        out.out(`${(await import("./version.ts")).version}\n`)
        return exit.ok
    }
    return undefined
}

/**
 * Gives secrets the CLI's passphrase source (protect.ts: MCPLEXER_PASSPHRASE_FILE, else a hidden
 * prompt on the terminal), for a key file protected by a passphrase. Loaded only when asked.
 */
async function passphrases(): Promise<void> {
    const secrets = await import("../secrets/read.ts")
    secrets.ask(async path => (await import("./protect.ts")).passphrase(path))
}

/**
 * `serve` opens a protected key at its start, before it speaks the protocol (and the prompt goes
 * to the terminal, never stdout): a client then never waits on a prompt, and a wrong or missing
 * passphrase stops serve at once. Undefined to go on; an exit code when it failed.
 */
async function unlock(out: Output): Promise<number | undefined> {
    try {
        await (await import("../secrets/read.ts")).unlock(await paths({}))
        return undefined
    } catch (err) {
        return report(passphraseFile(err), out)
    }
}

/**
 * A wrong passphrase read from MCPLEXER_PASSPHRASE_FILE: secrets does not know where the passphrase
 * came from and says "try again", which a service manager cannot; name the file to fix instead.
 */
function passphraseFile(err: unknown): unknown {
    const file = process.env.MCPLEXER_PASSPHRASE_FILE
    if (!file || !(err instanceof config.Hinted) || !err.message.startsWith("wrong passphrase for key file")) return err
    return config.hinted(err.message, `the passphrase in ${JSON.stringify(file)} (named by MCPLEXER_PASSPHRASE_FILE) does not open it; nothing was changed\nput the right one in that file, or unset MCPLEXER_PASSPHRASE_FILE to be asked on the terminal`, { kind: err.kind, cause: err })
}

const words = new Set(["init", "secret", "key", "put", "get", "list", "delete", "show", "rotate", "upgrade", "protect", "unprotect",
    "serve", "token", "status", "auth", "login", "logout", "tools", "refresh", "call", "doctor", "route", "approvals", "approve", "deny", "revoke", "audit",
    "import", "install", "uninstall", "disable", "enable", "search", "changed", "diff", "promote", "reencrypt", "export"])

/** The command words the user typed, for a usage hint. */
function commandOf(argv: string[]): string {
    let line = ""
    for (const w of argv) {
        if (!words.has(w)) break
        line += `${w} `
    }
    return line
}

/** What `usage` reads of the yargs instance parsing the command at hand (not in its typings). */
interface Level {
    getOptions(): { key: Record<string, unknown> }
    getInternalMethods(): { getCommandInstance(): { getCommands(): string[] }; getContext(): { fullCommands: string[] } }
}

/**
 * A usage mistake in mcplexer's voice. yargs says "Unknown argument: install" for an unknown
 * command and for an unknown option alike: name which it is, with the closest known word at that
 * level (the commands and options of the command being parsed, `at`).
 */
function usage(msg: string, argv: string[], at: Argv): UsageError {
    const help = `run "mcplexer ${commandOf(argv)}--help" for usage`
    const level = at as unknown as Level
    // yargs counts what is missing ("got 0, need at least 2"): name it, from the command's own form
    const short = /^Not enough non-option arguments: got (\d+)/.exec(msg)
    if (short) {
        const form = level.getInternalMethods().getContext().fullCommands.join(" ")
        const missing = (form.match(/<[^>]+>/g) ?? []).slice(Number(short[1]))
        if (missing.length > 0) return new UsageError(`missing ${missing.join(" ")}: the command is "mcplexer ${form}"`, help)
    }
    const bare = /^Not enough arguments following: (.+)$/.exec(msg)
    if (bare) return new UsageError(`--${bare[1]} needs a value`, `a value that starts with "-" goes after "=": --${bare[1]}=<value>\n${help}`)
    const unknown = /^Unknown arguments?: (.+)$/.exec(msg)
    if (!unknown) return new UsageError(msg.replace(/^[A-Z](?![A-Z])/, c => c.toLowerCase()), help)
    const word = unknown[1]?.split(", ")[0] ?? ""
    const flag = argv.find(a => a === `--${word}` || a.startsWith(`--${word}=`) || a === `-${word}`)
    if (flag !== undefined) {
        const options = Object.keys(level.getOptions().key).filter(k => /^[a-z][a-z-]+$/.test(k))
        const near = config.suggest(word, options)
        return new UsageError(`unknown option ${JSON.stringify(flag.split("=")[0])}`, [...(near ? [`did you mean "--${near}"?`] : []), help].join("\n"))
    }
    const known = level.getInternalMethods().getCommandInstance().getCommands().filter(c => c !== "$0")
    if (known.length === 0) return new UsageError(`unexpected argument ${JSON.stringify(word)}`, help)
    const near = config.suggest(word, known)
    const hints = [...(near ? [`did you mean "${near}"?`] : []), `commands here: ${known.join(", ")}`, help]
    return new UsageError(`unknown command ${JSON.stringify(word)}`, hints.join("\n"))
}

/**
 * yargs formats the whole help text before running any command (yargs#1865), a large part of a
 * CLI start; the failure handler above never shows it, so skip that unless help was asked for.
 */
function quiet(y: Argv): void {
    const internal = y as unknown as { getInternalMethods(): { getUsageInstance(): { cacheHelpMessage(): void } } }
    internal.getInternalMethods().getUsageInstance().cacheHelpMessage = () => undefined
}
