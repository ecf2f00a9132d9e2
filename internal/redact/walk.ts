import { failed } from "./spans.ts"

// deeper than any JSON-RPC message; a deeper branch is replaced whole, never passed on unscrubbed
const maxDepth = 200

/**
 * Applies `scrub` to every string inside plain objects and arrays, object keys included, in document
 * order (a key before its value). Returns `v` itself when nothing changed, else a copy of only the
 * parts that changed. Other objects (Date, Buffer, class instances) are returned as they are.
 */
export function walk(v: unknown, scrub: (s: string) => string, depth = 0): unknown {
    if (typeof v === "string") return scrub(v)
    if (typeof v !== "object" || v === null) return v
    if (depth > maxDepth) return failed
    if (Array.isArray(v)) {
        let out: unknown[] | undefined
        for (let i = 0; i < v.length; i++) {
            const x: unknown = v[i]
            const y = walk(x, scrub, depth + 1)
            if (y !== x && out === undefined) out = v.slice(0, i)
            if (out !== undefined) out.push(y)
        }
        return out ?? v
    }
    const proto = Object.getPrototypeOf(v) as unknown
    if (proto !== Object.prototype && proto !== null) return v
    const o = v as Record<string, unknown>
    let out: Record<string, unknown> | undefined
    const keys = Object.keys(o)
    for (let i = 0; i < keys.length; i++) {
        const k = keys[i]!
        const x = o[k]
        const k2 = scrub(k)
        const y = walk(x, scrub, depth + 1)
        if ((y !== x || k2 !== k) && out === undefined) {
            out = {}
            for (let j = 0; j < i; j++) define(out, keys[j]!, o[keys[j]!])
        }
        if (out !== undefined) define(out, k2, y)
    }
    return out ?? v
}

/** A key like "__proto__" must become an own property of the copy, not its prototype. */
function define(o: Record<string, unknown>, k: string, v: unknown): void {
    if (k === "__proto__") Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true })
    else o[k] = v
}
