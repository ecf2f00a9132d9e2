// Token revocation (RFC 7009), which the SDK's OAuth client does not have: `auth logout` posts it here.
import { selectClientAuthMethod, type OAuthClientProvider } from "@modelcontextprotocol/sdk/client/auth.js"
import type { AuthorizationServerMetadata, OAuthClientInformationMixed } from "@modelcontextprotocol/sdk/shared/auth.js"
import { openable } from "./present.ts"

/** What one revocation needs. */
export interface Revocation {
    /** the token, and which kind it is (`token_type_hint`) */
    token: string
    hint: "access_token" | "refresh_token"
    /** the authorization server's metadata, which names the endpoint if it has one */
    metadata: AuthorizationServerMetadata
    client: OAuthClientInformationMixed | undefined
    /** the client's own authentication, when it has one (a signed assertion: private_key_jwt) */
    authenticate?: OAuthClientProvider["addClientAuthentication"]
}

/**
 * Revokes one token at the authorization server; false when its metadata names no revocation
 * endpoint (nothing is sent then). The client authenticates as it does at the
 * token endpoint: with its signed assertion when it has a private key, else by the method the SDK
 * picks for the token endpoint (`selectClientAuthMethod`), from the revocation endpoint's list.
 */
export async function revoke(r: Revocation): Promise<boolean> {
    // both kinds of metadata may name it (RFC 8414, and OpenID's discovery), the SDK's OpenID type does not
    const m = r.metadata as { revocation_endpoint?: string; revocation_endpoint_auth_methods_supported?: string[] }
    if (m.revocation_endpoint === undefined) return false
    const url = new URL(m.revocation_endpoint)
    // the token would cross the network in clear (or go wherever an odd scheme leads): never sent
    if (!openable(url)) throw new Error(`the revocation endpoint ${JSON.stringify(url.href)} is not https, so the token was not sent to it`)
    const body = new URLSearchParams({ token: r.token, token_type_hint: r.hint })
    const headers = new Headers({ "content-type": "application/x-www-form-urlencoded" })
    const client = r.client
    if (r.authenticate !== undefined) {
        await r.authenticate(headers, body, url, r.metadata)
    } else if (client !== undefined) {
        const method = selectClientAuthMethod(client, m.revocation_endpoint_auth_methods_supported ?? [])
        if (client.client_secret !== undefined && method === "client_secret_basic") {
            headers.set("authorization", `Basic ${Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`).toString("base64")}`)
        } else {
            body.set("client_id", client.client_id)
            if (client.client_secret !== undefined) body.set("client_secret", client.client_secret)
        }
    }
    const res = await fetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(10_000) })
    if (!res.ok) throw new Error(`the revocation endpoint answered ${res.status}`)
    return true
}
