/** A stored secret that cannot be read with our key: wrong key, tampered or moved row. */
export class DecryptError extends Error {
    override name = "DecryptError"
    /** the scope of the row that failed */
    scope: string
    /** the key of the row that failed */
    key: string
    /** what to do about it, for the CLI */
    hint: string

    constructor(scope: string, key: string, message: string, hint: string, options?: ErrorOptions) {
        super(message, options)
        this.scope = scope
        this.key = key
        this.hint = hint
    }
}

/** A secret, scope or key file that does not exist. */
export class NotFoundError extends Error {
    override name = "NotFoundError"
    /** what to do about it, for the CLI */
    hint: string

    constructor(message: string, hint: string) {
        super(message)
        this.hint = hint
    }
}

/** A secret a server needs (its scope's, or referenced by ${secret:…}) that is not stored. */
export class MissingSecretError extends Error {
    override name = "MissingSecretError"
    /** the server that needs it, when known */
    server?: string
    scope: string
    key: string
    /** `mcplexer secret put <scope> <key>` */
    hint: string

    constructor(server: string | undefined, scope: string, key: string) {
        super(server === undefined
            ? `secret "${scope}/${key}" is not stored`
            : `server ${JSON.stringify(server)} needs secret "${scope}/${key}", which is not stored`)
        if (server !== undefined) this.server = server
        this.scope = scope
        this.key = key
        this.hint = `mcplexer secret put ${scope} ${key}`
    }
}

/** A plain Error carrying a hint for the CLI. */
export function hinted(message: string, hint: string, options?: ErrorOptions): Error & { hint: string } {
    return Object.assign(new Error(message, options), { hint })
}

/** An error's message, or the thrown value as text (for audit rows and wrapped errors: never a value). */
export function message(e: unknown): string {
    return e instanceof Error ? e.message : String(e)
}

/** The error for a (scope, key) that is not stored. */
export function notFound(scope: string, key: string): NotFoundError {
    return new NotFoundError(`secret ${JSON.stringify(`${scope}/${key}`)} not found`, `list what is stored with: mcplexer secret list ${scope}`)
}
