/**
 * An error bound for the client: a JSON-RPC code, the message exactly as given, and optional data.
 * The one error constructor of downstream and gateway: the SDK Server answers a thrown Failure with
 * its own code and message, and the edge turns one into a JSON-RPC error the same way. (McpError
 * would put "MCP error <code>: " in front, and the client's SDK adds that again.)
 */
export class Failure extends Error {
    readonly code: number
    readonly data?: unknown
    constructor(code: number, message: string, data?: unknown) {
        super(message)
        this.code = code
        if (data !== undefined) this.data = data
    }
}
