/**
 * The load test of issue 5, shortened: 200 concurrent Streamable HTTP sessions calling a tool for
 * 10 seconds through one `serve --http --stdio`, then its stdio path under as many calls in
 * flight. The 30-second run is `npm run bench http` (bench/http.ts).
 */
import assert from "node:assert/strict"
import { test } from "node:test"
import { load, report } from "../../bench/http.ts"

test("200 HTTP sessions calling for 10 seconds are all held and served without an error", { timeout: 120_000 }, async () => {
    const r = await load({ sessions: 200, seconds: 10 })
    console.log(report(r))
    assert.equal(r.errors, 0, r.firstError)
    assert.equal(r.held, 200)
    assert.ok(r.calls >= r.sessions, `only ${r.calls} calls`)
    assert.equal(r.stdio.errors, 0)
})
