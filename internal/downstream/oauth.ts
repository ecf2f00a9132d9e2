/**
 * OAuth 2.1 for remote servers, built on the SDK's client (`auth()`: discovery, registration,
 * PKCE, the token requests, refresh, step-up), with the vault as its storage: the access token,
 * the refresh token, the expiry and the client registration are age-encrypted rows in the
 * instance's scope (tokens.ts keeps them and the tokens decrypted from them), every token is
 * registered for redaction when it is read or made, and nothing here logs or throws a value.
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
import { Tokens } from "./tokens.ts"

export { refreshMargin } from "./tokens.ts"
export { LoginNeeded, checkLink, interactive, loginTimeout, openable, presenter, unauthorized, type Present } from "./present.ts"

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
    private readonly stored: Tokens
    private loggingIn: Promise<void> | undefined

    constructor(o: Options) {
        if (o.server.oauth === undefined) throw new Error(`server ${JSON.stringify(o.server.name)} has no oauth settings`)
        this.o = o
        this.oauth = o.server.oauth
        this.name = o.server.name
        this.url = o.url
        this.fetch = fetcher(o.url)
        this.stored = new Tokens(o.vault, o.scope, o.server.name, o.registry)
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
        const raw = await this.stored.read("client")
        if (raw === undefined) return undefined
        const info = JSON.parse(raw) as OAuthClientInformationMixed
        if (info.client_secret !== undefined) this.o.registry.add(info.client_secret)
        return info
    }

    async saveClientInformation(info: OAuthClientInformationMixed): Promise<void> {
        if (this.preset) return // the config holds it
        if (info.client_secret !== undefined) this.o.registry.add(info.client_secret)
        await this.stored.write("client", JSON.stringify(info))
    }

    async tokens(): Promise<OAuthTokens | undefined> {
        const t = await this.stored.load()
        if (t === undefined || this.stored.refreshing || t.refresh_token === undefined || !this.stored.due()) return t
        // the SDK refreshes only on a 401: this refreshes shortly before the expiry it recorded
        await this.stored.refresh(() => auth(this, { serverUrl: this.url, fetchFn: this.fetch }))
        return this.stored.load()
    }

    async saveTokens(t: OAuthTokens): Promise<void> {
        await this.stored.save(t, this.loggingIn !== undefined)
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
        if (what === "tokens" && this.stored.moved()) {
            this.stored.forget()
            return
        }
        if (what === "tokens" || what === "all") {
            for (const k of ["access_token", "refresh_token", "expiry"] as const) this.stored.drop(k)
            this.stored.forget()
        }
        if (what === "client" || what === "all") this.stored.drop("client")
        if (what === "discovery" || what === "all") this.stored.drop("discovery")
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
        await this.stored.write("discovery", JSON.stringify(s))
    }

    async discoveryState(): Promise<OAuthDiscoveryState | undefined> {
        const raw = await this.stored.read("discovery")
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
        if (this.stored.loaded && this.stored.moved()) {
            this.stored.forget()
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
    status(): Promise<{ loggedIn: boolean; expiresAt?: Date; scopes?: string[]; refreshable: boolean }> {
        return this.stored.status()
    }

    /**
     * Logs out: revokes the refresh token, else the access token, at the authorization server when
     * its metadata names a revocation endpoint (RFC 7009), then deletes every row. Whether it revoked.
     */
    async logout(): Promise<{ revoked: boolean; error?: string }> {
        let revoked = false
        let error: string | undefined
        const metadata = (await this.discoveryState())?.authorizationServerMetadata
        const refresh = await this.stored.read("refresh_token")
        const token = refresh ?? await this.stored.read("access_token")
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
