import { chmodSync, existsSync, statSync } from "node:fs"
import { mkdir } from "node:fs/promises"
import { dirname } from "node:path"
import * as atomic from "../config/atomic.ts"
import * as config from "../config/index.ts"
import * as secrets from "../secrets/index.ts"
import { type Output } from "./output.ts"

/** Where to set up. */
export interface InitOptions { paths: config.Paths; json?: boolean; pq?: boolean }

/**
 * Creates what is missing of home, key, database and config, and changes nothing that exists.
 */
export async function init(o: InitOptions, out: Output): Promise<void> {
    const p = o.paths
    await mkdir(p.home, { recursive: true, mode: 0o700 })
    tighten(p.home, out)
    const key = await secrets.init(p, o.pq ? { pq: true } : {})
    const dbCreated = !existsSync(p.db)
    secrets.open(p, { actor: "cli" }).close()
    const configCreated = await writeNew(p.config, config.starter)
    const made = [key.created && "key", dbCreated && "database", configCreated && "config"].filter(Boolean)
    if (o.json) {
        out.out(`${JSON.stringify({
            home: p.home, config: p.config, database: p.db, key: key.path, recipient: key.recipient, pq: key.pq,
            created: { key: key.created, database: dbCreated, config: configCreated },
        })}\n`)
    } else out.out([
        `home      ${p.home}`,
        `config    ${p.config}${configCreated ? "  (created)" : ""}`,
        `database  ${p.db}${dbCreated ? "  (created)" : ""}`,
        `key       ${key.path}${key.created ? "  (created)" : ""}`,
        `public    ${key.recipient}`,
    ].join("\n") + "\n")
    for (const problem of config.guard.file(p.config)) {
        out.warn(problem.message)
        out.hint(problem.hint)
    }
    if (o.pq && !key.created && !key.pq) {
        out.warn(`the key ${key.path} already exists and is not post-quantum: it was left as it is`)
        out.hint("to move every secret to a new post-quantum key: mcplexer key rotate --pq")
    }
    if (made.length === 0) out.info("already set up: nothing changed")
    else out.hint(`back up ${key.path}: without it, the stored secrets cannot be decrypted`)
}

/** Writes a file only if none exists there; returns whether it did. */
async function writeNew(path: string, text: string): Promise<boolean> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 })
    return atomic.writeNew(path, text)
}

/**
 * Gives an existing home folder the mode 0700 it is created with, saying so; one owned by
 * another user cannot be fixed from here and is refused.
 */
function tighten(home: string, out: Output): void {
    const st = statSync(home)
    const problem = config.guard.loose("home folder", home, st)
    if (problem?.foreign) throw config.hinted(problem.message, problem.hint)
    const mode = st.mode & 0o777
    if (!(mode & 0o077)) return
    chmodSync(home, 0o700)
    out.info(`tightened home folder ${home} from mode ${mode.toString(8).padStart(4, "0")} to 0700`)
}
