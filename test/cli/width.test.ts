import assert from "node:assert/strict"
import { test } from "node:test"
import width from "../../internal/cli/width.ts"

test("the help layout's width counts what a terminal shows", () => {
    assert.equal(width("mcplexer secret put"), 19)
    assert.equal(width("\u001b[1mbold\u001b[22m"), 4)
    assert.equal(width("日本"), 4)
    assert.equal(width("café"), 4)
    assert.equal(width("e\u0301"), 1)
})
