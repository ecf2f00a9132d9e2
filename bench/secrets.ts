/**
 * Secret store benchmarks (issue: the foundation). Whole CLI processes against a bare `node -e 0`
 * start measured in the same run, alternating; in-process decryption against a bare typage decrypt
 * of the same ciphertexts; `key rotate` of 1,000 keys.
 */
import { writeFile } from "node:fs/promises"
import { join, resolve } from "node:path"
import Database from "better-sqlite3"
import { Decrypter } from "age-encryption"
import * as config from "../internal/config/index.ts"
import * as secrets from "../internal/secrets/index.ts"
import { median, time, x } from "./stats.ts"
import { temp } from "./temp.ts"

const cli = resolve(import.meta.dirname, "..", "dist", "mcplexer.js")
const runs = Number(process.env.BENCH_RUNS ?? 15)

async function home(keys: number): Promise<{ env: NodeJS.ProcessEnv; paths: config.Paths }> {
    const dir = temp("mcplexer-bench-")
    await writeFile(join(dir, "config.yaml"), "auth_scopes:\n  bench: {}\n")
    const env = { PATH: process.env.PATH, HOME: dir, MCPLEXER_HOME: dir }
    const paths = config.paths(env)
    const vault = secrets.open(paths, { actor: "bench", create: true })
    for (let i = 0; i < keys; i++) await vault.put("bench", `KEY_${i}`, `value-${i}-${"x".repeat(40)}`)
    vault.close()
    return { env, paths }
}

/** Runs the whole secrets benchmark and prints one line per measurement. */
export async function run(): Promise<void> {
    const t0 = performance.now()
    const big = await home(10_000)
    console.log(`seeded 10,000 keys in ${((performance.now() - t0) / 1000).toFixed(1)} s`)

    const bare: number[] = [], get: number[] = [], put: number[] = [], list: number[] = []
    for (let i = 0; i < runs; i++) {
        bare.push(time(process.execPath, ["-e", "0"], big.env))
        get.push(time(process.execPath, [cli, "secret", "get", "bench", "KEY_5000"], big.env))
        put.push(time(process.execPath, [cli, "secret", "put", "bench", `PUT_${i}`], big.env, "a-new-value-123"))
        list.push(time(process.execPath, [cli, "secret", "list"], big.env))
    }
    const b = median(bare)
    console.log(`node -e 0                  median ${b.toFixed(1)} ms`)
    console.log(`secret get (10,000 keys)   median ${median(get).toFixed(1)} ms  ${x(median(get) / b)} node -e 0  (target ≤ 3×)`)
    console.log(`secret put (10,000 keys)   median ${median(put).toFixed(1)} ms  ${x(median(put) / b)} node -e 0`)
    console.log(`secret list (10,000 keys)  median ${median(list).toFixed(1)} ms  ${x(median(list) / b)} node -e 0  (target ≤ 500 ms)`)

    // in process: a whole scope of 1,000 keys through the vault vs a bare typage decrypt of the same rows
    const small = await home(1_000)
    const db = new Database(small.paths.db, { readonly: true })
    const rows = (db.prepare("select ciphertext from secrets").all() as Array<{ ciphertext: Buffer }>).map(r => new Uint8Array(r.ciphertext))
    db.close()
    const keyText = (await import("node:fs")).readFileSync(small.paths.key, "utf8").split("\n").find(l => l.startsWith("AGE-SECRET-KEY-1")) ?? ""
    const vault = secrets.open(small.paths, { actor: "bench" })
    await vault.scope("bench", { reason: "warm up" })
    const ours: number[] = [], theirs: number[] = []
    for (let i = 0; i < 5; i++) {
        let t = performance.now()
        const m = await vault.scope("bench", { reason: "bench" })
        ours.push((performance.now() - t) / m.size)
        t = performance.now()
        for (const c of rows) {
            const d = new Decrypter()
            d.addIdentity(keyText)
            await d.decrypt(c)
        }
        theirs.push((performance.now() - t) / rows.length)
    }
    vault.close()
    console.log(`decrypt per key            median ${median(ours).toFixed(3)} ms  ${x(median(ours) / median(theirs))} bare typage (${median(theirs).toFixed(3)} ms)  (target ≤ 1.5×)`)

    const rot: number[] = []
    for (let i = 0; i < 3; i++) {
        const h = i === 0 ? small : await home(1_000)
        rot.push(time(process.execPath, [cli, "key", "rotate"], h.env))
    }
    console.log(`key rotate (1,000 keys)    median ${median(rot).toFixed(0)} ms  ${x(median(rot) / b)} node -e 0`)
}
