/**
 * A typo in the config must not hang mcplexer (issue 19): aliases resolve in one walk and may not
 * expand without bound, "did you mean" compares only what can be close, tool patterns and YAML
 * nesting have caps, and a name an object would swallow is refused. The slow cases run in a child
 * with a generous time limit, so a regression fails instead of blocking the suite for minutes.
 */
import assert from "node:assert/strict"
import { spawn } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { test } from "node:test"
import { fileURLToPath } from "node:url"
import * as config from "../../internal/config/index.ts"
import { temp } from "../helpers.ts"

interface Outcome { cpu: number; error?: { name: string; message: string; hint: string; at: string } }

/** In the child: parse the file `runs` times, keep the least CPU time and the error, if any. */
function child(file: string, runs: number): void {
    const text = readFileSync(file, "utf8")
    const out: Outcome = { cpu: Infinity }
    for (let i = 0; i < runs; i++) {
        const t = process.cpuUsage()
        try {
            config.parse(text, "/tmp/config.yaml")
        } catch (e) {
            const c = e as config.ConfigError
            out.error = { name: c.name, message: c.message, hint: c.hint, at: `${c.line}:${c.col}` }
        }
        const used = process.cpuUsage(t)
        out.cpu = Math.min(out.cpu, (used.user + used.system) / 1000)
    }
    process.stdout.write(JSON.stringify(out))
}

/** Parses `text` in a child, `runs` times; fails when that takes longer than `limit` ms in all. */
async function bounded(text: string, o: { runs?: number; limit?: number } = {}): Promise<Outcome> {
    const file = join(temp(), "config.yaml")
    writeFileSync(file, text)
    const limit = o.limit ?? 60_000
    const c = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url)], {
        env: { ...process.env, MCPLEXER_TEST_PARSE: file, MCPLEXER_TEST_RUNS: String(o.runs ?? 1) },
        stdio: ["ignore", "pipe", "inherit"],
        timeout: limit,
    })
    let out = ""
    c.stdout.setEncoding("utf8").on("data", (d: string) => { out += d })
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>(done => c.on("close", (code, signal) => done([code, signal])))
    assert.equal(signal, null, `parsing did not end within ${limit / 1000} s (or the child crashed): ${signal}`)
    assert.equal(code, 0, "the child failed")
    return JSON.parse(out) as Outcome
}

function refused(o: Outcome): NonNullable<Outcome["error"]> {
    assert.ok(o.error, "the config loaded")
    assert.equal(o.error.name, "ConfigError")
    assert.doesNotMatch(o.error.message, /\.$|^[A-Z]/)
    assert.ok(o.error.hint.length > 0)
    return o.error
}

function fails(text: string): config.ConfigError {
    try {
        config.parse(text, "/tmp/config.yaml")
    } catch (e) {
        assert.ok(e instanceof config.ConfigError, `not a ConfigError: ${String(e)}`)
        return e
    }
    assert.fail("config loaded without an error")
}

const at = (e: config.ConfigError) => `${e.line}:${e.col}`

const scopes = (n: number) => ["auth_scopes:", ...Array.from({ length: n }, (_, i) => `  s${i}: { description: scope ${i} }`)].join("\n") + "\n"
const aliases = (n: number) => ["auth_scopes:", "  a: &x { description: shared }", ...Array.from({ length: n }, (_, i) => `  s${i}: *x`)].join("\n") + "\n"
const route = (tools: string, more = "") => `auth_scopes:\n${Array.from({ length: 200 }, (_, i) => `  scope-number-${i}: {}`).join("\n")}\nworkspaces:\n  w:\n    root: /w\n    routes:\n      - { tools: [${tools}]${more} }\n`

if (process.env.MCPLEXER_TEST_PARSE) child(process.env.MCPLEXER_TEST_PARSE, Number(process.env.MCPLEXER_TEST_RUNS))
else {
    test("8,000 aliases load in about the time of 8,000 written-out scopes", async () => {
        // each alias was resolved by a walk of the whole document: 17 s, against 0.3 s written out
        const [plain, aliased] = [await bounded(scopes(8000), { runs: 3 }), await bounded(aliases(8000), { runs: 3 })]
        assert.equal(plain.error, undefined)
        assert.equal(aliased.error, undefined)
        const ratio = aliased.cpu / plain.cpu
        console.log(`8k scopes ${plain.cpu.toFixed(0)} ms of CPU, 8k aliases ${aliased.cpu.toFixed(0)} ms: ${ratio.toFixed(2)}x`)
        assert.ok(ratio < 4, `8k aliases took ${ratio.toFixed(1)}x the time of 8k scopes`)
    })

    test("aliases of aliases that would expand past the cap are refused at the alias", async () => {
        const ten = (name: string, item: string) => `&${name} [${Array(10).fill(item).join(", ")}]`
        const text = [
            "servers:",
            "  s:",
            "    command: x",
            `    args: ${ten("a", "x")}`,
            `    env: { B: ${ten("b", "*a")}, C: ${ten("c", "*b")}, D: ${ten("d", "*c")}, E: ${ten("e", "*d")}, F: ${ten("f", "*e")}, G: ${ten("g", "*f")} }`,
        ].join("\n") + "\n"
        const e = refused(await bounded(text))
        assert.equal(e.message, "aliases expand the config past 100000 values")
        assert.match(e.at, /^5:\d+$/)
        // one big map shared by many servers: each alias had the reader walk it again
        const vars = Array.from({ length: 5000 }, (_, i) => `V${i}: x`).join(", ")
        const shared = ["servers:", `  s0: { command: x, env: &e { ${vars} } }`, ...Array.from({ length: 2000 }, (_, i) => `  s${i + 1}: { command: x, env: *e }`)].join("\n") + "\n"
        const wide = refused(await bounded(shared))
        assert.equal(wide.message, "aliases expand the config past 100000 values")
        // each alias adds the map's 10,000 keys and values: the eleventh passes the cap
        assert.equal(wide.at, "13:27")
        assert.match(wide.hint, /write the shared part out/)
    })

    test("anchors and aliases still share a value, even one that holds itself", () => {
        const c = config.parse("servers:\n  a: { command: x, env: &env { LEVEL: debug } }\n  b: { command: y, env: *env }\n", "/tmp/config.yaml")
        const b = c.servers.get("b")
        assert.equal(b?.kind, "stdio")
        assert.deepEqual(b.env, { LEVEL: "debug" })
        // an anchor redefined later: each alias takes the last one before it
        const r = config.parse("servers:\n  a: { command: &c one }\n  b: { command: *c }\n  c: { command: &c two }\n  d: { command: *c }\n", "/tmp/config.yaml")
        assert.deepEqual([...r.servers.values()].map(s => s.kind === "stdio" ? s.command : ""), ["one", "one", "two", "two"])
        assert.equal(fails("servers: &s { s: { command: x, env: *s } }\n").message, 'server "s": "env.s" must be a string')
    })

    test("a 40,000-character undeclared scope is refused in about the time of a short one", async () => {
        // "did you mean" computed the whole edit-distance table against every declared scope: 50 s
        const [l, s] = [await bounded(route('"a"', `, scope: ${"a".repeat(40_000)}`), { runs: 3 }), await bounded(route('"a"', `, scope: ${"a".repeat(40)}`), { runs: 3 })]
        const [long, short] = [refused(l), refused(s)]
        assert.match(long.message, /^route 1 of workspace "w": scope "a{40000}" is not declared$/)
        assert.doesNotMatch(long.hint, /did you mean/)
        const ratio = l.cpu / s.cpu
        console.log(`a 40,000-character scope took ${ratio.toFixed(2)}x a 40-character one`)
        assert.ok(ratio < 10, `a 40,000-character scope took ${ratio.toFixed(1)}x a 40-character one`)
        assert.equal(short.at, long.at)
        // a near typo is still suggested
        assert.match(fails(route('"a"', ", scope: scope-numbr-7")).hint, /^did you mean "scope-number-7"\?/)
    })

    test("a nested extglob is refused before it is compiled", async () => {
        // picomatch took 175 s on +( 5,000 deep
        const deep = refused(await bounded(route(JSON.stringify(`${"+(".repeat(5000)}a${")".repeat(5000)}`))))
        assert.equal(deep.message, 'route 1 of workspace "w": a tool pattern is longer than 1024 characters')
        assert.equal(deep.at, "206:19")
        const nine = fails(route(JSON.stringify(`${"+(".repeat(9)}a${")".repeat(9)}`)))
        assert.match(nine.message, /tool pattern "\+\(\+\(.*" nests groups more than 8 deep$/)
        assert.match(nine.hint, /several patterns/)
        assert.equal(at(nine), "206:19")
        // eight levels, and a long list of names in one brace, are fine
        config.parse(route(JSON.stringify(`${"+(".repeat(8)}a${")".repeat(8)}`)), "/tmp/config.yaml")
        config.parse(route(JSON.stringify(`github__{${Array.from({ length: 60 }, (_, i) => `tool_${i}`).join(",")}}`)), "/tmp/config.yaml")
        // an escaped parenthesis does not count
        config.parse(route(JSON.stringify(`a${"\\(".repeat(20)}`)), "/tmp/config.yaml")
    })

    test("YAML nested a hundred thousand lists deep is refused where it goes too deep", async () => {
        // yaml composes recursively: at this depth Node aborted the whole process
        const e = refused(await bounded(`servers: ${"[".repeat(100_000)}${"]".repeat(100_000)}\n`))
        assert.equal(e.message, "collections nest more than 64 levels deep")
        assert.equal(e.at, "1:74")
        assert.match(fails(`servers:\n  s: { command: x, args: ${"[".repeat(65)}${"]".repeat(65)} }\n`).message, /nest more than 64/)
        // brackets inside a string are text
        config.parse(`servers:\n  s: { command: x, args: ["${"[".repeat(100)}", '${"{".repeat(100)}'] }\n`, "/tmp/config.yaml")
    })

    test("what fuzzing found: block maps nested on one line, and a malformed reference in command, are ConfigErrors", () => {
        // yaml's parser recursed once per "key: " and overflowed the stack (a RangeError)
        // a ConfigError either way: the depth cap where yaml's recursion overflows, else yaml's own
        // syntax error (which one depends on the stack left to the parser: it varied between runs)
        const deep = fails(`{\n "auth_scopes": ${"h_scopes\": ".repeat(2285)}"10m"\n}`)
        assert.match(deep.message, /^(collections nest more than 64 levels deep|nested mappings are not allowed in compact mappings)$/)
        assert.equal(fails(`servers: ${"- ".repeat(100)}x\n`).message, "collections nest more than 64 levels deep")
        // the template error escaped as a plain Hinted error
        const ref = fails("servers:\n  s: { command: \"run ${secret:x\" }\n")
        assert.equal(ref.message, 'server "s": "command" cannot hold references')
        assert.equal(at(ref), "2:17")
    })

    test("a variable or header named __proto__ is refused, not silently dropped", () => {
        const env = fails("servers:\n  s:\n    command: x\n    env: { __proto__: yes, A: b }\n")
        assert.equal(env.message, 'server "s": environment variable name "__proto__" is reserved')
        assert.equal(at(env), "4:12")
        const quoted = fails("servers:\n  s:\n    command: x\n    env:\n      \"__proto__\": \"1\"\n")
        assert.equal(at(quoted), "5:7")
        const header = fails("servers:\n  r:\n    url: https://example.com/mcp\n    headers: { __proto__: x }\n")
        assert.equal(header.message, 'server "r": header name "__proto__" is reserved')
    })
}
