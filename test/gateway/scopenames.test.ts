/**
 * The naming rule that keeps a route's scope on its server, as a property over random catalogs: a
 * prefix-less server never holds a name in another server's namespace, and a server's own prefixed
 * name is never taken from it by a bare one.
 */
import assert from "node:assert/strict"
import { test } from "node:test"
import fc from "fast-check"
import * as names from "../../internal/gateway/names.ts"

const server = fc.constantFrom("alpha", "beta", "github", "gh", "x")
// originals built from pieces that make "__", cleaning ("." → "_"), trailing "_" and long names likely
const piece = fc.constantFrom("alpha", "beta", "github", "gh", "x", "__", "_", ".", "emit", "a", "write", "y".repeat(30))
const original = fc.array(piece, { minLength: 1, maxLength: 5 }).map(p => p.join(""))
const item = fc.record({ server, original, prefix: fc.boolean() })

test("no prefix-less server gets another's namespace, and prefixed names stay their server's", () => {
    fc.assert(fc.property(fc.array(item, { maxLength: 30 }), raw => {
        // one prefix setting per server, as a config has it
        const prefix = new Map<string, boolean>()
        for (const r of raw) if (!prefix.has(r.server)) prefix.set(r.server, r.prefix)
        const items = raw.map(r => ({ server: r.server, original: r.original, prefix: prefix.get(r.server) ?? true, item: null }))
        const t = names.build("tool", items)
        const exposed = t.list.map(n => n.exposed)
        assert.equal(new Set(exposed).size, exposed.length, "names are unique")
        for (const n of t.list) {
            assert.match(n.exposed, names.valid)
            const ns = n.exposed.includes("__") ? n.exposed.slice(0, n.exposed.indexOf("__")) : undefined
            if (ns !== undefined) assert.equal(ns, n.server, `${n.exposed} of ${n.server}`)
        }
        // a prefixed name no other item of its own server shares is exactly its natural name
        const naturals = items.filter(i => i.prefix).map(i => ({ i, n: names.natural(i.server, i.original, true) }))
        for (const { i, n } of naturals) {
            const rivals = naturals.filter(o => o.n === n && o.i.original !== i.original)
            if (rivals.length > 0) continue
            assert.equal(t.byName.get(n)?.server, i.server, `${n} stays with ${i.server}`)
        }
    }), { numRuns: 300 })
})
