// The command tree: every command, its options, examples and help text, and what it runs.
import type { Argv } from "yargs"
import { UsageError, type Output } from "./output.ts"

/** Options every command accepts. */
export interface Global { config?: string }

/** Wraps a command's body: its exit code kept, a failure reported in mcplexer's voice. */
export type Act = (fn: (a: Global & Record<string, unknown>) => Promise<number | void>) =>
    (a: Global & Record<string, unknown>) => Promise<void>

/**
 * Every command, in the order help lists them. Each command's module is imported only when that
 * command runs, so `secret get` never pays for what `serve` needs.
 */
export function commands(y: Argv, act: Act, out: Output): Argv {
    // each group adds its commands to `y` itself (yargs builds one instance in place)
    for (const group of [home, serving, catalog, oversight, moving]) group(y, act, out)
    return y
}

/** Setting up: the home folder, secrets, the key, OAuth logins. */
function home(y: Argv, act: Act, out: Output): Argv {
    return y
        .command("init", "create the home folder, key, database and a starter config", c => c
            .option("json", { type: "boolean", describe: "print JSON" })
            .option("pq", { type: "boolean", describe: "make the new key post-quantum (hybrid ML-KEM-768 + X25519, age1pq1…)" })
            .example("$0 init", "set up ~/.mcplexer (safe to run again)")
            .example("$0 init --pq", "the same, with a post-quantum key"),
            act(async a => (await import("./init.ts")).init({ paths: await paths(a, false), json: a.json === true, pq: a.pq === true }, out)))
        .command("secret", "store, read, list and delete secrets", c => secretCommands(c, act, out))
        .command("key", "show, rotate or protect the age identity", c => keyCommands(c, act, out))
        .command("auth", "log in to remote servers with OAuth, show or end those logins", c => authCommands(c, act, out))
}

/** Serving, and the HTTP token. */
function serving(y: Argv, act: Act, out: Output): Argv {
    return y
        .command("serve", "be the one MCP server your AI client talks to (stdio, or HTTP with --http)", c => c
            .option("log-level", { choices: ["error", "warn", "info", "debug"] as const, default: "info" as const, describe: "what goes to stderr and mcplexer.log" })
            .option("http", { type: "string", describe: "serve Streamable HTTP at /mcp, the API and the web UI at HOST:PORT (default 127.0.0.1:7777) instead of stdio" })
            .option("stdio", { type: "boolean", describe: "with --http: serve stdio too, in the same process" })
            .option("allow-remote", { type: "boolean", describe: "with --http: allow an address other machines can reach" })
            .option("allow-host", { type: "string", array: true, describe: "with --http: another hostname clients may use in Host and Origin" })
            .example("$0 serve", "in your client's config: { \"command\": \"mcplexer\", \"args\": [\"serve\"] }")
            .example("$0 serve --http", "MCP at http://127.0.0.1:7777/mcp (token: mcplexer token), the web UI at /")
            .example("$0 serve --http 127.0.0.1:9000 --stdio", "HTTP and stdio from one process"),
            act(async a => {
                if (a.http === undefined && (a.stdio !== undefined || a["allow-remote"] !== undefined || a["allow-host"] !== undefined)) {
                    throw new UsageError("--stdio, --allow-remote and --allow-host go with --http", "serve over HTTP with: mcplexer serve --http [HOST:PORT]")
                }
                return (await import("./serve.ts")).serve({
                    paths: await paths(a), level: a["log-level"] as "info",
                    ...(a.http === undefined ? {} : { http: str(a.http), stdio: a.stdio === true, allowRemote: a["allow-remote"] === true }),
                    ...(Array.isArray(a["allow-host"]) ? { hosts: a["allow-host"].map(str) } : {}),
                }, out)
            }))
        .command("token", "print the API token for serve --http (created on first need)", c => c
            .option("rotate", { type: "boolean", describe: "replace it with a new one (restart serve --http to use it)" })
            .example("$0 token", "paste it into the web UI, or send it as Authorization: Bearer <token>"),
            act(async a => (await import("./token.ts")).token({ paths: await paths(a), rotate: a.rotate === true }, out)))
}

/** `tools disable/enable/search/changed/diff/approve`: the tool list under the user's hand. */
function shapeCommands(y: Argv, act: Act, out: Output): Argv {
    const patterns = (a: Record<string, unknown>) => (a.pattern as unknown[]).map(String)
    return y
        .command("disable <pattern..>", "switch tools off (written to config.yaml, comments kept)", c => c
            .positional("pattern", { type: "string", describe: "a tool's name as the client sees it, or a glob: github__delete_*" })
            .example("$0 tools disable 'github__delete_*' github__push_files", "the model no longer sees them"),
            act(async a => (await import("./shape.ts")).disable({ paths: await paths(a), patterns: patterns(a) }, out)))
        .command("enable <pattern..>", "switch tools back on", c => c
            .positional("pattern", { type: "string", describe: "a tool's name as the client sees it, or a glob" })
            .example("$0 tools enable github__delete_branch", "one tool back, the glob that switched it off kept"),
            act(async a => (await import("./shape.ts")).enable({ paths: await paths(a), patterns: patterns(a) }, out)))
        .command("search <query..>", "rank the enabled tools for a task in your words (local: no network, no model)", c => c
            .positional("query", { type: "string", describe: "the task, in plain words" })
            // a string: yargs turns "abc" into NaN, and the error should quote what was typed
            .option("limit", { type: "string", default: "10", describe: "how many tools" })
            .option("json", { type: "boolean", describe: "print [{name, server, description, score}], best first" })
            .example("$0 tools search open a PR from my branch", "the best tools for it"),
            act(async a => (await import("./shape.ts")).find({ paths: await paths(a), query: (a.query as unknown[]).map(String).join(" "), limit: count(a.limit), json: a.json === true }, out)))
        .command("changed", "the tools withheld until you approve them (changed since pinned, or quarantined)", c => c
            .option("json", { type: "boolean", describe: "print JSON" }),
            act(async a => (await import("./shape.ts")).changed({ paths: await paths(a), json: a.json === true }, out)))
        .command("diff <tool>", "a withheld tool's approved definition against the one its server presents now", c => c
            .positional("tool", { type: "string", describe: "the tool's name as the client sees it" }),
            act(async a => (await import("./shape.ts")).diff({ paths: await paths(a), tool: str(a.tool) }, out)))
        .command("approve <pattern..>", "accept the definition withheld tools present now", c => c
            .positional("pattern", { type: "string", describe: "a withheld tool's name, or a glob" })
            .example("$0 tools approve 'rug__*'", "every withheld tool of server rug"),
            act(async a => (await import("./shape.ts")).approve({ paths: await paths(a), patterns: patterns(a) }, out)))
}

/**
 * An option that takes a duration (or a date). One argument exactly: without nargs yargs reads
 * `--expires -5d` as the value "" and the short flags -5 and -d, and `--since -1h` as --help (exit
 * 0, no rows); with it the value arrives whole and the command's parser refuses the sign in words.
 */
function span(describe: string) {
    return { type: "string", nargs: 1, describe } as const
}

/** A positive whole number of an option, or a usage error. */
function count(v: unknown): number {
    const n = typeof v === "string" && /^\d+$/.test(v.trim()) ? Number(v) : NaN
    if (Number.isSafeInteger(n) && n > 0) return n
    throw new UsageError(`--limit must be a positive whole number, not ${JSON.stringify(v)}`, "for example: --limit 5")
}

/** What the client sees, and how a call would go. */
function catalog(y: Argv, act: Act, out: Output): Argv {
    return y
        .command("status", "servers, their scope, instance state, restarts, last error, missing secrets", c => c
            .option("json", { type: "boolean", describe: "print JSON" })
            .example("$0 status", "what runs and what is missing"),
            act(async a => (await import("./status.ts")).status({ paths: await paths(a), json: a.json === true }, out)))
        .command("tools", "the tool catalog the client sees, and what you let through", c => shapeCommands(c
            .command("refresh", "start every server once and relearn its catalog", r => r
                .option("json", { type: "boolean", describe: "print each server's outcome as JSON" })
                .example("$0 tools refresh", "after upgrading a server"),
                act(async a => (await import("./tools.ts")).refresh({ paths: await paths(a), json: a.json === true }, out))), act, out)
            // not global: `tools disable x --json` printing no JSON would be a silent lie
            .option("json", { type: "boolean", describe: "print JSON", global: false })
            .option("all", { type: "boolean", describe: "also the tools switched off, withheld or quarantined, with their state", global: false })
            .example("$0 tools", "names, servers and descriptions")
            .example("$0 tools --all", "every tool, with its state")
            .example("$0 tools --json", "the full catalog as JSON"),
            act(async a => (await import("./tools.ts")).tools({ paths: await paths(a), json: a.json === true, all: a.all === true }, out)))
        .command("call <tool>", "call one tool through the gateway, to check a setup by hand", c => c
            .positional("tool", { type: "string", describe: "the name the client sees, e.g. github__search_repositories" })
            .option("args", { type: "string", describe: "the arguments as a JSON object", default: "{}" })
            .option("json", { type: "boolean", describe: "print the whole result as JSON" })
            .option("accept-defaults", { type: "boolean", describe: "answer a form the server asks (elicitation) with its defaults, for scripts; without it forms are declined" })
            .example("$0 call everything__echo --args '{\"message\":\"hi\"}'", "one call, its text printed (once the starter's everything server is enabled)"),
            act(async a => (await import("./call.ts")).call({ paths: await paths(a), tool: str(a.tool), args: str(a.args), json: a.json === true, acceptDefaults: a["accept-defaults"] === true }, out)))
        .command("route <tool>", "explain how a tool call is decided: workspaces, route, server, scope, approval", c => c
            .positional("tool", { type: "string", describe: "the name the client sees, e.g. github__create_issue" })
            .option("root", { type: "string", describe: "the session's root folder (default: the current folder)" })
            .option("json", { type: "boolean", describe: "print JSON" })
            .example("$0 route everything__echo --root ~/work/acme", "which scope a call from that project would use, and why"),
            act(async a => (await import("./route.ts")).route({ paths: await paths(a), tool: str(a.tool), root: opt(a.root), json: a.json === true }, out)))
}

/** Approvals, leases and the audit trail. */
function oversight(y: Argv, act: Act, out: Output): Argv {
    return y
        .command("approvals", "calls waiting for approval, or with --leases the leases in force", c => c
            .option("leases", { type: "boolean", describe: "list leases instead" })
            .option("all", { type: "boolean", describe: "include answered approvals, or expired and revoked leases" })
            .option("json", { type: "boolean", describe: "print JSON" })
            .example("$0 approvals", "what waits for an answer")
            .example("$0 approvals --leases", "what runs without asking, until when"),
            act(async a => (await import("./approvals.ts")).list({ paths: await paths(a), leases: a.leases === true, all: a.all === true, json: a.json === true }, out)))
        .command("approve <id>", "approve one waiting call (it runs; with --for, later calls to its server and scope run without asking)", c => c
            .positional("id", { type: "string", describe: "from mcplexer approvals" })
            .option("for", span("also grant a lease this long (at most the route's lease), e.g. 10m"))
            .example("$0 approve 12", "let call 12 run, and only call 12")
            .example("$0 approve 12 --for 10m", "let call 12 run, and later calls to its server and scope for 10 minutes"),
            act(async a => (await import("./approvals.ts")).approve({ paths: await paths(a), id: str(a.id), for: opt(a.for) }, out)))
        .command("deny <id>", "deny a waiting call (the client gets a tool error; nothing reaches the server)", c => c
            .positional("id", { type: "string", describe: "from mcplexer approvals" })
            .option("reason", { type: "string", describe: "told to the client" })
            .example("$0 deny 12 --reason \"not on a Friday\"", "refuse call 12"),
            act(async a => (await import("./approvals.ts")).deny({ paths: await paths(a), id: str(a.id), reason: opt(a.reason) }, out)))
        .command("revoke <id>", "end a lease now and stop the server instance holding those credentials", c => c
            .positional("id", { type: "string", describe: "from mcplexer approvals --leases" })
            .example("$0 revoke 3", "the next call asks again"),
            act(async a => (await import("./approvals.ts")).revoke({ paths: await paths(a), id: str(a.id) }, out)))
        .command("audit", "the audit trail: tool calls, decryptions, approvals, leases, revokes", c => c
            .option("since", span("a duration back from now (1h, 7d) or a date"))
            .option("tool", { type: "string", describe: "only this tool" })
            .option("scope", { type: "string", describe: "only this scope" })
            .option("status", { type: "string", describe: "only this status (ok, error, denied, timeout, pending, approved …)" })
            .option("limit", { type: "number", default: 100, describe: "rows shown without --since (the most recent)" })
            .option("json", { type: "boolean", describe: "one JSON object per line" })
            .option("follow", { alias: "f", type: "boolean", describe: "keep printing new rows" })
            .example("$0 audit --since 1h --status denied", "what was refused in the last hour")
            .example("$0 audit --follow --json", "stream the trail"),
            act(async a => (await import("./audit.ts")).audit({
                paths: await paths(a), since: opt(a.since), tool: opt(a.tool), scope: opt(a.scope), status: opt(a.status),
                limit: Number(a.limit), json: a.json === true, follow: a.follow === true,
            }, out)))
}

/** Moving in from the AI clients, and checking the setup. */
function moving(y: Argv, act: Act, out: Output): Argv {
    return y
        .command("import [source]", "move AI clients' MCP servers into config.yaml and their tokens into the vault", c => c
            .positional("source", { type: "string", describe: `a client (${clientNames}) or a file; every client found when left out` })
            .option("dry-run", { type: "boolean", describe: "show every decision, values masked; write and ask nothing" })
            .option("yes", { alias: "y", type: "boolean", describe: "import without asking" })
            .option("force", { type: "boolean", describe: "replace a server of the same name, or a stored value of the same scope and key, that differs" })
            .example("$0 import --dry-run", "what would move, from every client found")
            .example("$0 import cursor --yes", "move Cursor's servers and tokens"),
            act(async a => (await import("./import.ts")).run({
                paths: await paths(a), source: opt(a.source), dryRun: a["dry-run"] === true, yes: a.yes === true, force: a.force === true, where: here(),
            }, out)))
        .command("install <client>", "make mcplexer the client's one MCP server (a backup of its file is kept)", c => c
            .positional("client", { type: "string", describe: clientNames })
            .option("dry-run", { type: "boolean", describe: "print the change as a diff; write nothing" })
            .example("$0 install claude-desktop", "then restart Claude Desktop"),
            act(async a => (await import("./install.ts")).install({ paths: await paths(a), client: str(a.client), dryRun: a["dry-run"] === true, where: here() }, out)))
        .command("uninstall <client>", "put back the client's file as it was before install", c => c
            .positional("client", { type: "string", describe: clientNames })
            .example("$0 uninstall cursor", "restores the newest backup"),
            act(async a => (await import("./install.ts")).uninstall({ paths: await paths(a), client: str(a.client), where: here() }, out)))
        .command("doctor", "check the setup: missing secrets, key permissions, commands, database", c => c
            .option("json", { type: "boolean", describe: "print JSON" })
            .example("$0 doctor", "each finding with its fix"),
            act(async a => (await import("./doctor.ts")).doctor({ paths: await paths(a, false), json: a.json === true }, out)))
}

function secretCommands(y: Argv, act: Act, out: Output): Argv {
    return y
        .command("put <scope> <key> [value]", "store a secret (prompts for it, or reads stdin, a file or a variable)", c => c
            .positional("scope", { type: "string", describe: "an auth scope declared in the config" })
            .positional("key", { type: "string", describe: "the key, also the environment variable name given to servers" })
            .positional("value", { type: "string", describe: "the value (lands in your shell history: prefer the prompt or stdin)" })
            .option("from-env", { type: "string", describe: "read the value from this environment variable" })
            .option("from-file", { type: "string", describe: "read the value from this file (one trailing newline removed)" })
            .option("expires", span("when the value expires: a date (2027-01-31) or a duration from now (90d)"))
            .option("next", { type: "boolean", describe: "stage it beside the current value, unused until: mcplexer secret promote" })
            .example("$0 secret put personal GITHUB_TOKEN", "prompt for the value, hidden")
            .example("$0 secret put personal GITHUB_TOKEN --expires 90d", "doctor and serve warn 14 days before")
            .example("gh auth token | $0 secret put personal GITHUB_TOKEN", "read it from stdin")
            .example("$0 secret put personal LINEAR_API_KEY --from-env LINEAR_API_KEY", "take it from a variable"),
            act(async a => (await import("./secret.ts")).put({
                paths: await paths(a), scope: str(a.scope), key: str(a.key),
                value: a.value === undefined ? undefined : str(a.value),
                fromEnv: opt(a["from-env"]), fromFile: opt(a["from-file"]),
                ...(a.expires === undefined ? {} : { expires: str(a.expires) }), ...(a.next === true ? { next: true } : {}),
            }, out)))
        .command("promote <scope> <key>", "make the value staged with put --next current (a running serve restarts that scope's servers)", c => c
            .positional("scope", { type: "string" })
            .positional("key", { type: "string" })
            .example("$0 secret put acme GITHUB_TOKEN --next && $0 secret promote acme GITHUB_TOKEN", "rotate with overlap"),
            act(async a => (await import("./secret.ts")).promote({ paths: await paths(a), scope: str(a.scope), key: str(a.key) }, out)))
        .command("get <scope> <key>", "print a secret's value (for scripts; masked on a terminal)", c => c
            .positional("scope", { type: "string" })
            .positional("key", { type: "string" })
            .option("reveal", { type: "boolean", describe: "on a terminal, print the value itself rather than its first characters and length" })
            .example("export GITHUB_TOKEN=$($0 secret get personal GITHUB_TOKEN)", "use it in a script (a pipe gets the exact bytes)")
            .example("$0 secret get personal GITHUB_TOKEN --reveal", "show it on the terminal"),
            act(async a => (await import("./get.ts")).get({ paths: await paths(a), scope: str(a.scope), key: str(a.key), reveal: a.reveal === true }, out)))
        .command("list [scope]", "list key names with their scope and last change (never values)", c => c
            .positional("scope", { type: "string", describe: "only this scope" })
            .option("json", { type: "boolean", describe: "print JSON" })
            .example("$0 secret list", "every stored key")
            .example("$0 secret list personal --json", "one scope, as JSON"),
            act(async a => (await import("./secret.ts")).list({ paths: await paths(a), scope: opt(a.scope), json: a.json === true }, out)))
        .command("delete <scope> <key>", "delete a secret", c => c
            .positional("scope", { type: "string" })
            .positional("key", { type: "string" })
            .example("$0 secret delete personal GITHUB_TOKEN", "remove one key"),
            act(async a => (await import("./secret.ts")).remove({ paths: await paths(a), scope: str(a.scope), key: str(a.key) }, out)))
        .command("reencrypt [scope]", "encrypt a scope's secrets to the recipients its config declares (every scope when none is named)", c => c
            .positional("scope", { type: "string", describe: "only this scope" })
            .example("$0 secret reencrypt acme", "after adding a teammate's key to auth_scopes.acme.recipients"),
            act(async a => (await import("./share.ts")).reencrypt({ paths: await paths(a), scope: opt(a.scope) }, out)))
        .command("export <scope>", "write a scope's secrets as one age file (age -d opens it)", c => c
            .positional("scope", { type: "string" })
            .option("to", { type: "string", array: true, describe: "an age public key to encrypt to (repeatable); default: the scope's recipients and your key" })
            .option("R", { alias: "recipients-file", type: "string", array: true, describe: "a file of recipients, one a line (age -R format)" })
            .option("armor", { alias: "a", type: "boolean", describe: "PEM-like text rather than binary" })
            .option("o", { alias: "output", type: "string", describe: "the file to write (default: stdout, when it is not a terminal)" })
            .option("force", { type: "boolean", describe: "replace the output file if it exists" })
            .example("$0 secret export acme -o acme.age", "for the scope's recipients and you")
            .example("$0 secret export acme --to age1… --armor > acme.age.txt", "for one teammate, as text"),
            act(async a => (await import("./share.ts")).exportScope({
                paths: await paths(a), scope: str(a.scope), to: list(a.to), files: list(a.R), armor: a.armor === true, output: opt(a.o), force: a.force === true,
            }, out)))
        .command("import <file>", "store the secrets of an export file (made for your key) in their scope", c => c
            .positional("file", { type: "string" })
            .option("force", { type: "boolean", describe: "replace a stored value that differs from the file's" })
            .example("$0 secret import acme.age", "adds what is missing; a differing value is reported and left alone"),
            act(async a => (await import("./share.ts")).importFile({ paths: await paths(a), file: str(a.file), force: a.force === true }, out)))
        .demandCommand(1, "name a secret command: put, get, list, delete, promote, reencrypt, export or import")
}

function keyCommands(y: Argv, act: Act, out: Output): Argv {
    return y
        .command("show", "print the identity file's path and public key", c => c
            .option("json", { type: "boolean", describe: "print JSON" })
            .example("$0 key show", "where the key is, and its public key"),
            act(async a => (await import("./key.ts")).show({ paths: await paths(a), json: a.json === true }, out)))
        .command("rotate", "make a new identity and re-encrypt every secret to it", c => c
            .option("pq", { type: "boolean", describe: "a post-quantum key (--no-pq: a classic one; default: the current kind)" })
            .example("$0 key rotate", "the old key is kept beside the new one until you remove it")
            .example("$0 key rotate --pq", "move every secret to a post-quantum key"),
            act(async a => (await import("./key.ts")).rotate({ paths: await paths(a), ...(typeof a.pq === "boolean" ? { pq: a.pq } : {}) }, out)))
        .command("protect", "protect the key file with a passphrase, or move the identity into the OS keychain", c => c
            .option("keychain", { type: "boolean", describe: "the OS keychain (Secret Service, macOS Keychain, Windows Credential Manager) instead of a passphrase" })
            .example("$0 key protect", "asks a new passphrase twice; age -d age.key opens the file with it")
            .example("$0 key protect --keychain", "age.key then holds only a reference"),
            act(async a => (await import("./protect.ts")).protect({ paths: await paths(a), keychain: a.keychain === true }, out)))
        .command("unprotect", "bring the identity back to a plain key file", c => c
            .example("$0 key unprotect", "from a passphrase or from the OS keychain"),
            act(async a => (await import("./protect.ts")).unprotect({ paths: await paths(a) }, out)))
        .command("upgrade", "authenticate, once, the secrets stored before this version (it lists them)", c => c
            .example("$0 key upgrade", "after upgrading from mcplexer 0.1"),
            act(async a => (await import("./key.ts")).upgrade({ paths: await paths(a) }, out)))
        .demandCommand(1, "name a key command: show, rotate, upgrade, protect or unprotect")
}

const clientNames = "claude-desktop, claude-code, cursor, vscode, windsurf, gemini or codex"

/** Where the clients' files are looked for: this user's, this platform's, this folder's. */
function here() {
    return { env: process.env, platform: process.platform, cwd: process.cwd() }
}

function authCommands(y: Argv, act: Act, out: Output): Argv {
    return y
        .command("login <server>", "log in to a server with oauth: in the browser; the tokens are stored age-encrypted", c => c
            .positional("server", { type: "string", describe: "a remote server with oauth: in the config" })
            .option("scope", { type: "string", describe: "the scope to keep the tokens in (default: the server's)" })
            .example("$0 auth login linear", "opens the login page ($BROWSER, else the system's browser) and prints its link"),
            act(async a => (await import("./auth.ts")).login({ paths: await paths(a), server: str(a.server), scope: opt(a.scope) }, out)))
        .command("status", "each oauth server: logged in or not, expiry, granted scopes (never a token)", c => c
            .option("json", { type: "boolean", describe: "print JSON" })
            .example("$0 auth status", "which logins are missing"),
            act(async a => (await import("./auth.ts")).status({ paths: await paths(a), json: a.json === true }, out)))
        .command("logout <server>", "revoke the server's tokens where it can, then delete them", c => c
            .positional("server", { type: "string" })
            .option("scope", { type: "string", describe: "the scope the tokens are kept in (default: the server's)" })
            .example("$0 auth logout linear", "the next use asks for a login again"),
            act(async a => (await import("./auth.ts")).logout({ paths: await paths(a), server: str(a.server), scope: opt(a.scope) }, out)))
        .demandCommand(1, "name an auth command: login, status or logout")
}

/** The files of this run; unless `trust` is false, a home or config others can change is refused. */
export async function paths(a: Global, trust = true) {
    const config = await import("../config/index.ts")
    const p = config.paths(process.env, { config: a.config })
    if (trust) config.guard.check(p)
    return p
}

function str(v: unknown): string {
    return typeof v === "string" ? v : JSON.stringify(v) ?? ""
}

function list(v: unknown): string[] {
    return v === undefined ? [] : (Array.isArray(v) ? v : [v]).map(str)
}

function opt(v: unknown): string | undefined {
    return v === undefined ? undefined : str(v)
}
