/** How sizes are written, for hints. */
import { hinted } from "./error.ts"
export const sizes = "write a number of bytes, or one with a unit: 512KiB, 64MiB, 1GiB (or KB, MB, GB for powers of ten)"

const units: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 }
const form = /^(\d+(?:\.\d+)?)\s*([KMG]i?B|B)?$/i

/** Parses a size into bytes: 65536, "512KiB", "64MiB", "1GB". Throws a plain Error carrying a `hint`. */
export function size(value: string | number): number {
    const m = form.exec(String(value).trim())
    const n = m ? Number(m[1]) * (units[(m[2] ?? "b").toLowerCase()] ?? NaN) : NaN
    if (Number.isFinite(n) && n >= 1) return Math.floor(n)
    throw hinted(`invalid size ${JSON.stringify(value)}`, sizes)
}
