import assert from "node:assert/strict"
import { test } from "node:test"
import * as config from "../../internal/config/index.ts"

test("durations with a unit become milliseconds", () => {
    assert.equal(config.duration("500ms"), 500)
    assert.equal(config.duration("90s"), 90_000)
    assert.equal(config.duration("10m"), 600_000)
    assert.equal(config.duration("1h"), 3_600_000)
    assert.equal(config.duration("90d"), 90 * 86_400_000)
    assert.equal(config.duration("1.5s"), 1500)
    assert.equal(config.duration("1h30m"), 5_400_000)
    assert.equal(config.duration(" 2m "), 120_000)
})

test("a bare number counts seconds", () => {
    assert.equal(config.duration(90), 90_000)
    assert.equal(config.duration("90"), 90_000)
    assert.equal(config.duration(0.25), 250)
    assert.equal(config.duration(0), 0)
})

test("anything else is an error with a hint", () => {
    for (const bad of ["", "10 minutes", "1w", "-5s", "s", "1h 30m", "ms", "1.s", "1e3"]) {
        assert.throws(() => config.duration(bad), (e: Error & { hint?: string }) => {
            assert.equal(e.message, `invalid duration ${JSON.stringify(bad)}`)
            assert.match(e.hint ?? "", /500ms, 90s, 10m, 1h, 7d/)
            return true
        }, bad)
    }
    assert.throws(() => config.duration(-1), /invalid duration -1/)
    assert.throws(() => config.duration(Number.NaN), /invalid duration/)
})
