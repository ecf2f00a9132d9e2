/**
 * OAuth 2.1 for remote servers, built on the SDK's client (`auth()`: discovery, registration,
 * PKCE, the token requests, refresh, step-up), with the vault as its storage: the access token,
 * the refresh token, the expiry and the client registration are age-encrypted rows in the
 * instance's scope (keys from config.oauthKey), every token is registered for redaction when it
 * is read or made, and nothing here logs or throws a value.
 *
 * Where it goes around the SDK: the SDK leaves the browser and the redirect to the application
 * (the loopback listener, the RFC 9207 `iss` check and the platform opener are here); its
 * transport builds the authorization URL on a 401 before any listener runs, so the URL's
 * redirect_uri is pointed at the listener afterwards (registered portless, RFC 8252 §7.3); it only
 * refreshes on a 401, so `tokens()` refreshes shortly before the expiry it records itself; its
 * `invalidateCredentials("tokens")` after a refused refresh would delete tokens another process
 * just stored, so those are kept; and it has no token revocation (RFC 7009), which `logout`
 * posts by hand (revoke.ts).
 *
 * What it does not take from an authorization server: a login link that is not https (or http to
 * this machine), since the browser opener would run any scheme; metadata whose `issuer` is not the
 * URL it was fetched for (RFC 8414 §3.3, which the SDK does not check); an answer larger than
 * 1 MiB (every OAuth request goes through fetch.ts `fetcher`, which also backs off from a server whose
 * answers failed); and a login whose start link was opened twice (loopback.ts).
 */
import { auth, type OAuthClientProvider, type OAuthDiscoveryState } from "@modelcontextprotocol/sdk/client/auth.js"
import { createPrivateKeyJwtAuth } from "@modelcontextprotocol/sdk/client/auth-extensions.js"
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from "@modelcontextprotocol/sdk/shared/auth.js"
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js"
import * as config from "../config/index.ts"
import type * as redact from "../redact/index.ts"
import * as secrets from "../secrets/index.ts"
import { Loopback, nonce } from "./loopback.ts"
import { checkLink, LoginNeeded, loginTimeout, type Present } from "./present.ts"
import { fetcher } from "./fetch.ts"
import { revoke } from "./revoke.ts"

export { LoginNeeded, checkLink, interactive, loginTimeout, openable, presenter, unauthorized, type Present } from "./present.ts"

/** A token this close to its expiry (or half its lifetime, if shorter) is refreshed before it is sent. */
export const refreshMargin = 60_000
// the redirect URI while no listener runs: registered portless, as RFC 8252 §7.3 allows for loopback
const placeholder = "http://127.0.0.1/callback"

/** What a provider is made of. */
export interface Options {
    server: config.RemoteServer
    scope: string
    vault: secrets.Vault
    registry: redact.Registry
    /** the server's URL, references expanded */
    url: string
    /** who can be shown a login link now: undefined when nobody can */
    present?: () => Present | undefined
    timeout?: number
}

/** The vault-backed OAuthClientProvider of one (server, scope). */
export class Provider implements OAuthClientProvider {
    readonly name: string
    readonly url: string
    /** what this provider's own OAuth requests go through (the transports make theirs with the server's headers: remote.ts); see fetcher */
    readonly fetch: FetchLike
    private readonly o: Options
    private readonly oauth: config.OAuth
    private preset: { client_id: string; client_secret?: string } | undefined
    /** set for a client with a private key: each token request carries a signed assertion (private_key_jwt, RFC 7523) */
    addClientAuthentication?: OAuthClientProvider["addClientAuthentication"]
    private loop: Loopback | undefined
    private pending: URL | undefined
    private verifier: string | undefined
    private cached: { stamp: number; tokens: OAuthTokens | undefined; expiresAt?: number; margin?: number } | undefined
    private refreshing: Promise<void> | undefined
    private checked = 0
    private inAuth = false
    private loggingIn: Promise<void> | undefined

    constructor(o: Options) {
        if (o.server.oauth === undefined) throw new Error(`server ${JSON.stringify(o.server.name)} has no oauth settings`)
        this.o = o
        this.oauth = o.server.oauth
        this.name = o.server.name
        this.url = o.url
        this.fetch = fetcher(o.url)
    }

    /** Reads a pre-registered client's id and secret from their ${secret:…} references. */
    async prepare(): Promise<this> {
        const read = async (ref: string | undefined) => {
            if (ref === undefined) return undefined
            const p = config.template(ref)[0] as { secret: { scope?: string; key: string } }
            const scope = p.secret.scope ?? this.o.scope
            try {
                return await this.o.vault.get(scope, p.secret.key)
            } catch (e) {
                if (e instanceof secrets.NotFoundError) throw new secrets.MissingSecretError(this.name, scope, p.secret.key)
                throw e
            }
        }
        const id = await read(this.oauth.clientId)
        const secret = await read(this.oauth.clientSecret)
        const key = await read(this.oauth.privateKey)
        if (secret !== undefined) this.o.registry.add(secret)
        if (key !== undefined) this.o.registry.add(key)
        if (id !== undefined) this.preset = { client_id: id, ...(secret === undefined ? {} : { client_secret: secret }) }
        if (id !== undefined && key !== undefined) {
            // the SDK's own assertion maker: iss and sub the client id, aud the issuer, five minutes
            this.addClientAuthentication = createPrivateKeyJwtAuth({ issuer: id, subject: id, privateKey: key, alg: this.oauth.signingAlgorithm ?? "ES256" })
        }
        return this
    }

    private get machine(): boolean {
        return this.oauth.grant === "client_credentials"
    }

    private key(item: Parameters<typeof config.oauthKey>[1]): string {
        return config.oauthKey(this.name, item)
    }

    // OAuthClientProvider: what the SDK asks.

    get redirectUrl(): string | undefined {
        if (this.machine) return undefined
        return this.loop?.url ?? placeholder
    }

    get clientMetadataUrl(): string | undefined {
        return this.oauth.clientMetadataUrl
    }

    get clientMetadata(): OAuthClientMetadata {
        const scope = this.oauth.scopes?.join(" ")
        return {
            client_name: "mcplexer",
            redirect_uris: this.machine ? [] : [this.redirectUrl ?? placeholder],
            grant_types: this.machine ? ["client_credentials"] : ["authorization_code", "refresh_token"],
            response_types: this.machine ? [] : ["code"],
            ...(scope ? { scope } : {}),
        }
    }

    state(): string {
        return nonce()
    }

    async clientInformation(): Promise<OAuthClientInformationMixed | undefined> {
        if (this.preset) return this.preset
        const raw = await this.read("client")
        if (raw === undefined) return undefined
        const info = JSON.parse(raw) as OAuthClientInformationMixed
        if (info.client_secret !== undefined) this.o.registry.add(info.client_secret)
        return info
    }

    async saveClientInformation(info: OAuthClientInformationMixed): Promise<void> {
        if (this.preset) return // the config holds it
        if (info.client_secret !== undefined) this.o.registry.add(info.client_secret)
        await this.o.vault.put(this.o.scope, this.key("client"), JSON.stringify(info))
    }

    async tokens(): Promise<OAuthTokens | undefined> {
        const t = await this.load()
        if (t === undefined || this.inAuth || t.refresh_token === undefined) return t
        const at = this.cached?.expiresAt
        if (at === undefined || at - Date.now() > (this.cached?.margin ?? refreshMargin)) return t
        await this.refresh()
        return this.load()
    }

    async saveTokens(t: OAuthTokens): Promise<void> {
        const v = this.o.vault
        const scope = this.o.scope
        this.o.registry.add(t.access_token, ...(t.refresh_token === undefined ? [] : [t.refresh_token]))
        const expiry = {
            ...(t.expires_in === undefined ? {} : { expires_at: Date.now() + t.expires_in * 1000, lifetime: t.expires_in }),
            ...(t.scope === undefined ? {} : { scope: t.scope }),
            token_type: t.token_type,
            ...(t.issuer === undefined ? {} : { issuer: t.issuer }),
        }
        await v.put(scope, this.key("expiry"), JSON.stringify(expiry))
        // a refresh that brings no new refresh token leaves the old one valid; a new login does not
        if (t.refresh_token !== undefined) await v.put(scope, this.key("refresh_token"), t.refresh_token)
        else if (this.loggingIn) this.drop("refresh_token")
        // written last: readers in other processes reload when this row's time moves
        await v.put(scope, this.key("access_token"), t.access_token)
        this.cached = undefined
    }

    redirectToAuthorization(url: URL): void {
        this.pending = url
    }

    saveCodeVerifier(v: string): void {
        this.verifier = v
    }

    codeVerifier(): string {
        if (this.verifier === undefined) throw new Error("no login in progress")
        return this.verifier
    }

    prepareTokenRequest(scope?: string): URLSearchParams | undefined {
        if (!this.machine) return undefined
        return new URLSearchParams({ grant_type: "client_credentials", ...(scope ? { scope } : {}) })
    }

    invalidateCredentials(what: "all" | "client" | "tokens" | "verifier" | "discovery"): void {
        if (what === "verifier" || what === "all") this.verifier = undefined
        // another process (or instance) stored newer tokens since ours were read: those stay
        if (what === "tokens" && this.stamp() !== (this.cached?.stamp ?? 0)) {
            this.cached = undefined
            return
        }
        if (what === "tokens" || what === "all") {
            for (const k of ["access_token", "refresh_token", "expiry"] as const) this.drop(k)
            this.cached = undefined
        }
        if (what === "client" || what === "all") this.drop("client")
        if (what === "discovery" || what === "all") this.drop("discovery")
    }

    async saveDiscoveryState(s: OAuthDiscoveryState): Promise<void> {
        // The SDK saves what it discovered before it uses it (registration, the login link, tokens):
        // refusing here stops the login before anything is sent on the strength of that metadata.
        const issuer = s.authorizationServerMetadata?.issuer
        // Without protected resource metadata naming it (the 2025-03-26 fallback), the issuer was
        // never advertised, only guessed as the server's origin: servers of that era put theirs at
        // a path of that origin (the conformance suite's backcompat scenario), so the origin must match.
        const advertised = s.resourceMetadata?.authorization_servers?.includes(s.authorizationServerUrl) === true
        if (issuer !== undefined && !sameIssuer(issuer, s.authorizationServerUrl) && (advertised || !sameOrigin(issuer, s.authorizationServerUrl))) {
            throw config.hinted(
                `the authorization server metadata of server ${JSON.stringify(this.name)} names issuer ${JSON.stringify(issuer)}, not ${JSON.stringify(s.authorizationServerUrl)} it was fetched for (RFC 8414 §3.3); nothing was stored`,
                `the metadata may have been substituted, or the server is misconfigured: ask its operator; mcplexer uses no metadata whose issuer differs`,
                { kind: "unavailable" },
            )
        }
        await this.o.vault.put(this.o.scope, this.key("discovery"), JSON.stringify(s))
    }

    async discoveryState(): Promise<OAuthDiscoveryState | undefined> {
        const raw = await this.read("discovery")
        return raw === undefined ? undefined : JSON.parse(raw) as OAuthDiscoveryState
    }

    // mcplexer's side.

    /** The error for a login nobody can do from here. */
    needed(why?: string): LoginNeeded {
        return new LoginNeeded(this.name, why)
    }

    /**
     * Gets a login after the SDK answered "unauthorized": a machine client asks for a token; anyone
     * else is shown the authorization URL (the SDK's, or a new one) through `present`, and the code
     * that comes back to the loopback listener is exchanged. One login at a time per provider.
     */
    login(present?: Present): Promise<void> {
        this.loggingIn ??= this.browse(present).finally(() => { this.loggingIn = undefined })
        return this.loggingIn
    }

    private async browse(given: Present | undefined): Promise<void> {
        // tokens stored meanwhile by another process or instance (a refresh, a login): try those first
        if (this.cached !== undefined && this.stamp() !== this.cached.stamp) {
            this.cached = undefined
            return
        }
        if (this.machine) {
            if (await auth(this, { serverUrl: this.url, fetchFn: this.fetch }) !== "AUTHORIZED") throw this.needed()
            return
        }
        const present = given ?? this.o.present?.()
        if (present === undefined) throw this.needed()
        this.loop = await Loopback.open(this.o.timeout ?? loginTimeout)
        try {
            let url = this.pending
            this.pending = undefined
            if (url === undefined) {
                if (await auth(this, { serverUrl: this.url, fetchFn: this.fetch }) === "AUTHORIZED") return
                url = this.pending
                this.pending = undefined
                if (url === undefined) throw this.needed("the authorization server gave no login link")
            }
            checkLink(url, this.name)
            // the SDK built the URL while no listener ran: send the browser back to this one
            url.searchParams.set("redirect_uri", this.loop.url)
            this.loop.expect(url.searchParams.get("state") ?? "")
            const back = this.loop.code()
            // the browser's arguments are readable by every local user: they get the one-shot start
            // link, never the state and PKCE challenge of the authorization URL
            await present(new URL(this.loop.start(url)), this.name, url.origin)
            const { code, iss } = await back
            await this.issuer(iss)
            if (await auth(this, { serverUrl: this.url, authorizationCode: code, fetchFn: this.fetch }) !== "AUTHORIZED") throw this.needed()
        } finally {
            this.loop.close()
            this.loop = undefined
            this.verifier = undefined
        }
    }

    /** RFC 9207: where the server says it sends `iss`, it must be the issuer we discovered. */
    private async issuer(iss: string | undefined): Promise<void> {
        const meta = (await this.discoveryState())?.authorizationServerMetadata
        const expected = meta?.issuer
        const required = (meta as { authorization_response_iss_parameter_supported?: boolean } | undefined)?.authorization_response_iss_parameter_supported === true
        if (iss === undefined && !required) return
        if (iss === undefined || expected === undefined || iss !== expected) {
            throw config.hinted(
                `the login of server ${JSON.stringify(this.name)} came back from issuer ${JSON.stringify(iss ?? "(none)")}, not ${JSON.stringify(expected ?? "(unknown)")} (RFC 9207); nothing was stored`,
                "the browser was sent back by another authorization server (a mix-up), or this one omits iss though it says it sends it: start the login again, and ask the server's operator if it persists",
                { kind: "conflict" },
            )
        }
    }

    /** What `auth status` shows: logged in or not, the expiry and the granted scopes; never a token. */
    async status(): Promise<{ loggedIn: boolean; expiresAt?: Date; scopes?: string[]; refreshable: boolean }> {
        const names = new Set(this.o.vault.list(this.o.scope).map(e => e.key))
        const loggedIn = names.has(this.key("access_token"))
        const raw = loggedIn && names.has(this.key("expiry")) ? await this.read("expiry") : undefined
        const e = raw === undefined ? {} : JSON.parse(raw) as { expires_at?: number; scope?: string }
        return {
            loggedIn,
            ...(e.expires_at === undefined ? {} : { expiresAt: new Date(e.expires_at) }),
            ...(e.scope === undefined ? {} : { scopes: e.scope.split(" ").filter(Boolean) }),
            refreshable: names.has(this.key("refresh_token")),
        }
    }

    /**
     * Logs out: revokes the refresh token, else the access token, at the authorization server when
     * its metadata names a revocation endpoint (RFC 7009), then deletes every row. Whether it revoked.
     */
    async logout(): Promise<{ revoked: boolean; error?: string }> {
        let revoked = false
        let error: string | undefined
        const metadata = (await this.discoveryState())?.authorizationServerMetadata
        const refresh = await this.read("refresh_token")
        const token = refresh ?? await this.read("access_token")
        if (metadata !== undefined && token !== undefined) {
            try {
                revoked = await revoke({
                    token, hint: refresh === undefined ? "access_token" : "refresh_token", metadata,
                    client: await this.clientInformation(), authenticate: this.addClientAuthentication,
                })
            } catch (e) {
                error = this.o.registry.scrub(e instanceof Error ? e.message : String(e))
            }
        }
        this.invalidateCredentials("all")
        return { revoked, ...(error === undefined ? {} : { error }) }
    }

    /** The stored tokens, decrypted again only when another write moved them. */
    private async load(): Promise<OAuthTokens | undefined> {
        // The SDK asks for the tokens on every request; looking at the vault's index each time cost
        // a median 217 µs a request here (listing the scope), once a second about 1 µs: a token
        // another process wrote is seen within a second, and our own writes clear the cache.
        const now = Date.now()
        if (this.cached !== undefined && now - this.checked < 1000) return this.cached.tokens
        this.checked = now
        const stamp = this.stamp()
        if (this.cached?.stamp === stamp) return this.cached.tokens
        if (stamp === 0) {
            this.cached = { stamp, tokens: undefined }
            return undefined
        }
        const [access, refresh, expiry] = await Promise.all([this.read("access_token"), this.read("refresh_token"), this.read("expiry")])
        if (access === undefined) return undefined
        const e = expiry === undefined ? {} : JSON.parse(expiry) as { expires_at?: number; lifetime?: number; scope?: string; token_type?: string; issuer?: string }
        this.o.registry.add(access, ...(refresh === undefined ? [] : [refresh]))
        const tokens: OAuthTokens = {
            access_token: access,
            token_type: e.token_type ?? "Bearer",
            ...(refresh === undefined ? {} : { refresh_token: refresh }),
            ...(e.scope === undefined ? {} : { scope: e.scope }),
            ...(e.expires_at === undefined ? {} : { expires_in: Math.max(0, Math.floor((e.expires_at - Date.now()) / 1000)) }),
            ...(e.issuer === undefined ? {} : { issuer: e.issuer }),
        }
        const margin = Math.min(refreshMargin, (e.lifetime ?? Infinity) * 500)
        this.cached = { stamp, tokens, margin, ...(e.expires_at === undefined ? {} : { expiresAt: e.expires_at }) }
        return tokens
    }

    /** When the access token row was last written (0: none); from the index, never decrypts. */
    private stamp(): number {
        return this.o.vault.list(this.o.scope).find(e => e.key === this.key("access_token"))?.updatedAt.getTime() ?? 0
    }

    /** Refreshes now (one refresh at a time); a failure leaves the old token to meet its 401. */
    private refresh(): Promise<void> {
        this.refreshing ??= (async () => {
            this.inAuth = true
            try {
                await auth(this, { serverUrl: this.url, fetchFn: this.fetch })
            } catch {
                // the request goes out with what is stored; its 401 runs the SDK's own recovery
            } finally {
                this.inAuth = false
                this.refreshing = undefined
            }
        })()
        return this.refreshing
    }

    private async read(item: Parameters<typeof config.oauthKey>[1]): Promise<string | undefined> {
        try {
            return await this.o.vault.get(this.o.scope, this.key(item))
        } catch (e) {
            if (e instanceof secrets.NotFoundError) return undefined
            throw e
        }
    }

    private drop(item: Parameters<typeof config.oauthKey>[1]): void {
        try {
            this.o.vault.delete(this.o.scope, this.key(item))
        } catch (e) {
            if (!(e instanceof secrets.NotFoundError)) throw e
        }
    }
}

/**
 * The error to show for `e`, thrown while logging in to `server`: a document of its authorization
 * server that the SDK's schema refused (a ZodError: a `javascript:` or `data:` login link, a
 * missing field) is the server's doing, said as such with what was wrong, never as mcplexer's bug
 * with the validator's dump. Anything else is returned as it is.
 */
export function unusable(e: unknown, server: string): unknown {
    if (!(e instanceof Error) || e.name !== "ZodError") return e
    const issues = (e as Error & { issues?: Array<{ path?: PropertyKey[]; message?: string }> }).issues ?? []
    const what = issues.slice(0, 3).map(i => `${(i.path ?? []).map(String).join(".") || "(document)"}: ${i.message ?? "invalid"}`).join("; ")
    return config.hinted(
        `the authorization server of server ${JSON.stringify(server)} sent an OAuth document mcplexer cannot use (${what.slice(0, 300)}); nothing was opened or stored`,
        `ask the server's operator, or remove oauth: from server ${JSON.stringify(server)}`,
        { kind: "unavailable" },
    )
}

/** RFC 8414 §3.3 compares issuers as strings; a lone trailing "/" is forgiven, as the SDK writes a bare origin with one. */
function sameIssuer(issuer: string, from: string): boolean {
    const a = issuer.replace(/\/$/, "")
    const b = from.replace(/\/$/, "")
    return a === b
}

function sameOrigin(a: string, b: string): boolean {
    try {
        return new URL(a).origin === new URL(b).origin
    } catch {
        return false
    }
}
