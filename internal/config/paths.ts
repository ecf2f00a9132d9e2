import { homedir } from "node:os"
import { join, resolve } from "node:path"

/** Where mcplexer keeps its files on this machine. */
export interface Paths {
    home: string
    config: string
    db: string
    key: string
    /** the identity path came from MCPLEXER_AGE_KEY: never create it, a missing file is an error */
    keyExplicit: boolean
}

/**
 * MCPLEXER_HOME (default ~/.mcplexer), MCPLEXER_CONFIG, MCPLEXER_DB, MCPLEXER_AGE_KEY (keyExplicit = true when set).
 * `overrides.config` (the --config flag) wins over MCPLEXER_CONFIG. "~" means the HOME of `env`;
 * relative paths are resolved against the current directory. An empty variable counts as unset.
 */
export function paths(env: NodeJS.ProcessEnv = process.env, overrides: { config?: string } = {}): Paths {
    const user = env.HOME || homedir()
    const abs = (p: string) => resolve(expand(p, user))
    const home = env.MCPLEXER_HOME ? abs(env.MCPLEXER_HOME) : join(user, ".mcplexer")
    const config = overrides.config || env.MCPLEXER_CONFIG
    return {
        home,
        config: config ? abs(config) : join(home, "config.yaml"),
        db: env.MCPLEXER_DB ? abs(env.MCPLEXER_DB) : join(home, "mcplexer.db"),
        key: env.MCPLEXER_AGE_KEY ? abs(env.MCPLEXER_AGE_KEY) : join(home, "age.key"),
        keyExplicit: Boolean(env.MCPLEXER_AGE_KEY),
    }
}

/** Replaces a leading "~" or "~/" with `home`; "~user" is left alone. */
export function expand(path: string, home: string): string {
    if (path === "~") return home
    if (path.startsWith("~/")) return join(home, path.slice(2))
    return path
}
