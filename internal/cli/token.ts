import type * as config from "../config/index.ts"
import * as httpapi from "../httpapi/index.ts"
import { exit, type Output } from "./output.ts"

/** What `mcplexer token` is asked. */
export interface TokenOptions { paths: config.Paths; rotate: boolean }

/**
 * Prints the API token of `serve --http` (stdout, for scripts), creating it on first need;
 * `rotate` replaces it. Where it lives and how to use it go to stderr.
 */
export function token(o: TokenOptions, out: Output): Promise<number> {
    const t = o.rotate ? { ...httpapi.rotate(o.paths), created: true } : httpapi.token(o.paths)
    out.out(`${t.token}\n`)
    if (o.rotate) out.info(`replaced ${t.path}: restart serve --http, then give clients the new token`)
    else if (t.created) out.info(`created ${t.path}`)
    if (out.tty) out.info("send it as Authorization: Bearer <token>, or paste it into the web UI's login page")
    return Promise.resolve(exit.ok)
}
