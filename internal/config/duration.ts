/** How durations are written, for hints. */
import { hinted } from "./error.ts"
export const durations = "write a number with a unit: 500ms, 90s, 10m, 1h, 7d or a sum like 1h30m (a bare number counts seconds)"

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

const whole = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/
const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g
const seconds = /^\d+(?:\.\d+)?$/

/**
 * Parses a duration into milliseconds: "500ms", "90s", "10m", "1h", "7d", a sum such as "1h30m",
 * or a bare number of seconds. Throws a plain Error carrying a `hint`.
 */
export function duration(value: string | number): number {
    if (typeof value === "number") {
        if (Number.isFinite(value) && value >= 0) return Math.round(value * 1000)
    } else {
        const s = value.trim()
        if (seconds.test(s)) return Math.round(Number(s) * 1000)
        if (whole.test(s)) {
            let ms = 0
            for (const [, n, unit] of s.matchAll(part)) ms += Number(n) * (units[unit ?? ""] ?? 0)
            return Math.round(ms)
        }
    }
    throw hinted(`invalid duration ${JSON.stringify(value)}`, durations)
}

/** Writes milliseconds back as the shortest whole unit `duration` reads: 600000 → "10m". */
export function span(ms: number): string {
    for (const [unit, size] of [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], ["s", 1000]] as const) {
        if (ms >= size && ms % size === 0) return `${ms / size}${unit}`
    }
    return `${ms}ms`
}
