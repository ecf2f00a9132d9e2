import * as config from "../config/index.ts"

/**
 * The `oauth:` servers with no stored login (an access or refresh token in their scope), judged
 * from the key names alone (`stored` holds "scope/KEY"), so nothing is decrypted; a
 * client_credentials server logs itself in and is never listed. `status`, `doctor` and the web UI
 * all ask this.
 */
export function loginMissing(c: config.Config, stored: Set<string>): string[] {
    const out: string[] = []
    for (const s of c.servers.values()) {
        if (s.kind !== "remote" || s.oauth === undefined || s.oauth.grant === "client_credentials") continue
        const has = (item: "access_token" | "refresh_token") => stored.has(`${s.scope ?? ""}/${config.oauthKey(s.name, item)}`)
        if (!has("access_token") && !has("refresh_token")) out.push(s.name)
    }
    return out
}
