/** `npm run bench`: every benchmark, each printing ratios against a baseline measured in the same run. */
import * as gateway from "./gateway.ts"
import * as http from "./http.ts"
import * as redact from "./redact.ts"
import * as search from "./search.ts"
import * as secrets from "./secrets.ts"

const only = process.argv[2]
if (!only || only === "secrets") {
    console.log("## secret store")
    await secrets.run()
}
if (!only || only === "gateway") {
    console.log("## gateway")
    await gateway.run()
}
if (!only || only === "http") { console.log("## http"); await http.run() }
if (only === "http-compare") { console.log("## http"); console.log(await http.compare()) }
if (!only || only === "redact") { console.log("## redaction (20 values)"); redact.run() }
if (!only || only === "search") { console.log("## tool search (12 reference servers)"); await search.run() }
// a peer's client (the SSE one) can keep a handle open after close: end when the figures are out
process.exit(process.exitCode ?? 0)
