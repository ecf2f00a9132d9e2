/** `npm run bench`: every benchmark, each printing ratios against a baseline measured in the same run. */
import * as gateway from "./gateway.ts"
import * as http from "./http.ts"
import * as redact from "./redact.ts"
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
if (!only || only === "http") { console.log("## http (200 sessions, 30 s)"); await http.run() }
if (!only || only === "redact") { console.log("## redaction (20 values)"); redact.run() }
