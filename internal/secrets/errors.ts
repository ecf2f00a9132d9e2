import * as config from "../config/index.ts"

/** A stored secret that cannot be read with our key: wrong key, tampered or moved row. */
export class DecryptError extends config.Hinted {
    override name = "DecryptError"
    /** the scope of the row that failed */
    scope: string
    /** the key of the row that failed */
    key: string

    constructor(scope: string, key: string, message: string, hint: string, options?: ErrorOptions) {
        super(message, hint, { ...options, kind: "conflict" })
        this.scope = scope
        this.key = key
    }
}

/** A secret, scope or key file that does not exist. */
export class NotFoundError extends config.Hinted {
    override name = "NotFoundError"

    constructor(message: string, hint: string) {
        super(message, hint, { kind: "missing" })
    }
}

/** A secret a server needs (its scope's, or referenced by ${secret:…}) that is not stored. */
export class MissingSecretError extends config.Hinted {
    override name = "MissingSecretError"
    /** the server that needs it, when known */
    server?: string
    scope: string
    key: string

    constructor(server: string | undefined, scope: string, key: string) {
        super(server === undefined
            ? `secret "${scope}/${key}" is not stored`
            : `server ${JSON.stringify(server)} needs secret "${scope}/${key}", which is not stored`, `mcplexer secret put ${scope} ${key}`, { kind: "missing" })
        if (server !== undefined) this.server = server
        this.scope = scope
        this.key = key
    }
}

/** A plain failure with its hint (config's one error shape, re-exported for the vault's callers). */
export const hinted = config.hinted

/** An error's message, or the thrown value as text (for audit rows and wrapped errors: never a value). */
export function message(e: unknown): string {
    return e instanceof Error ? e.message : String(e)
}

/** The error for a (scope, key) that is not stored. */
export function notFound(scope: string, key: string): NotFoundError {
    return new NotFoundError(`secret ${JSON.stringify(`${scope}/${key}`)} not found`, `list what is stored with: mcplexer secret list ${scope}`)
}
