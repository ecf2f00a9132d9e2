/** Small statistics for benchmarks: medians and percentiles of millisecond samples. */
import { spawnSync } from "node:child_process"

/** The q-quantile (0..1) of samples, nearest rank. */
export function quantile(xs: number[], q: number): number {
    const s = [...xs].sort((a, b) => a - b)
    return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN
}

/** The median of samples. */
export function median(xs: number[]): number {
    return quantile(xs, 0.5)
}

/** Wall time in ms of one process run to completion. */
export function time(cmd: string, args: string[], env: NodeJS.ProcessEnv, input?: string): number {
    const t = performance.now()
    const r = spawnSync(cmd, args, { env, input, stdio: [input === undefined ? "ignore" : "pipe", "ignore", "pipe"] })
    const ms = performance.now() - t
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr.toString()}`)
    return ms
}

/** Formats a ratio as "1.23×". */
export function x(r: number): string {
    return `${r.toFixed(2)}×`
}
