import { hinted } from "./error.ts"
import { checkName } from "./names.ts"

/** One piece of a templated string: literal text, a secret of a scope, or a variable of mcplexer's environment. */
export type Part = string | { secret: { scope?: string; key: string } } | { env: string }

const envName = /^[A-Za-z_][A-Za-z0-9_]*$/
const forms = "references are ${secret:KEY}, ${secret:scope/KEY} and ${env:NAME}; nothing else is expanded"

function malformed(message: string, hint: string): Error {
    return hinted(message, hint)
}

/**
 * Splits a string with ${secret:KEY}, ${secret:scope/KEY} and ${env:NAME} references into parts.
 * "$$" and a "$" not followed by "{" stay literal text as written; there is never any $VAR
 * expansion. Adjacent text is merged; "" gives []. Throws a plain Error carrying a `hint` on a
 * malformed reference ("${other:…}", "${NAME}", an unterminated "${").
 */
export function template(text: string): Part[] {
    const parts: Part[] = []
    let literal = ""
    let i = 0
    while (i < text.length) {
        const at = text.indexOf("$", i)
        if (at < 0) {
            literal += text.slice(i)
            break
        }
        literal += text.slice(i, at)
        const next = text[at + 1]
        if (next === "$") {
            // "$$" is kept whole, so "$${secret:X}" is the literal text it looks like, not a reference
            literal += "$$"
            i = at + 2
            continue
        }
        if (next !== "{") {
            literal += "$"
            i = at + 1
            continue
        }
        const end = text.indexOf("}", at + 2)
        if (end < 0) throw malformed(`unterminated reference ${JSON.stringify(text.slice(at))}`, `close it with "}"; ${forms}`)
        const ref = text.slice(at, end + 1)
        const part = reference(ref, text.slice(at + 2, end))
        if (literal) parts.push(literal)
        literal = ""
        parts.push(part)
        i = end + 1
    }
    if (literal) parts.push(literal)
    return parts
}

function reference(ref: string, inner: string): Part {
    const colon = inner.indexOf(":")
    const kind = colon < 0 ? undefined : inner.slice(0, colon)
    const body = inner.slice(colon + 1)
    if (kind === "secret") {
        const bits = body.split("/")
        const [first, second] = bits
        if (bits.length > 2 || first === undefined) throw malformed(`invalid reference ${JSON.stringify(ref)}`, forms)
        const key = second ?? first
        const scope = second === undefined ? undefined : first
        if (scope !== undefined) check("scope", scope, ref)
        check("key", key, ref)
        return { secret: scope === undefined ? { key } : { scope, key } }
    }
    if (kind === "env") {
        if (!envName.test(body)) {
            throw malformed(`invalid environment variable name ${JSON.stringify(body)} in ${JSON.stringify(ref)}`, "a variable name is letters, digits or \"_\", not starting with a digit")
        }
        return { env: body }
    }
    if (kind === undefined && envName.test(inner)) {
        throw malformed(`unknown reference ${JSON.stringify(ref)}`, `there is no $VAR expansion: write \${env:${inner}} or \${secret:${inner}}`)
    }
    throw malformed(`unknown reference ${JSON.stringify(ref)}`, forms)
}

function check(kind: "scope" | "key", name: string, ref: string): void {
    try {
        checkName(kind, name)
    } catch (e) {
        throw malformed(`${(e as Error).message} in ${JSON.stringify(ref)}`, (e as Error & { hint: string }).hint)
    }
}
