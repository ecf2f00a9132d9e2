/**
 * A unified-style line diff of two texts, for `install --dry-run`. The common head and tail are
 * cut first, so the quadratic part only sees the lines that changed (a client's file is small).
 */
export function diff(before: string, after: string, from: string, to: string): string {
    const a = lines(before)
    const b = lines(after)
    let head = 0
    while (head < a.length && head < b.length && a[head] === b[head]) head++
    let tail = 0
    while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++
    const x = a.slice(head, a.length - tail)
    const y = b.slice(head, b.length - tail)
    if (x.length === 0 && y.length === 0) return ""
    const body = lcs(x, y)
    const ctx = 3
    const pre = a.slice(Math.max(0, head - ctx), head).map(l => ` ${l}`)
    const post = a.slice(a.length - tail, a.length - tail + ctx).map(l => ` ${l}`)
    const start = Math.max(0, head - ctx)
    const from_ = pre.length + x.length + post.length
    const to_ = pre.length + y.length + post.length
    // an empty side starts at line 0, as diff -u writes it
    const hunk = `@@ -${from_ ? start + 1 : 0},${from_} +${to_ ? start + 1 : 0},${to_} @@`
    return [`--- ${from}`, `+++ ${to}`, hunk, ...pre, ...body, ...post].join("\n") + "\n"
}

function lines(s: string): string[] {
    if (s === "") return []
    const l = s.split("\n")
    if (l[l.length - 1] === "") l.pop()
    return l
}

function lcs(x: string[], y: string[]): string[] {
    const n = x.length, m = y.length
    const t: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0))
    for (let i = n - 1; i >= 0; i--) {
        for (let j = m - 1; j >= 0; j--) {
            const row = t[i] as number[]
            row[j] = x[i] === y[j] ? (t[i + 1]?.[j + 1] ?? 0) + 1 : Math.max(t[i + 1]?.[j] ?? 0, row[j + 1] ?? 0)
        }
    }
    const out: string[] = []
    let i = 0, j = 0
    while (i < n && j < m) {
        if (x[i] === y[j]) { out.push(` ${x[i]}`); i++; j++ }
        else if ((t[i + 1]?.[j] ?? 0) >= (t[i]?.[j + 1] ?? 0)) out.push(`-${x[i++]}`)
        else out.push(`+${y[j++]}`)
    }
    while (i < n) out.push(`-${x[i++]}`)
    while (j < m) out.push(`+${y[j++]}`)
    return out
}
