import type { Reader} from "./reader.ts";
import { label, q, type Entry } from "./reader.ts"
import { template } from "./template.ts"

/** A remote server that logs in with OAuth 2.1 (`oauth:`; an empty map is enough). */
export interface OAuth {
    /** scopes to ask for when neither the server's 401 nor its metadata name any */
    scopes?: string[]
    /** a pre-registered client: exactly one ${secret:…} reference each, never a literal */
    clientId?: string
    clientSecret?: string
    /** a pre-registered client's private key (PEM, PKCS#8), for private_key_jwt: a ${secret:…} reference */
    privateKey?: string
    /** the algorithm its assertions are signed with (private_key_jwt) */
    signingAlgorithm?: string
    /** a Client ID Metadata Document URL, used when the authorization server supports it */
    clientMetadataUrl?: string
    /** "client_credentials": machine to machine, no browser; needs client_id, and client_secret or private_key */
    grant: "authorization_code" | "client_credentials"
}

const keys = ["scopes", "client_id", "client_secret", "private_key", "signing_algorithm", "client_metadata_url", "grant"]
const hint = "oauth: {} logs in with the server's own discovery and registration; optional: scopes, client_id, client_secret, private_key, signing_algorithm, client_metadata_url, grant"

/** The algorithms a private_key_jwt assertion may be signed with (RFC 7518 asymmetric ones). */
export const signingAlgorithms = ["ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA"]
const refHint = (k: string) => `give it as a reference to a stored secret, e.g. ${k}: "\${secret:${k.toUpperCase()}}"`

/**
 * Reads the `oauth` entry of a remote server. The server must have a scope: its tokens are
 * stored there. `refs` checks a reference the way the rest of the server's values are checked.
 */
export function readOAuth(r: Reader, e: Entry, where: string, scope: string | undefined, refs: (at: Entry, text: string) => void): OAuth {
    const f = r.fields(e.value, label(where, "oauth"), keys, hint)
    if (scope === undefined) {
        r.fail(e.key, `${where}: "oauth" needs the server to have a scope`, "the tokens are stored, age-encrypted, in the server's scope: add scope: <name> (declared under auth_scopes)")
    }
    const out: OAuth = { grant: "authorization_code" }
    const scopes = f.get("scopes")
    if (scopes) {
        out.scopes = r.items(scopes, label(where, "oauth.scopes"), "a list of scope names: scopes: [read, write]").map(i => {
            const s = r.string(i, `${where}: each of "oauth.scopes"`)
            if (!/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(s)) r.fail(i.at, `${where}: invalid oauth scope ${q(s)}`, "an OAuth scope is printable ASCII without spaces, quotes or backslashes")
            return s
        })
    }
    for (const [k, field] of [["client_id", "clientId"], ["client_secret", "clientSecret"], ["private_key", "privateKey"]] as const) {
        const x = f.get(k)
        if (!x) continue
        const text = r.string(x, label(where, `oauth.${k}`), refHint(k))
        refs(x, text)
        const parts = template(text)
        if (parts.length !== 1 || typeof parts[0] !== "object" || !("secret" in parts[0])) {
            r.fail(x.at, `${where}: "oauth.${k}" must be a \${secret:…} reference, not a literal`, `${refHint(k)}, stored with: mcplexer secret put <scope> ${k.toUpperCase()}`)
        }
        out[field] = text
    }
    for (const [k, v] of [["client_secret", out.clientSecret], ["private_key", out.privateKey]] as const) {
        if (v !== undefined && out.clientId === undefined) {
            r.fail(f.get(k)?.key, `${where}: "oauth.${k}" needs "oauth.client_id"`, "a pre-registered client is its id and, for a confidential client, its secret or its private key")
        }
    }
    if (out.clientSecret !== undefined && out.privateKey !== undefined) {
        r.fail(f.get("private_key")?.key, `${where}: "oauth.client_secret" and "oauth.private_key" are two ways to authenticate the client: give one`,
            "private_key signs a JWT assertion (private_key_jwt); client_secret is sent as it is (client_secret_basic or _post)")
    }
    const alg = f.get("signing_algorithm")
    if (alg) {
        if (out.privateKey === undefined) r.fail(alg.key, `${where}: "oauth.signing_algorithm" needs "oauth.private_key"`, "it names the algorithm the private key signs with")
        out.signingAlgorithm = r.choice(alg, label(where, "oauth.signing_algorithm"), signingAlgorithms)
    } else if (out.privateKey !== undefined) {
        out.signingAlgorithm = "ES256"
    }
    const meta = f.get("client_metadata_url")
    if (meta) {
        const u = r.string(meta, label(where, "oauth.client_metadata_url"))
        const ok = URL.canParse(u) && new URL(u).protocol === "https:" && new URL(u).pathname !== "/"
        if (!ok) r.fail(meta.at, `${where}: invalid "oauth.client_metadata_url" ${q(u)}`, "a Client ID Metadata Document URL is https:// with a path, e.g. https://example.com/mcplexer.json")
        out.clientMetadataUrl = u
    }
    const grant = f.get("grant")
    if (grant) out.grant = r.choice(grant, label(where, "oauth.grant"), ["authorization_code", "client_credentials"])
    if (out.grant === "client_credentials" && (out.clientId === undefined || (out.clientSecret === undefined && out.privateKey === undefined))) {
        r.fail(grant?.key, `${where}: "oauth.grant: client_credentials" needs "oauth.client_id" and "oauth.client_secret" (or "oauth.private_key")`,
            "a machine-to-machine client logs in with its own pre-registered id, and its secret or its private key")
    }
    return out
}

/** The vault key of one OAuth item of a server; server names have no "_", so keys never collide. */
export function oauthKey(server: string, item: "access_token" | "refresh_token" | "expiry" | "client" | "discovery"): string {
    return `_oauth_${server.replaceAll("-", "_")}_${item}`
}

/** Whether a vault key holds OAuth state mcplexer manages (never injected, never a change to restart for). */
export function isOAuthKey(key: string): boolean {
    return key.startsWith("_oauth_")
}
