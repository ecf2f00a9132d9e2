/**
 * The export document (`mcplexer secret export` / `import`): one age file, which Go's `age -d`
 * opens, whose plaintext is JSON:
 *
 *     {"mcplexer": "export/v1", "scope": "acme", "exported": "2026-…Z",
 *      "secrets": {"GITHUB_TOKEN": {"value": "ghp_…"}, "CERT": {"base64": "AAEC…"},
 *                  "API_KEY": {"value": "…", "expires": "2027-01-01T00:00:00.000Z"}}}
 *
 * A value that is UTF-8 text is given as `value`; any other bytes as standard `base64`. `expires`
 * is there when its owner said when it expires. Nothing else is in it: no ciphertext, no MAC.
 */
import { hinted, message } from "./errors.ts"
import * as recipients from "./recipients.ts"

/** The document's `format` marker. */
export const format = "export/v1"

/** One exported value. */
export interface Item { value: Uint8Array; expires?: Date }

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })
const armorStart = "-----BEGIN AGE ENCRYPTED FILE-----"

/** The document's JSON text for `scope` and its values. The caller wipes the result. */
export function document(scope: string, items: Map<string, Item>, at = new Date()): Buffer {
    const secrets: Record<string, Record<string, string>> = {}
    for (const [key, it] of [...items].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)) {
        let text: string | undefined
        try {
            text = utf8.decode(it.value)
        } catch {
            text = undefined
        }
        secrets[key] = {
            ...(text === undefined ? { base64: Buffer.from(it.value).toString("base64") } : { value: text }),
            ...(it.expires === undefined ? {} : { expires: it.expires.toISOString() }),
        }
    }
    return Buffer.from(JSON.stringify({ mcplexer: format, scope, exported: at.toISOString(), secrets }, null, 2) + "\n")
}

/** `plain` as an age file to `to` (armored on request); mixing post-quantum and classic is refused. */
export async function encrypt(plain: Uint8Array, to: readonly string[], o: { armor?: boolean } = {}): Promise<Uint8Array> {
    recipients.check(to, "the export")
    const typage = await import("age-encryption")
    const e = new typage.Encrypter()
    for (const r of to) {
        try {
            e.addRecipient(r)
        } catch (err) {
            throw hinted(`${JSON.stringify(r)} is not an age public key: ${message(err)}`, "give age1… keys (age-keygen -y prints one) with --to, or a file of them with -R", { cause: err })
        }
    }
    const file = await e.encrypt(plain)
    return o.armor ? Buffer.from(typage.armor.encode(file)) : file
}

/** An age file's binary form: armored text decoded, binary left as it is. */
export async function dearmor(file: Uint8Array): Promise<Uint8Array> {
    const head = Buffer.from(file.subarray(0, 64)).toString("latin1").trimStart()
    if (!head.startsWith(armorStart)) return file
    const typage = await import("age-encryption")
    try {
        return typage.armor.decode(Buffer.from(file).toString("latin1"))
    } catch (e) {
        throw hinted(`the armored age file is damaged: ${message(e)}`, "export it again", { cause: e })
    }
}

/**
 * Reads a decrypted export document: its scope and each key's value, checked. Every error names
 * the file and what is wrong, never a value.
 */
export function parse(plain: Uint8Array, file: string): { scope: string; items: Map<string, Item> } {
    const bad = (what: string) => hinted(`${JSON.stringify(file)} is not a mcplexer export: ${what}`, "make one with: mcplexer secret export <scope> -o <file>")
    let doc: unknown
    try {
        doc = JSON.parse(utf8.decode(plain))
    } catch {
        throw bad("its content is not JSON")
    }
    if (typeof doc !== "object" || doc === null) throw bad("its content is not a JSON object")
    const d = doc as Record<string, unknown>
    if (d.mcplexer !== format) throw bad(`"mcplexer" is not ${JSON.stringify(format)}`)
    if (typeof d.scope !== "string") throw bad(`"scope" is missing`)
    if (typeof d.secrets !== "object" || d.secrets === null || Array.isArray(d.secrets)) throw bad(`"secrets" is not an object`)
    const items = new Map<string, Item>()
    for (const [key, v] of Object.entries(d.secrets as Record<string, unknown>)) {
        if (typeof v !== "object" || v === null) throw bad(`the entry of ${JSON.stringify(key)} is not an object`)
        const e = v as Record<string, unknown>
        let value: Buffer
        if (typeof e.value === "string" && e.base64 === undefined) value = Buffer.from(e.value, "utf8")
        else if (typeof e.base64 === "string" && e.value === undefined && /^[A-Za-z0-9+/]*={0,2}$/.test(e.base64)) value = Buffer.from(e.base64, "base64")
        else throw bad(`the entry of ${JSON.stringify(key)} needs exactly one of "value" (text) or "base64"`)
        const item: Item = { value }
        if (e.expires !== undefined) {
            const t = typeof e.expires === "string" ? Date.parse(e.expires) : NaN
            if (Number.isNaN(t)) throw bad(`the "expires" of ${JSON.stringify(key)} is not a date`)
            item.expires = new Date(t)
        }
        items.set(key, item)
    }
    return { scope: d.scope, items }
}
