/**
 * The config boundary: config.example.yaml and small generated configs, mutated at random (bytes
 * cut, repeated, replaced with YAML's special characters, lines swapped, anchors and aliases,
 * long names, deep nesting, extglobs). What must hold for every text: it loads, or it fails with a
 * config.ConfigError (never another error), in bounded time.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import * as fc from "fast-check"
import * as config from "../../internal/config/index.ts"
import type { Property } from "./kit.ts"

const example = readFileSync(join(import.meta.dirname, "..", "..", "config.example.yaml"), "utf8")

// the characters that mean something to YAML, or to our templates and patterns
const special = ":-?[]{},&*!|>'\"%@`#\n \t\\$+()^~._/"
const piece = fc.oneof(
    fc.string({ unit: fc.constantFrom(...special.split("")), maxLength: 6 }),
    fc.string({ maxLength: 8 }),
    fc.constantFrom("${secret:", "${env:HOME}", "${secret:linear/KEY}", "&a ", "*a", "<<: *a", "__proto__", "constructor", "~", "null", "!!str ",
        "+(", "@(a|b)", "**", "{a,b}", "[a-z]", "0x1F", "1e9", "24d", "999999999999d", "---\n", "...\n", "? ", "\t", "\r\n", "\u0000", "\u2028"),
)

type Edit = { at: number; kind: "cut"; len: number } | { at: number; kind: "put"; text: string } | { at: number; kind: "repeat"; len: number; times: number } | { at: number; kind: "swap" }

const edit: fc.Arbitrary<Edit> = fc.oneof(
    fc.record({ at: fc.nat(), kind: fc.constant("cut" as const), len: fc.integer({ min: 1, max: 40 }) }),
    fc.record({ at: fc.nat(), kind: fc.constant("put" as const), text: piece }),
    fc.record({ at: fc.nat(), kind: fc.constant("repeat" as const), len: fc.integer({ min: 1, max: 12 }), times: fc.oneof({ arbitrary: fc.integer({ min: 2, max: 20 }), weight: 9 }, { arbitrary: fc.integer({ min: 2, max: 3000 }), weight: 1 }) }),
    fc.record({ at: fc.nat(), kind: fc.constant("swap" as const) }),
)

function apply(text: string, e: Edit): string {
    const at = text.length === 0 ? 0 : e.at % (text.length + 1)
    switch (e.kind) {
        case "cut": return text.slice(0, at) + text.slice(at + e.len)
        case "put": return text.slice(0, at) + e.text + text.slice(at)
        case "repeat": return text.slice(0, at) + text.slice(at, at + e.len).repeat(e.times) + text.slice(at + e.len)
        case "swap": {
            const lines = text.split("\n")
            const i = e.at % lines.length, j = (i + 1) % lines.length
            ;[lines[i], lines[j]] = [lines[j] ?? "", lines[i] ?? ""]
            return lines.join("\n")
        }
    }
}

// small configs: known keys and wrong ones, values of every YAML kind, written as JSON (which is YAML)
const keys = ["auth_scopes", "servers", "workspaces", "default", "audit", "description", "command", "args", "env", "cwd", "max_line", "url", "headers",
    "inject", "oauth", "scope", "scopes", "prefix", "idle_timeout", "timeout", "root", "routes", "tools", "server", "action", "approval", "lease",
    "approval_timeout", "retention", "gh", "acme", "s", "w", "TOKEN", "__proto__"]
const value: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>(tie => ({
    v: fc.oneof({ depthSize: "small", withCrossShrink: true },
        fc.constantFrom(null, true, false, 0, -1, 1.5, 1e21, "", "npx", "https://example.com/mcp", "/w", "~/w", "github__*", "10m", "90d", "deny", "all", "headers", "${secret:TOKEN}"),
        fc.string({ maxLength: 12 }),
        fc.array(tie("v"), { maxLength: 4 }),
        fc.dictionary(fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 6 })), tie("v"), { maxKeys: 5 })),
})).v
const generated = fc.dictionary(fc.constantFrom("auth_scopes", "servers", "workspaces", "default", "audit"), value, { maxKeys: 5 })
    .map(o => JSON.stringify(o, null, 1))

/** Loads `text`, failing the property on anything but success or a ConfigError, or on a slow load. */
function holds(text: string): void {
    const t = performance.now()
    try {
        config.parse(text, "/tmp/fuzz/config.yaml", { env: { HOME: "/home/fuzz" } })
    } catch (e) {
        if (!(e instanceof config.ConfigError)) throw new Error(`not a ConfigError: ${String(e)}`, { cause: e })
        if (!e.hint) throw new Error(`a ConfigError without a hint: ${e.message}`)
    }
    // the property timeout cannot interrupt a synchronous parse: this says it was slow all the
    // same. Linear in the text, generously (a text of errors costs ~25 µs a character here): a
    // quadratic path takes minutes on the texts the repeats make
    const ms = performance.now() - t
    if (ms > 1000 + text.length / 10) throw new Error(`parsing ${text.length} characters took ${ms.toFixed(0)} ms`)
}

export default [
    {
        name: "a mutated config.example.yaml loads or fails with a ConfigError, in bounded time",
        // async, so the property's timeout applies (it cannot stop a synchronous parse: see holds)
        make: () => fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 6 }), edits => Promise.resolve().then(() => holds(edits.reduce(apply, example)))),
        runs: 120,
        timeout: 10_000,
    },
    {
        name: "a small generated config, mutated, loads or fails with a ConfigError, in bounded time",
        make: () => fc.asyncProperty(generated, fc.array(edit, { maxLength: 3 }), (text, edits) => Promise.resolve().then(() => {
            holds(text)
            holds(edits.reduce(apply, text))
        })),
        runs: 200,
        timeout: 10_000,
    },
] satisfies Property[]
