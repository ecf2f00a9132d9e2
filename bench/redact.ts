/**
 * Redaction benchmark: scrub throughput of the registry against the regular-expression registry it
 * replaced (bench/regex.ts), on the same texts with the same 20 values, alternating; medians. The
 * old registry masked the values only; the third column gives it every form the registry now masks
 * (one expression of about 200 forms), to show what the forms cost and what the automaton saves.
 */
import { randomBytes } from "node:crypto"
import { forms } from "../internal/redact/forms.ts"
import * as redact from "../internal/redact/index.ts"
import { Regex } from "./regex.ts"
import { median, x } from "./stats.ts"

const runs = Number(process.env.BENCH_RUNS ?? 15)

/** Twenty values of the shapes tokens have: prefixed hex, base64, a URL with a password. */
function values(): string[] {
    const v: string[] = []
    for (let i = 0; i < 7; i++) v.push(`ghp_${randomBytes(18).toString("base64url")}`)
    for (let i = 0; i < 7; i++) v.push(`sk-live-${randomBytes(16).toString("hex")}`)
    for (let i = 0; i < 6; i++) v.push(`postgres://app:${randomBytes(12).toString("base64")}@db.internal:5432/app`)
    return v
}

/** Tool output as it flows back: JSON-ish text, code, prose; `planted` values sprinkled in. */
function text(size: number, planted: string[]): string {
    const words = ["the", "result", "of", '"name":', '"id": 4312,', "function", "return", "{", "}", "https://example.com/x?y=1", "error:", "0x1f2e", "ok"]
    let s = ""
    for (let i = 0; s.length < size; i++) {
        s += words[(i * 7) % words.length] + (i % 11 === 0 ? "\n" : " ")
        if (planted.length && i % 500 === 250) s += planted[i % planted.length] + " "
    }
    return s
}

function throughput(f: (s: string) => string, s: string, reps: number): number {
    const t = performance.now()
    for (let i = 0; i < reps; i++) f(s)
    return (s.length * reps) / (performance.now() - t) / 1000 // MB (of UTF-16 units) per second
}

/** Runs the redaction benchmark and prints one line per text. */
export function run(): void {
    const vs = values()
    const now = redact.create()
    now.add(...vs)
    const old = new Regex()
    old.add(...vs)
    const wide = new Regex()
    wide.add(...vs.flatMap(forms))
    const cases: Array<[string, string, number]> = [
        ["200-byte messages, no value", text(200, []), 2000],
        ["64 KiB output, no value", text(64 * 1024, []), 20],
        ["64 KiB output, some values", text(64 * 1024, vs), 20],
        ["1 MiB output, some values", text(1024 * 1024, vs), 2],
    ]
    for (const [name, s, reps] of cases) {
        if (now.scrub(s) !== old.scrub(s)) throw new Error(`${name}: the two registries disagree`)
        const a: number[] = []
        const b: number[] = []
        const c: number[] = []
        for (let i = 0; i < runs; i++) {
            a.push(throughput(t => now.scrub(t), s, reps))
            b.push(throughput(t => old.scrub(t), s, reps))
            c.push(throughput(t => wide.scrub(t), s, reps))
        }
        const [ma, mb, mc] = [median(a), median(b), median(c)]
        const mbs = (v: number) => `${v.toFixed(0).padStart(5)} MB/s`
        console.log(`${name.padEnd(28)} automaton ${mbs(ma)}  old regex ${mbs(mb)} ${x(ma / mb)}  regex of all forms ${mbs(mc)} ${x(ma / mc)}`)
    }
}
