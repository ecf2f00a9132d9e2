import type { Argv } from "yargs"
import { exit, report, std, UsageError, type Output } from "./output.ts"

/** Options every command accepts. */
interface Global { config?: string }

/**
 * Runs the command line and returns the process exit code. Each command's module is imported only
 * when that command runs, so `secret get` never pays for what `serve` needs.
 */
export async function main(argv: string[], out: Output = std()): Promise<number> {
    const { default: yargs } = await import("yargs")
    let code: number = exit.ok
    const act = (fn: (a: Global & Record<string, unknown>) => Promise<number | void>) =>
        async (a: Global & Record<string, unknown>) => {
            try {
                code = (await fn(a)) ?? exit.ok
            } catch (err) {
                code = report(err, out)
            }
        }
    const y: Argv = yargs(argv)
        .scriptName("mcplexer")
        .usage("mcplexer: one MCP server for every AI client, with an age-encrypted secret store\n\nUsage: $0 <command> [options]")
        .option("config", { type: "string", describe: "config file (default $MCPLEXER_HOME/config.yaml)", global: true })
        .command("init", "create the home folder, key, database and a starter config", c => c
            .example("$0 init", "set up ~/.mcplexer (safe to run again)"),
            act(async a => (await import("./init.ts")).init({ paths: await paths(a) }, out)))
        .command("secret", "store, read, list and delete secrets", c => secretCommands(c, act, out))
        .command("key", "show or rotate the age identity", c => keyCommands(c, act, out))
        .command("serve", "be the one MCP server your AI client talks to (stdio)", c => c
            .option("log-level", { choices: ["error", "warn", "info", "debug"] as const, default: "info" as const, describe: "what goes to stderr and mcplexer.log" })
            .example("$0 serve", "in your client's config: { \"command\": \"mcplexer\", \"args\": [\"serve\"] }"),
            act(async a => (await import("./serve.ts")).serve({ paths: await paths(a), level: a["log-level"] as "info" }, out)))
        .command("status", "servers, their scope, instance state, restarts, last error, missing secrets", c => c
            .option("json", { type: "boolean", describe: "print JSON" })
            .example("$0 status", "what runs and what is missing"),
            act(async a => (await import("./status.ts")).status({ paths: await paths(a), json: a.json === true }, out)))
        .command("tools", "the tool catalog the client sees", c => c
            .command("refresh", "start every server once and relearn its catalog", r => r
                .example("$0 tools refresh", "after upgrading a server"),
                act(async a => (await import("./tools.ts")).refresh({ paths: await paths(a), json: a.json === true }, out)))
            .option("json", { type: "boolean", describe: "print JSON" })
            .example("$0 tools", "names, servers and descriptions")
            .example("$0 tools --json", "the full catalog as JSON"),
            act(async a => (await import("./tools.ts")).tools({ paths: await paths(a), json: a.json === true }, out)))
        .command("call <tool>", "call one tool through the gateway, to check a setup by hand", c => c
            .positional("tool", { type: "string", describe: "the name the client sees, e.g. github__search_repositories" })
            .option("args", { type: "string", describe: "the arguments as a JSON object", default: "{}" })
            .option("json", { type: "boolean", describe: "print the whole result as JSON" })
            .example("$0 call everything__echo --args '{\"message\":\"hi\"}'", "one call, its text printed"),
            act(async a => (await import("./call.ts")).call({ paths: await paths(a), tool: str(a.tool), args: str(a.args), json: a.json === true }, out)))
        .command("doctor", "check the setup: missing secrets, key permissions, commands, database", c => c
            .example("$0 doctor", "each finding with its fix"),
            act(async a => (await import("./doctor.ts")).doctor({ paths: await paths(a) }, out)))
        .demandCommand(1, "name a command")
        .recommendCommands()
        .strict()
        .help()
        .alias("h", "help")
        .version(false)
        .wrap(Math.min(100, process.stderr.columns || 100))
        .exitProcess(false)
        .fail((msg: string | null, err: Error | null) => {
            if (err) throw err
            throw new UsageError(msg ?? "invalid usage", `run "mcplexer ${commandOf(argv)}--help" for usage`)
        })
    try {
        await y.parseAsync()
    } catch (err) {
        return report(err, out)
    }
    return code
}

type Act = (fn: (a: Global & Record<string, unknown>) => Promise<number | void>) =>
    (a: Global & Record<string, unknown>) => Promise<void>

function secretCommands(y: Argv, act: Act, out: Output): Argv {
    return y
        .command("put <scope> <key> [value]", "store a secret (prompts for it, or reads stdin, a file or a variable)", c => c
            .positional("scope", { type: "string", describe: "an auth scope declared in the config" })
            .positional("key", { type: "string", describe: "the key, also the environment variable name given to servers" })
            .positional("value", { type: "string", describe: "the value (lands in your shell history: prefer the prompt or stdin)" })
            .option("from-env", { type: "string", describe: "read the value from this environment variable" })
            .option("from-file", { type: "string", describe: "read the value from this file (one trailing newline removed)" })
            .example("$0 secret put github-personal GITHUB_TOKEN", "prompt for the value, hidden")
            .example("gh auth token | $0 secret put github-personal GITHUB_TOKEN", "read it from stdin")
            .example("$0 secret put linear LINEAR_API_KEY --from-env LINEAR_API_KEY", "take it from a variable"),
            act(async a => (await import("./secret.ts")).put({
                paths: await paths(a), scope: str(a.scope), key: str(a.key),
                value: a.value === undefined ? undefined : str(a.value),
                fromEnv: opt(a["from-env"]), fromFile: opt(a["from-file"]),
            }, out)))
        .command("get <scope> <key>", "print a secret's value (for scripts)", c => c
            .positional("scope", { type: "string" })
            .positional("key", { type: "string" })
            .example("export GITHUB_TOKEN=$($0 secret get github-personal GITHUB_TOKEN)", "use it in a script"),
            act(async a => (await import("./secret.ts")).get({ paths: await paths(a), scope: str(a.scope), key: str(a.key) }, out)))
        .command("list [scope]", "list key names with their scope and last change (never values)", c => c
            .positional("scope", { type: "string", describe: "only this scope" })
            .option("json", { type: "boolean", describe: "print JSON" })
            .example("$0 secret list", "every stored key")
            .example("$0 secret list github-acme --json", "one scope, as JSON"),
            act(async a => (await import("./secret.ts")).list({ paths: await paths(a), scope: opt(a.scope), json: a.json === true }, out)))
        .command("delete <scope> <key>", "delete a secret", c => c
            .positional("scope", { type: "string" })
            .positional("key", { type: "string" })
            .example("$0 secret delete github-acme GITHUB_TOKEN", "remove one key"),
            act(async a => (await import("./secret.ts")).remove({ paths: await paths(a), scope: str(a.scope), key: str(a.key) }, out)))
        .demandCommand(1, "name a secret command: put, get, list or delete")
}

function keyCommands(y: Argv, act: Act, out: Output): Argv {
    return y
        .command("show", "print the identity file's path and public key", c => c
            .example("$0 key show", "where the key is, and its public key"),
            act(async a => (await import("./key.ts")).show({ paths: await paths(a) }, out)))
        .command("rotate", "make a new identity and re-encrypt every secret to it", c => c
            .example("$0 key rotate", "the old key is kept beside the new one until you remove it"),
            act(async a => (await import("./key.ts")).rotate({ paths: await paths(a) }, out)))
        .demandCommand(1, "name a key command: show or rotate")
}

async function paths(a: Global) {
    const config = await import("../config/index.ts")
    return config.paths(process.env, { config: a.config })
}

function str(v: unknown): string {
    return typeof v === "string" ? v : JSON.stringify(v) ?? ""
}

function opt(v: unknown): string | undefined {
    return v === undefined ? undefined : str(v)
}

const words = new Set(["init", "secret", "key", "put", "get", "list", "delete", "show", "rotate",
    "serve", "status", "tools", "refresh", "call", "doctor"])

/** The command words the user typed, for a usage hint. */
function commandOf(argv: string[]): string {
    let line = ""
    for (const w of argv) {
        if (!words.has(w)) break
        line += `${w} `
    }
    return line
}
