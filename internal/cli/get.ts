/**
 * `mcplexer secret get`, alone in its file: scripts run it once per value, so its chunk loads
 * neither yargs (main.ts skips it for this plain form), drizzle nor typage.
 */
import type * as config from "../config/index.ts"
import * as secrets from "../secrets/read.ts"
import { type Output } from "./output.ts"

/** Which secret to read. */
export interface GetOptions { paths: config.Paths; scope: string; key: string }

/** Prints one value: exactly its bytes when piped, with a newline after them on a terminal. */
export async function get(o: GetOptions, out: Output): Promise<void> {
    const value = await secrets.read(o.paths, o.scope, o.key, { actor: "cli" })
    out.out(value)
    if (out.tty) out.out("\n")
}
