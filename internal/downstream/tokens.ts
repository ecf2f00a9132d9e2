/**
 * The rows one login keeps in the vault (config.oauthKey: the access and refresh tokens, their
 * expiry, the client registration, the discovery state) and the tokens last decrypted from them.
 * The expiry row's format is written and read here only. Every token is registered for redaction
 * when it is read or saved; nothing here logs or throws a value.
 *
 * The decrypted tokens are kept until the access token row moves: the SDK asks for them on every
 * request, and other processes (the CLI's `auth login`, another `serve`) write the same rows.
 */
import type { OAuthTokens } from "@modelcontextprotocol/sdk/shared/auth.js"
import * as config from "../config/index.ts"
import type * as redact from "../redact/index.ts"
import * as secrets from "../secrets/index.ts"

/** A token this close to its expiry (or half its lifetime, if shorter) is refreshed before it is sent. */
export const refreshMargin = 60_000

/** One of a login's rows. */
export type Item = Parameters<typeof config.oauthKey>[1]

/** The vault rows of one (server, scope) login, with the tokens last decrypted from them. */
export class Tokens {
    private readonly vault: secrets.Vault
    private readonly scope: string
    private readonly name: string
    private readonly registry: redact.Registry
    private cached: { stamp: number; tokens: OAuthTokens | undefined; expiresAt?: number; margin?: number } | undefined
    private flight: Promise<void> | undefined
    private checked = 0
    private busy = false

    constructor(vault: secrets.Vault, scope: string, name: string, registry: redact.Registry) {
        this.vault = vault
        this.scope = scope
        this.name = name
        this.registry = registry
    }

    /** The vault key of `item` for this server. */
    key(item: Item): string {
        return config.oauthKey(this.name, item)
    }

    /** One row's value; undefined when it is not stored. */
    async read(item: Item): Promise<string | undefined> {
        try {
            return await this.vault.get(this.scope, this.key(item))
        } catch (e) {
            if (e instanceof secrets.NotFoundError) return undefined
            throw e
        }
    }

    /** Stores one row (the client registration, the discovery state); tokens go through `save`. */
    async write(item: Item, value: string): Promise<void> {
        await this.vault.put(this.scope, this.key(item), value)
    }

    /** Deletes one row; one that is not stored is no error. */
    drop(item: Item): void {
        try {
            this.vault.delete(this.scope, this.key(item))
        } catch (e) {
            if (!(e instanceof secrets.NotFoundError)) throw e
        }
    }

    /**
     * Stores tokens the SDK was given. `login`: they come from a new login, so a refresh token
     * stored before is dropped when none came; after a refresh the old one stays valid.
     */
    async save(t: OAuthTokens, login: boolean): Promise<void> {
        this.registry.add(t.access_token, ...(t.refresh_token === undefined ? [] : [t.refresh_token]))
        const expiry = {
            ...(t.expires_in === undefined ? {} : { expires_at: Date.now() + t.expires_in * 1000, lifetime: t.expires_in }),
            ...(t.scope === undefined ? {} : { scope: t.scope }),
            token_type: t.token_type,
            ...(t.issuer === undefined ? {} : { issuer: t.issuer }),
        }
        await this.write("expiry", JSON.stringify(expiry))
        // a refresh that brings no new refresh token leaves the old one valid; a new login does not
        if (t.refresh_token !== undefined) await this.write("refresh_token", t.refresh_token)
        else if (login) this.drop("refresh_token")
        // written last: readers in other processes reload when this row's time moves
        await this.write("access_token", t.access_token)
        this.cached = undefined
    }

    /** The stored tokens, decrypted again only when another write moved them. */
    async load(): Promise<OAuthTokens | undefined> {
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
        this.registry.add(access, ...(refresh === undefined ? [] : [refresh]))
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

    /** Whether the loaded access token is within its refresh margin of the expiry it was stored with. */
    due(): boolean {
        const at = this.cached?.expiresAt
        return at !== undefined && at - Date.now() <= (this.cached?.margin ?? refreshMargin)
    }

    /** Whether tokens were loaded (and not forgotten since). */
    get loaded(): boolean {
        return this.cached !== undefined
    }

    /** Whether the access token row was written since the tokens were loaded (or is stored, when none were). */
    moved(): boolean {
        return this.stamp() !== (this.cached?.stamp ?? 0)
    }

    /** Forgets the loaded tokens, so that the next `load` reads the rows again. */
    forget(): void {
        this.cached = undefined
    }

    /** When the access token row was last written (0: none); from the index, never decrypts. */
    private stamp(): number {
        return this.vault.list(this.scope).find(e => e.key === this.key("access_token"))?.updatedAt.getTime() ?? 0
    }

    /** Whether a refresh is running: the SDK's own requests for the tokens meanwhile get them as stored. */
    get refreshing(): boolean {
        return this.busy
    }

    /** Refreshes now through `run` (one refresh at a time); a failure leaves the old token to meet its 401. */
    refresh(run: () => Promise<unknown>): Promise<void> {
        this.flight ??= (async () => {
            this.busy = true
            try {
                await run()
            } catch {
                // the request goes out with what is stored; its 401 runs the SDK's own recovery
            } finally {
                this.busy = false
                this.flight = undefined
            }
        })()
        return this.flight
    }

    /** What `auth status` shows: logged in or not, the expiry and the granted scopes; never a token. */
    async status(): Promise<{ loggedIn: boolean; expiresAt?: Date; scopes?: string[]; refreshable: boolean }> {
        const names = new Set(this.vault.list(this.scope).map(e => e.key))
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
}
