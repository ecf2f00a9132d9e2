import assert from "node:assert/strict"
import { randomBytes } from "node:crypto"
import { test } from "node:test"
import * as redact from "../../internal/redact/index.ts"

// made at run time, so no fixture can hold it; ">?~" make base64 carry "+" and "/" at every alignment
const secret = `s3cr3t>?~${randomBytes(9).toString("hex")}>>??~~`

function registry(...values: string[]): redact.Registry {
    const r = redact.create()
    r.add(...values)
    return r
}

test("a 1 MB value of every printable character is masked", () => {
    const big = Array.from({ length: 1 << 20 }, (_, i) => String.fromCharCode(33 + ((i * 7919) % 94))).join("")
    const r = registry(big)
    assert.equal(r.scrub(`a${big}b`), "a[redacted]b")
    assert.equal(r.scrub(`a ${Buffer.from(big).toString("base64")} b`), "a [redacted] b", "its forms too")
    assert.equal(r.scrub(`a ${Buffer.from(big).toString("hex")} b`), "a [redacted] b")
    assert.equal(r.scrub(`${big.slice(0, -1)}`), big.slice(0, -1), "a value short of its last character is no value")
})

test("a 40 KiB run of one character is masked, alone and inside a longer run", () => {
    const run = "a".repeat(40 * 1024)
    const r = registry(run)
    assert.equal(r.scrub(`x${run}y`), "x[redacted]y")
    assert.equal(r.scrub(`x${run}aaaa`), "x[redacted]", "overlapping occurrences are one mask")
    assert.equal(r.scrub(run.slice(1)), run.slice(1))
})

test("each line of a multi-line value (a 4-line PEM) is masked in a line stream", () => {
    const pem = ["-----BEGIN TEST KEY-----", randomBytes(48).toString("base64"), randomBytes(48).toString("base64"), "-----END TEST KEY-----"].join("\n")
    const r = registry(pem)
    const out: string[] = []
    const s = redact.lines(r, l => out.push(l))
    s.write(`key:\n${pem}\ndone\n`)
    assert.deepEqual(out, ["key:", "[redacted]", "[redacted]", "[redacted]", "[redacted]", "done"])
    out.length = 0
    for (const line of pem.split("\n")) s.write(`> ${line}\n`)
    s.end()
    assert.deepEqual(out, ["> [redacted]", "> [redacted]", "> [redacted]", "> [redacted]"])
})

test("base64 at the three byte alignments, both alphabets, padded or not, Basic auth included", () => {
    const r = registry(secret)
    for (const pre of ["", "u", "us", "user:"]) {
        for (const post of ["", "x", "xy"]) {
            const data = Buffer.from(pre + secret + post)
            const std = data.toString("base64")
            const url = data.toString("base64url")
            assert.notEqual(std.replace(/=+$/, ""), url, "the alphabets differ for this value")
            for (const enc of [std, std.replace(/=+$/, ""), url]) {
                const out = r.scrub(`Authorization: Basic ${enc}`)
                const left = out.replace("Authorization: Basic ", "").split("[redacted]")
                assert.equal(left.length, 2, `${pre}|${post}: one mask in ${out}`)
                // what stays is the encoding of the neighbours and at most one character of mixed bits on each side
                assert.ok(left[0]!.length <= Math.ceil((pre.length * 4) / 3), `${pre}|${post}: ${out}`)
                assert.ok(left[1]!.length <= Math.ceil((post.length * 4) / 3) + 3, `${pre}|${post}: ${out}`)
                if (post === "") assert.equal(left[1], "", `the end of the data, padding included, is masked: ${out}`)
            }
        }
    }
})

test("a JSON-string-escaped value is masked, with non-ASCII escaped or not", () => {
    const v = `p"a\\ss\n\twörd-${secret}`
    const r = registry(v)
    assert.equal(r.scrub(JSON.stringify({ k: v })), `{"k":"[redacted]"}`)
    const ascii = JSON.stringify(v).replace(/[\u0080-\uffff]/g, c => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
    assert.notEqual(ascii, JSON.stringify(v))
    assert.equal(r.scrub(`{"k": ${ascii}}`), `{"k": "[redacted]"}`)
})

test("a URL-encoded value is masked: encodeURIComponent, RFC 3986 and form encoding", () => {
    const v = `a b&c=d/é+f!'(${secret})*`
    const r = registry(v)
    const rfc = encodeURIComponent(v).replace(/[!'()*]/g, c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    const form = new URLSearchParams({ q: v }).toString()
    assert.equal(r.scrub(`https://x.test/?q=${encodeURIComponent(v)}&n=1`), "https://x.test/?q=[redacted]&n=1")
    assert.equal(r.scrub(`https://x.test/?q=${rfc}&n=1`), "https://x.test/?q=[redacted]&n=1")
    assert.equal(r.scrub(`${form}&n=1`), "q=[redacted]&n=1")
})

test("a hex-encoded value is masked in lower and upper case", () => {
    const r = registry(secret)
    const hex = Buffer.from(secret).toString("hex")
    assert.equal(r.scrub(`0x${hex};`), "0x[redacted];")
    assert.equal(r.scrub(`0x${hex.toUpperCase()};`), "0x[redacted];")
})

test("a JSON.parse error quoting the start of a value is scrubbed", () => {
    const r = registry(secret)
    let msg = ""
    try {
        JSON.parse(`${secret} garbage after it`)
    } catch (e) {
        msg = (e as Error).message
    }
    assert.ok(msg.includes(secret.slice(0, 10)), "V8 quotes the start of the line")
    const out = r.scrub(msg)
    assert.ok(!out.includes(secret.slice(0, 4)), out)
    assert.match(out, /\[redacted\]/)
})

test("values and forms shorter than 4 characters are never registered", () => {
    const r = registry("abc", "🔑🔑🔑", "ab\ncd")
    assert.equal(r.size, 1)
    assert.equal(r.scrub("abc 🔑🔑🔑 ab cd ab\ncd"), "abc 🔑🔑🔑 ab cd [redacted]")
    assert.equal(redact.tooShort("abc"), true)
    assert.equal(redact.tooShort("🔑🔑🔑🔑"), false)
})

test("a value of any characters is masked in every form, lone surrogates and NUL included", () => {
    const v = `a\u0000\ud800b\udfffc🔑d\u2028${secret}`
    const r = registry("another-value", v)
    assert.equal(r.scrub(`x${v}y`), "x[redacted]y")
    assert.equal(r.scrub(JSON.stringify(v)), `"[redacted]"`)
    assert.equal(r.scrub(Buffer.from(v).toString("base64")), "[redacted]")
    assert.equal(r.scrub(new URLSearchParams({ q: v }).toString()), "q=[redacted]")
    const s = r.stream()
    assert.equal(s.scrub(`x${v.slice(0, 5)}`), "x[redacted]")
    r.remove("another-value") // a rebuild carries the stream's place through the lone surrogate
    assert.equal(s.scrub(`${v.slice(5)}y`), "[redacted]y")
})

/** The base64 characters that depend on the value's bytes alone, at each of the three alignments. */
function cores(v: string): string[] {
    const bytes = Buffer.from(v)
    return [0, 1, 2].map(k => Buffer.concat([Buffer.alloc(k), bytes]).toString("base64").slice(Math.ceil((8 * k) / 6), Math.floor((8 * k + 8 * bytes.length) / 6)))
}

test("base64 wrapped in lines (MIME at 76 columns, PEM at 64) is masked across its line breaks (issue 19)", () => {
    const r = registry(secret)
    for (const [width, br] of [[76, "\r\n"], [76, "\n"], [64, "\n"], [76, "\\r\\n"]] as const) {
        for (let pad = 0; pad < width; pad += 5) {
            const data = Buffer.concat([randomBytes(pad), Buffer.from(`user:${secret}`), randomBytes(90)]).toString("base64")
            const body = data.replace(new RegExp(`.{${width}}`, "g"), `$&${br}`)
            const out = r.scrub(`Content-Transfer-Encoding: base64${br}${br}${body}`)
            const flat = out.split(br).join("")
            for (const c of cores(secret)) assert.ok(!flat.includes(c.slice(1, -1)), `width ${width}, ${pad} bytes before: the value's base64 survived`)
            assert.match(out, /\[redacted\]/)
        }
    }
    // base64 lines that hold no value, and prose, pass unchanged
    const plain = randomBytes(300).toString("base64").replace(/.{76}/g, "$&\n")
    assert.equal(r.scrub(plain), plain)
})

test("JSON escapes of every usual encoder are masked: \\u00E9 uppercase, \\u0026-style, \\/ and double escaping (issue 19)", () => {
    const v = `p"a\\ss/wörd<&>'+${secret}`
    const r = registry(v)
    const plain = JSON.stringify(v)
    const hex = (upper: boolean) => (c: string) => { const h = c.charCodeAt(0).toString(16).padStart(4, "0"); return `\\u${upper ? h.toUpperCase() : h}` }
    const variants = {
        upper: plain.replace(/[\u0080-\uffff]/g, hex(true)),
        go: plain.replace(/[<>&]/g, hex(false)),
        dotnet: plain.replace(/[<>&'+\u0080-\uffff]/g, hex(true)),
        slash: plain.replace(/\//g, "\\/"),
        php: plain.replace(/\//g, "\\/").replace(/[\u0080-\uffff]/g, hex(false)),
        twice: JSON.stringify(plain),
    }
    for (const [name, text] of Object.entries(variants)) {
        assert.notEqual(text, plain, name)
        const out = r.scrub(`{"k": ${text}}`)
        assert.ok(!out.includes(secret), `${name}: ${out}`)
        assert.match(out, /\[redacted\]/, name)
    }
    // the value inside a JSON document carried as a string of another
    const nested = JSON.stringify({ text: JSON.stringify({ token: v }) })
    assert.ok(!r.scrub(nested).includes(secret))
})

test("URL encoding with lowercase %xx is masked (issue 19)", () => {
    const v = `a b&c=d/é+f!'(${secret})*`
    const r = registry(v)
    const lower = (u: string) => u.replace(/%[0-9A-F]{2}/g, x => x.toLowerCase())
    const rfc = encodeURIComponent(v).replace(/[!'()*]/g, c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    for (const u of [encodeURIComponent(v), rfc, new URLSearchParams({ q: v }).toString().slice(2)]) {
        assert.notEqual(lower(u), u)
        assert.equal(r.scrub(`https://x.test/?q=${lower(u)}&n=1`), "https://x.test/?q=[redacted]&n=1")
    }
})
