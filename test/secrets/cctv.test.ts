/**
 * internal/secrets/age.ts is a second age implementation at the security boundary, so it is held
 * to C2SP's community vectors (CCTV age, npm `cctv-age`): every vector an X25519, unarmored reader
 * can take must agree, a success with the payload's sha256 or a refusal. The reader releases no
 * plaintext before the whole file is authenticated, so for a `payload failure` the bytes released
 * are none, and refusal is the agreement.
 */
import assert from "node:assert/strict"
import { createHash } from "node:crypto"
import { inflateSync } from "node:zlib"
import { test } from "node:test"
import { bech32 } from "@scure/base"
import * as vectors from "cctv-age"
import * as age from "../../internal/secrets/age.ts"

interface Vector { name: string; expect: string; payload?: string; identities: string[]; skip?: string; file: Buffer }

function parse(name: string, bytes: Uint8Array): Vector {
    const b = Buffer.from(bytes)
    const end = b.indexOf("\n\n")
    const v: Vector = { name, expect: "", identities: [], file: b.subarray(end + 2) }
    let compressed = false
    // a vector with a passphrase applies when it also names an X25519 identity (scrypt_and_x25519)
    let passphrase = false
    for (const line of b.subarray(0, end).toString("utf8").split("\n")) {
        const at = line.indexOf(": ")
        const [k, val] = [line.slice(0, at), line.slice(at + 2)]
        if (k === "expect") v.expect = val
        else if (k === "payload") v.payload = val
        else if (k === "identity") v.identities.push(val)
        else if (k === "compressed") compressed = val === "zlib"
        else if (k === "armored") v.skip = "armored"
        else if (k === "passphrase") passphrase = true
        else if (k !== "file key" && k !== "comment") v.skip = `unknown header key ${k}`
    }
    if (v.identities.some(i => !i.startsWith("AGE-SECRET-KEY-1"))) v.skip = "not an X25519 identity"
    if (v.identities.length === 0) v.skip ??= passphrase ? "passphrase" : "no identity"
    if (compressed) v.file = inflateSync(v.file)
    return v
}

const all = Object.entries(vectors as unknown as Record<string, Uint8Array>)
    .filter(([name, bytes]) => name !== "default" && bytes instanceof Uint8Array)
    .map(([name, bytes]) => parse(name, bytes))

// how the reader's refusals map to the vectors' kinds of failure: a lower-level error (a parse
// error) must not be masked by a higher-level one (a MAC mismatch), so the kind is checked too
const kinds: Array<[string, RegExp]> = [
    ["header failure", /^(not an age file|truncated header|malformed|stanza body line too long|no recipients|file too short|invalid X25519 share)/],
    ["no match", /^no identity matched/],
    ["HMAC failure", /^bad header MAC$/],
    ["payload failure", /^(payload chunk \d+ failed authentication|truncated payload|empty final chunk)$/],
]

/** Decrypts with each identity in turn, as `age -d -i a -i b` does: another identity is tried only on "no match". */
async function decrypt(v: Vector): Promise<Buffer> {
    let last: unknown
    for (const secret of v.identities) {
        const id = await age.x25519(bech32.decodeToBytes(secret).bytes)
        try {
            return await age.decrypt(id, v.file)
        } catch (e) {
            last = e
            if (!/no identity matched/.test((e as Error).message)) throw e
        }
    }
    throw last
}

test("the age reader agrees with every applicable CCTV vector", async () => {
    const applicable = all.filter(v => v.skip === undefined)
    const disagree: string[] = []
    for (const v of applicable) {
        let got: Buffer | undefined
        let error: unknown
        try {
            got = await decrypt(v)
        } catch (e) {
            error = e
        }
        if (v.expect === "success") {
            const hash = got === undefined ? undefined : createHash("sha256").update(got).digest("hex")
            if (hash !== v.payload) disagree.push(`${v.name}: expected success, got ${got === undefined ? `refusal (${(error as Error).message})` : "a wrong payload"}`)
        } else if (got !== undefined) {
            disagree.push(`${v.name}: expected ${v.expect}, got success`)
        } else {
            const why = (error as Error).message
            const kind = kinds.find(([, re]) => re.test(why))?.[0]
            if (kind !== v.expect) disagree.push(`${v.name}: expected ${v.expect}, refused as ${kind ?? "?"} (${why})`)
        }
    }
    assert.deepEqual(disagree, [])
    // the count the NOTES and the report quote: a change in the package shows here
    console.log(`# cctv-age: ${applicable.length} of ${all.length} vectors apply, ${applicable.length - disagree.length} agree`)
    assert.ok(applicable.length >= 67, `only ${applicable.length} vectors applied`)
    // a passphrase stanza beside a recipient's must be refused (age requires scrypt alone)
    assert.ok(applicable.some(v => v.name === "scrypt_and_x25519"), "scrypt_and_x25519 was skipped")
    assert.ok(applicable.some(v => v.expect === "success") && applicable.some(v => v.expect !== "success"))
})
