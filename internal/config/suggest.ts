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
    let best: string | undefined
    let score = Infinity
    for (const k of list) {
        const d = distance(w, k.toLowerCase())
        if (d < score) [best, score] = [k, d]
    }
    const limit = Math.min(3, Math.floor(word.length / 3))
    return score <= limit ? best : undefined
}

// Edit distance counting a swap of two neighbours as one edit ("evn" is one typo away from "env").
function distance(a: string, b: string): number {
    const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i])
    for (let j = 0; j <= b.length; j++) (d[0] as number[])[j] = j
    const at = (i: number, j: number) => d[i]?.[j] ?? Infinity
    for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) {
            const cost = a[i - 1] === b[j - 1] ? 0 : 1
            let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost)
            if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, at(i - 2, j - 2) + 1)
            ;(d[i] as number[])[j] = v
        }
    }
    return at(a.length, b.length)
}
