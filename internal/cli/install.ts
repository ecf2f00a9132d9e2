import { createHash } from "node:crypto"
import { existsSync, realpathSync } from "node:fs"
import { mkdir, readFile, stat, unlink } from "node:fs/promises"
import { basename, dirname, join, resolve, sep } from "node:path"
import * as clients from "../clients/index.ts"
import * as atomic from "../config/atomic.ts"
import * as config from "../config/index.ts"
import * as secrets from "../secrets/index.ts"
import { exit, UsageError, type Output } from "./output.ts"

/** Which client's file to change, and whether only to show the change. */
export interface InstallOptions {
    paths: config.Paths
    client: string
    dryRun?: boolean
    where: clients.Where
}

/** What install remembers of a file it changed, in installs.json of the home folder. */
interface Record_ {
    /** the backup of the file as it was; null when there was no file */
    backup: string | null
    /** the backup is an age file encrypted to the identity (absent: a plaintext backup of an earlier version) */
    sealed?: boolean
    /** sha256 of what install wrote, to notice a later change */
    sha256: string
    /** the file's mode before */
    mode: number
    /** the servers part install wrote, as JSON */
    servers?: string
}

/**
 * Rewrites a client's user-level file so that mcplexer is its one MCP server, after keeping the
 * file as it was in a timestamped backup beside it (0600), encrypted to the age identity: the file
 * held the plaintext credentials import moved into the vault, and a backup must not keep them
 * readable for as long as it lies there. With dryRun, prints the diff instead.
 */
export async function install(o: InstallOptions, out: Output): Promise<number> {
    const client = known(o.client)
    const file = clients.user(client, o.where)
    const before = existsSync(file) ? await readFile(file) : undefined
    const launch = self(o.paths, o.where.env)
    // mcplexer changes only a file it can parse; read's error names the place, never the text
    if (before !== undefined) clients.read(before.toString("utf8"), file)
    const next = clients.install(client, before?.toString("utf8"), launch)
    if (before !== undefined && before.toString("utf8") === next) {
        out.info(`mcplexer is already ${client}'s one server in ${file}`)
        return exit.ok
    }
    if (o.dryRun) {
        out.out(masked(clients.diff(before?.toString("utf8") ?? "", next, before ? file : "/dev/null", file), before?.toString("utf8"), file))
        out.info("dry run: nothing written")
        return exit.ok
    }
    if (before !== undefined) await unimported(client, before.toString("utf8"), o.paths, out)
    await mkdir(dirname(file), { recursive: true, mode: 0o700 })
    const backup = before === undefined ? null : keep(file, await secrets.seal(o.paths, before))
    const mode = before === undefined ? 0o600 : (await stat(file)).mode & 0o777
    atomic.writeOver(through(file), next, mode)
    await remember(o.paths, file, { backup, sealed: true, sha256: sha(Buffer.from(next)), mode, servers: clients.servers(client, next) })
    out.info(`installed mcplexer as ${client}'s one MCP server in ${file}`)
    out.info(backup === null ? "there was no file before: uninstall removes it"
        : `backup of the file as it was, encrypted to ${o.paths.key}: ${backup}`)
    out.hint(`restart ${client} to use it; mcplexer uninstall ${client} puts the old file back`)
    return exit.ok
}

/** Puts back the file install replaced, unless it changed since. */
export async function uninstall(o: InstallOptions, out: Output): Promise<number> {
    const client = known(o.client)
    const file = clients.user(client, o.where)
    const state = await records(o.paths)
    const r = state[file]
    if (r === undefined) {
        throw config.hinted(`mcplexer install did not change ${file}`, `nothing to undo; backups of earlier installs, if any, are beside it as ${basename(file)}.mcplexer-*.bak*`)
    }
    const now = existsSync(file) ? await readFile(file) : undefined
    if (now === undefined || sha(now) !== r.sha256) {
        if (now === undefined || r.backup === null || !unchanged(client, now, r)) throw changed(file, r, o.paths)
        // the client rewrote its other settings (Claude Code keeps counters in ~/.claude.json): put
        // back only the servers part, which is as install left it
        atomic.writeOver(through(file), clients.restore(client, now.toString("utf8"), (await old(o.paths, r.backup, r.sealed)).toString("utf8")), r.mode)
        await unlink(r.backup)
        out.info(`restored the MCP servers of ${file}; its other settings changed since install and are kept as they are now`)
    } else if (r.backup === null) {
        await unlink(file)
        out.info(`removed ${file} (there was none before install)`)
    } else {
        atomic.writeOver(through(file), await old(o.paths, r.backup, r.sealed), r.mode)
        await unlink(r.backup)
        out.info(`restored ${file} as it was before install`)
    }
    delete state[file]
    await save(o.paths, state)
    return exit.ok
}

/** The diff with every credential import would find in the old file masked, as import's dry run shows them. */
function masked(diff: string, text: string | undefined, file: string): string {
    if (text === undefined) return diff
    const values = clients.read(text, file).flatMap(f => clients.plan(f).secrets.map(s => s.value))
    // longest first, so a value containing another is masked whole
    for (const v of values.sort((a, b) => b.length - a.length)) diff = diff.split(v).join(clients.mask(v))
    return diff
}

/** True when the servers part of the file is still what install wrote. */
function unchanged(client: clients.Client, now: Buffer, r: Record_): boolean {
    try {
        return r.servers !== undefined && clients.servers(client, now.toString("utf8")) === r.servers
    } catch {
        return false
    }
}

function changed(file: string, r: Record_, p: config.Paths): Error {
    const put = r.backup === null ? "" : r.sealed ? `age -d -i ${JSON.stringify(p.key)} -o ${JSON.stringify(file)} ${JSON.stringify(r.backup)}`
        : `cp ${JSON.stringify(r.backup)} ${JSON.stringify(file)}`
    return config.hinted(`${file} changed since mcplexer install`, r.backup === null ? "it did not exist before: remove it yourself if nothing in it matters"
            : `to put the old file back anyway: ${put}`)
}

/**
 * Where a client's file really is, to write it there: a file kept elsewhere behind a link (a
 * dotfiles folder) is written through the link, so the link stays and the plaintext in its
 * target is replaced rather than left behind under the other name. A missing file is its own path.
 */
function through(file: string): string {
    try {
        return realpathSync(file)
    } catch {
        return file
    }
}

/** Writes the sealed backup of `file` beside it under a name nothing holds yet; returns that name. */
function keep(file: string, sealed: Uint8Array): string {
    const base = `${file}.mcplexer-${stamp()}`
    for (let n = 1; ; n++) {
        const name = `${base}${n === 1 ? "" : `-${n}`}.bak.age`
        if (atomic.writeNew(name, sealed)) return name
    }
}

/** The bytes of the file as it was before install, from its backup. */
async function old(p: config.Paths, backup: string, sealed: boolean | undefined): Promise<Buffer> {
    const bytes = await readFile(backup)
    return sealed ? secrets.unseal(p, bytes, backup) : bytes
}

function known(name: string): clients.Client {
    if (clients.known(name)) return name
    throw new UsageError(`unknown client "${name}"`, `clients: ${clients.names.join(", ")}`)
}

/**
 * How the client starts this mcplexer: the installed `mcplexer` by its absolute path, or, run from
 * a checkout, Node with the entry file. MCPLEXER_* variables only where they differ from the defaults.
 */
export function self(p: config.Paths, env: NodeJS.ProcessEnv): clients.Launch {
    const script = resolve(process.argv[1] ?? "")
    const real = existsSync(script) ? realpathSync(script) : script
    const installed = real.split(sep).includes("node_modules") && !script.endsWith(".js")
    const fallback = config.paths({ HOME: env.HOME })
    const vars: Record<string, string> = {}
    if (p.home !== fallback.home) vars.MCPLEXER_HOME = p.home
    const under = config.paths({ HOME: env.HOME, MCPLEXER_HOME: p.home })
    if (p.config !== under.config) vars.MCPLEXER_CONFIG = p.config
    if (p.db !== under.db) vars.MCPLEXER_DB = p.db
    if (p.key !== under.key) vars.MCPLEXER_AGE_KEY = p.key
    return installed ? { command: script, args: ["serve"], env: vars } : { command: process.execPath, args: [real, "serve"], env: vars }
}

/** Warns about servers the file lists that config.yaml does not have yet (the backup keeps them). */
async function unimported(client: clients.Client, text: string, p: config.Paths, out: Output): Promise<void> {
    const have = existsSync(p.config) ? config.entries(await readFile(p.config, "utf8")).servers : new Map()
    const missing = clients.listed(client, text).filter(n => n !== clients.self && !have.has(clients.safe(n)))
    if (missing.length === 0) return
    out.warn(`not imported into mcplexer yet: ${missing.join(", ")}`)
    out.hint(`mcplexer import ${client} moves them; the backup keeps them meanwhile`)
}

function stamp(): string {
    return new Date().toISOString().replace(/[-:]/g, "").replace(/\.(\d+)Z$/, "$1Z")
}

function sha(b: Buffer): string {
    return createHash("sha256").update(b).digest("hex")
}

function ledger(p: config.Paths): string {
    return join(p.home, "installs.json")
}

async function records(p: config.Paths): Promise<Record<string, Record_>> {
    const f = ledger(p)
    return existsSync(f) ? JSON.parse(await readFile(f, "utf8")) as Record<string, Record_> : {}
}

async function remember(p: config.Paths, file: string, r: Record_): Promise<void> {
    const state = await records(p)
    state[file] = r
    await save(p, state)
}

async function save(p: config.Paths, state: Record<string, Record_>): Promise<void> {
    await mkdir(p.home, { recursive: true, mode: 0o700 })
    atomic.writeOver(ledger(p), JSON.stringify(state, null, 2) + "\n")
}
