/**
 * A plain `mcplexer serve`, as AI clients start it: the front (gateway/front.ts) answers the
 * client's first requests from the answers saved last time, and only then is the gateway, with
 * the SDK, zod, drizzle and yaml, loaded to take the connection over. This file and what it
 * imports stay small: it is the whole start a client waits for.
 */
import type * as config from "../config/index.ts"
import * as gateway from "../gateway/front.ts"
import { exit, type Output } from "./output.ts"

/** Serves stdio until the client goes away, as serve.ts does, with the front first. */
export async function serve(paths: config.Paths, out: Output): Promise<number> {
    const transport = new gateway.Stdio()
    const front = new gateway.Front({ transport, paths, cwd: process.cwd() })
    // the transport does not watch for the end of input: without this, a client gone before the
    // hand-over left `done` pending and node exited 13
    const ended = () => { front.handoff() }
    process.stdin.once("end", ended)
    await front.start()
    await front.done
    process.stdin.off("end", ended)
    const replay = front.handoff()
    if (process.stdin.readableEnded && replay.initialize === undefined && replay.pending.length === 0) return exit.ok
    return (await import("./serve.ts")).serve({ paths, level: "info", front: { transport, replay } }, out)
}
