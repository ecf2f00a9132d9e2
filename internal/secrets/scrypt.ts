/**
 * age's passphrase (scrypt) files, made and opened by typage on a worker thread. scrypt is slow on
 * purpose (work factor 18: about 1.3 s here) and typage runs it synchronously, so on the main
 * thread it would stop a waiting server for that long; a worker keeps the event loop free. The
 * worker is this very module, started again with a job in its workerData: esbuild bundles it into
 * a chunk, so a separate worker file would not exist in dist/.
 */
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads"

// the workerData key that marks a worker started by `run`, so loading this module elsewhere does nothing
const tag = "mcplexer-scrypt/v1"

/** What a worker is asked to do. */
interface Job { op: "encrypt" | "decrypt"; data: Uint8Array; passphrase: string }

/** The answer a worker posts: the bytes, or an error's message (typage's errors are plain). */
type Answer = { ok: Uint8Array } | { error: string }

/** `plain` as an age file encrypted with `passphrase` (scrypt, typage's default work factor 18). */
export function encrypt(plain: Uint8Array, passphrase: string): Promise<Uint8Array> {
    return run({ op: "encrypt", data: plain, passphrase })
}

/** The plaintext of an age passphrase file; throws (typage's message) on a wrong passphrase or a damaged file. */
export function decrypt(file: Uint8Array, passphrase: string): Promise<Uint8Array> {
    return run({ op: "decrypt", data: file, passphrase })
}

function run(job: Job): Promise<Uint8Array> {
    return new Promise((done, fail) => {
        const w = new Worker(entry(), { eval: true, workerData: { [tag]: job, url: import.meta.url } })
        let answered = false
        w.once("message", (a: Answer) => {
            answered = true
            if ("ok" in a) done(a.ok)
            else fail(new Error(a.error))
        })
        w.once("error", fail)
        w.once("exit", code => {
            if (!answered) fail(new Error(`the scrypt worker stopped (exit ${code})`))
        })
    })
}

/**
 * The worker's script: it imports this module. Run from source (tests, under tsx) this module is a
 * .ts file, and Node 20 does not pass the parent's --import hooks to a worker, so it registers tsx first.
 */
function entry(): string {
    const load = "import(require('node:worker_threads').workerData.url)"
    if (!import.meta.url.endsWith(".ts")) return load
    return `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))}).then(m => { m.register(); return ${load} })`
}

async function work(job: Job): Promise<Uint8Array> {
    const age = await import("age-encryption")
    if (job.op === "encrypt") {
        const e = new age.Encrypter()
        e.setPassphrase(job.passphrase)
        return e.encrypt(job.data)
    }
    const d = new age.Decrypter()
    d.addPassphrase(job.passphrase)
    const file = job.data
    // an armored file (age -a -p) is accepted too
    const text = Buffer.from(file.subarray(0, 40)).toString("latin1")
    return d.decrypt(text.startsWith("-----BEGIN AGE ENCRYPTED FILE-----") ? age.armor.decode(Buffer.from(file).toString("latin1")) : file)
}

const data = workerData as Record<string, Job> | null
const job = isMainThread ? undefined : data?.[tag]
if (job !== undefined && parentPort !== null) {
    const port = parentPort
    work(job).then(ok => port.postMessage({ ok } satisfies Answer),
        (e: unknown) => port.postMessage({ error: e instanceof Error ? e.message : String(e) } satisfies Answer))
}
