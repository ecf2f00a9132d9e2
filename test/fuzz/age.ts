/**
 * The age boundary: internal/secrets/age.ts (our X25519 reader on Node's crypto) against typage on
 * age files written by typage to real X25519 identities (one or several recipients, payloads
 * around the 64 KiB chunk), then mutated: bits flipped, bytes cut, inserted or repeated, header
 * lines swapped. What must hold for every file: both read it with the same plaintext, or both
 * refuse it. The one refusal of ours typage does not share is a file with an scrypt stanza beside
 * a recipient's (age requires scrypt alone; typage checks that only when given a passphrase), so
 * mutations never write "scrypt".
 */
import { bech32 } from "@scure/base"
import { Decrypter, Encrypter, generateX25519Identity, identityToRecipient } from "age-encryption"
import * as fc from "fast-check"
import * as age from "../../internal/secrets/age.ts"
import type { Property } from "./kit.ts"

interface Key { secret: string; recipient: string; id: age.X25519 }

let keys: Promise<Key[]> | undefined
/** Three identities, made once: ours is the first. */
function identities(): Promise<Key[]> {
    return keys ??= Promise.all([0, 1, 2].map(async () => {
        const secret = await generateX25519Identity()
        return { secret, recipient: await identityToRecipient(secret), id: await age.x25519(bech32.decodeToBytes(secret).bytes) }
    }))
}

type Mutation =
    | { kind: "flip"; at: number; bit: number }
    | { kind: "cut"; at: number; len: number }
    | { kind: "put"; at: number; bytes: Uint8Array }
    | { kind: "repeat"; at: number; len: number; times: number }
    | { kind: "truncate"; at: number }
    | { kind: "swap"; at: number }

// where mutations land: most in the header (the parser), some anywhere
const at = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.nat())
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    fc.record({ kind: fc.constant("flip" as const), at, bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant("cut" as const), at, len: fc.integer({ min: 1, max: 64 }) }),
    fc.record({ kind: fc.constant("put" as const), at, bytes: fc.oneof(fc.uint8Array({ maxLength: 8 }), fc.constantFrom(..."\n -> X25519 --- = A/+".split("").map(c => Buffer.from(c)))) }),
    fc.record({ kind: fc.constant("repeat" as const), at, len: fc.integer({ min: 1, max: 80 }), times: fc.integer({ min: 2, max: 4 }) }),
    fc.record({ kind: fc.constant("truncate" as const), at }),
    fc.record({ kind: fc.constant("swap" as const), at: fc.nat() }),
)

function mutate(file: Buffer, m: Mutation): Buffer {
    const i = m.at % (file.length + 1)
    switch (m.kind) {
        case "flip": {
            const b = Buffer.from(file)
            if (i < b.length) b[i] = (b[i] ?? 0) ^ (1 << m.bit)
            return b
        }
        case "cut": return Buffer.concat([file.subarray(0, i), file.subarray(i + m.len)])
        case "put": return Buffer.concat([file.subarray(0, i), m.bytes, file.subarray(i)])
        case "repeat": return Buffer.concat([file.subarray(0, i), ...Array<Buffer>(m.times).fill(file.subarray(i, i + m.len)), file.subarray(i + m.len)])
        case "truncate": return file.subarray(0, i)
        case "swap": {
            // two neighbouring header lines (the header ends at the MAC line)
            const end = file.indexOf("\n---")
            const lines = file.subarray(0, end < 0 ? 0 : end).toString("latin1").split("\n")
            if (lines.length < 3) return file
            const j = 1 + (m.at % (lines.length - 2))
            ;[lines[j], lines[j + 1]] = [lines[j + 1] ?? "", lines[j] ?? ""]
            return Buffer.concat([Buffer.from(lines.join("\n"), "latin1"), file.subarray(end)])
        }
    }
}

const plaintext = fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(0, 65535, 65536, 65537, 131072).map(n => new Uint8Array(n).fill(7)))

export default [
    {
        name: "a mutated age file is read alike by age.ts and typage: the same plaintext, or both refuse",
        make: () => fc.asyncProperty(plaintext, fc.subarray([1, 2]), fc.integer({ min: 0, max: 2 }), fc.array(mutation, { maxLength: 3 }), async (plain, others, position, mutations) => {
            const [me, ...rest] = await identities()
            const to = rest.filter((_, k) => others.includes(k + 1)).map(k => k.recipient)
            to.splice(position % (to.length + 1), 0, me!.recipient)
            const e = new Encrypter()
            for (const r of to) e.addRecipient(r)
            const file = mutations.reduce(mutate, Buffer.from(await e.encrypt(plain)))
            if (file.includes("scrypt")) return
            const ours = await age.decrypt(me!.id, file).then(b => Buffer.from(b), () => undefined)
            const d = new Decrypter()
            d.addIdentity(me!.secret)
            const theirs = await d.decrypt(file).then(b => Buffer.from(b), () => undefined)
            if (ours === undefined && theirs === undefined) return
            if (ours === undefined || theirs === undefined) {
                throw new Error(`${ours === undefined ? "age.ts refused, typage read" : "typage refused, age.ts read"} the file (${file.length} bytes)`)
            }
            if (!ours.equals(theirs)) throw new Error("age.ts and typage read different plaintexts")
            // an unmutated file must be read as written
            if (mutations.length === 0 && !ours.equals(plain)) throw new Error("the plaintext read is not the one written")
        }),
        runs: 120,
        timeout: 10_000,
    },
] satisfies Property[]
