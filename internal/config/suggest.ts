// Words people carry over from other tools' configs, mapped to ours.
const synonyms: Record<string, string> = {
    mcpservers: "servers",
    mcp_servers: "servers",
    scopes: "auth_scopes",
    environment: "env",
    arguments: "args",
    cmd: "command",
    endpoint: "url",
    workdir: "cwd",
    working_directory: "cwd",
}

/** The known word `word` is most likely a typo of, if one is close enough. */
export function suggest(word: string, known: Iterable<string>): string | undefined {
    const w = word.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase()
    const list = [...known]
    const synonym = synonyms[w]
    if (synonym !== undefined && list.includes(synonym)) return synonym
    const limit = Math.min(3, Math.floor(word.length / 3))
    let best: string | undefined
    let score = limit + 1
    for (const k of list) {
        const d = distance(w, k.toLowerCase(), score - 1)
        if (d < score) [best, score] = [k, d]
    }
    return best
}

/**
 * Edit distance counting a swap of two neighbours as one edit ("evn" is one typo away from
 * "env"), or `max + 1` when it is more than `max`. Only the band of cells within `max` of the
 * diagonal can hold a distance up to `max`, so the work is (length × max), not (length × length):
 * a 40,000-character undeclared scope against 200 declared ones took 50 s with the full table.
 */
function distance(a: string, b: string, max: number): number {
    if (max < 0) return 0
    if (Math.abs(a.length - b.length) > max) return max + 1
    const over = max + 1
    // three rows of the table (i - 2, i - 1, i); cells outside the band stay at `over`
    let before = new Array<number>(b.length + 1).fill(over)
    let prev = new Array<number>(b.length + 1).fill(over)
    let row = new Array<number>(b.length + 1).fill(over)
    for (let j = 0; j <= Math.min(b.length, max); j++) prev[j] = j
    for (let i = 1; i <= a.length; i++) {
        const from = Math.max(1, i - max), to = Math.min(b.length, i + max)
        row.fill(over)
        if (i <= max) row[0] = i
        let least = row[0] ?? over
        for (let j = from; j <= to; j++) {
            const cost = a[i - 1] === b[j - 1] ? 0 : 1
            let v = Math.min((prev[j] ?? over) + 1, (row[j - 1] ?? over) + 1, (prev[j - 1] ?? over) + cost)
            if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, (before[j - 2] ?? over) + 1)
            row[j] = Math.min(v, over)
            if (v < least) least = v
        }
        // every later row only grows from this one
        if (least > max) return over
        ;[before, prev, row] = [prev, row, before]
    }
    return Math.min(prev[b.length] ?? over, over)
}
