/**
 * One client process of `http-compare`'s bursts from several clients: forked by bench/http.ts with
 * a front's link, it connects its own SDK client, then runs each burst it is sent and says when it
 * is done. A process of its own, not a thread of the bench: so that the clients' CPU (the SDK
 * client spends more per call than `serve` does) is spread as a team's separate clients spread it.
 * The bench ends it with SIGTERM.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { call, transport, type Answer, type Order } from "./echo.ts"

let client: Client | undefined
let tool = ""

const answer = (a: Answer) => process.send?.(a)

process.on("message", (o: Order) => {
    void (async () => {
        if ("link" in o) {
            client = new Client({ name: "mcplexer-bench-caller", version: "0.0.0" })
            await client.connect(transport(o.link))
            tool = o.tool
            for (let i = 0; i < 200; i++) await call(client, tool, "warm")
            return answer("ready")
        }
        let next = 0, retried = 0
        await Promise.all(Array.from({ length: o.inflight }, async () => {
            while (next++ < o.total) retried += await call(client!, tool, "burst")
        }))
        answer({ done: true, retried })
    })().catch((e: unknown) => {
        process.stderr.write(`caller: ${e instanceof Error ? e.message : String(e)}\n`)
        process.exit(1)
    })
})
