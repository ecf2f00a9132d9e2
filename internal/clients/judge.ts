/**
 * Which plaintext values are credentials. A value is judged by the name it is stored under, by a
 * known token prefix, or by looking random; the import shows every decision, so a wrong guess is
 * seen before anything is written.
 */

// env keys, header names, flags and query parameters that hold credentials
const secretName = /TOKEN|KEY|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|AUTH|COOKIE|(^|_)(PAT|PASS|PWD|PW)$/i
const secretParam = /^(key|api[-_]?key|token|access[-_]?token|auth|secret|password|sig|signature|client[-_]?secret)$/i

// issued tokens announce themselves
const prefixes = ["github_pat_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "glpat-", "sk-ant-", "sk-", "sk_live_", "rk_live_",
    "xoxb-", "xoxp-", "xoxa-", "xapp-", "AKIA", "ASIA", "lin_api_", "ntn_", "secret_", "AIza", "npm_", "hf_", "pplx-", "gsk_",
    "dop_v1_", "shpat_", "figd_", "pk_live_"]

/** Why a value counts as a credential, or undefined when it does not. */
export type Reason = string | undefined

/** True when a key, header, flag or query parameter name says it holds a credential. */
export function named(name: string): boolean {
    return secretName.test(name.replace(/-/g, "_"))
}

/** True when a URL query parameter's name says it holds a credential. */
export function param(name: string): boolean {
    return secretParam.test(name) || named(name)
}

/** A known token prefix the value starts with. */
export function prefix(value: string): Reason {
    const p = prefixes.find(x => value.startsWith(x) && value.length >= x.length + 8 && !/\s/.test(value))
    return p === undefined ? undefined : `starts with ${p}`
}

// URLs that are themselves the credential: whoever has one may post as its owner
const webhooks = /^https:\/\/(hooks\.slack\.com\/(services|workflows|triggers)\/|(ptb\.|canary\.)?discord(app)?\.com\/api\/webhooks\/|[\w-]+\.webhook\.office\.com\/|hooks\.zapier\.com\/hooks\/)\S+$/i

/** Why a URL is a credential in itself (a Slack, Discord, Teams or Zapier webhook), or undefined. */
export function webhook(value: string): Reason {
    return webhooks.test(value) ? "a webhook URL, which is its own credential" : undefined
}

/** Values a credential's name may carry that are not credentials: switches, numbers, paths, plain URLs. */
export function ordinary(value: string): boolean {
    if (value.trim() === "") return true
    if (/^(true|false|yes|no|on|off|null|none)$/i.test(value) || /^-?\d+(\.\d+)?$/.test(value)) return true
    if (/^(\/|~\/|\.\.?\/|[A-Za-z]:\\)/.test(value)) return true
    if (/^https?:\/\//i.test(value) && URL.canParse(value)) {
        const u = new URL(value)
        return u.password === "" && ![...u.searchParams.keys()].some(param)
    }
    return false
}

/**
 * Judges a value stored under `name`: its name (unless the value is ordinary), a known prefix, or
 * randomness: 20 characters or more, no spaces, mixed case and digits (or 32+ hex digits), and
 * at least 3.5 bits of entropy per character, which words, paths and flags stay under.
 */
export function judge(name: string, value: string): Reason {
    if (value === "") return undefined
    const p = prefix(value)
    if (p) return p
    if (named(name) && !ordinary(value)) return `named ${name}`
    if (random(value)) return "looks random"
    return undefined
}

function random(v: string): boolean {
    if (v.length < 20 || /[\s]/.test(v) || v.startsWith("-") || v.includes("://") || v.startsWith("/")) return false
    const mixed = /[a-z]/.test(v) && /[A-Z]/.test(v) && /\d/.test(v)
    if (!mixed && !/^[0-9a-f]{32,}$/i.test(v)) return false
    return entropy(v) >= 3.5
}

/** Shannon entropy in bits per character. */
export function entropy(s: string): number {
    const counts = new Map<string, number>()
    for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1)
    let h = 0
    for (const n of counts.values()) {
        const p = n / s.length
        h -= p * Math.log2(p)
    }
    return h
}

/** A value as the dry run shows it: at most its first 4 characters, and those only when it is long. */
export function mask(value: string): string {
    return value.length >= 16 ? `${value.slice(0, 4)}…` : "…"
}
