/**
 * The one gate of `/mcp`: every request passes it first, in one order (Host and Origin, a
 * declared body over the cap, the bearer token in constant time), whichever way it arrived
 * (io.ts), before its method, its session or its body is looked at. The protocol version header
 * and the body cap met while reading are checked here too, so that every refusal of a request
 * as such is said in one place.
 */
import { timingSafeEqual } from "node:crypto"
import { SUPPORTED_PROTOCOL_VERSIONS } from "@modelcontextprotocol/sdk/types.js"
import * as wire from "../wire/index.ts"
import { refusal } from "./guard.ts"
import { refuse, type In, type Out } from "./io.ts"

/** What every request to `/mcp` must pass first. */
export interface Gate {
    /** the hostnames Host and Origin may name (guard.ts) */
    allowed: Set<string>
    /** the API token */
    token: string
    /** the largest body, bytes */
    maxBody: number
    /** where refusals of Host and Origin are logged */
    warn(message: string): void
}

/** The checks of a Gate, with what they keep between requests. */
export class Checks {
    private readonly gate: Gate
    private readonly want: Buffer
    // the Host values seen with no Origin, and their verdict (a Host names no secret): each is parsed once
    private readonly hosts = new Map<string, string | undefined>()

    constructor(gate: Gate) {
        this.gate = gate
        this.want = Buffer.from(gate.token)
    }

    /** Whether `r` passes the gate; when it does not, the refusal has been answered on `out`. */
    pass(r: In, out: Out): boolean {
        const why = this.refusal(r)
        if (why !== undefined) {
            this.gate.warn(`http: refused ${r.method} /mcp: ${why}`)
            refuse(out, 403, wire.codes.closed, why)
            return false
        }
        const length = r.header("content-length")
        if (length !== undefined && !(Number(length) <= this.gate.maxBody)) {
            this.tooLarge(out)
            return false
        }
        if (!this.bearer(r.header("authorization"))) {
            refuse(out, 401, wire.codes.timeout, "unauthorized: send Authorization: Bearer <token> (mcplexer token)", { "www-authenticate": `Bearer realm="mcplexer"` })
            return false
        }
        return true
    }

    /** Answers a body found over the cap while it was read. */
    tooLarge(out: Out): void {
        // the rest of the body is not read: the connection goes with the answer
        refuse(out, 413, wire.codes.invalidRequest, `request body is larger than ${this.gate.maxBody} bytes`, { connection: "close" })
    }

    /** Whether the request's MCP-Protocol-Version, if any, is one we speak; when not, 400 has been answered. */
    version(r: In, out: Out): boolean {
        const v = r.header("mcp-protocol-version")
        if (v === undefined || SUPPORTED_PROTOCOL_VERSIONS.includes(v)) return true
        refuse(out, 400, wire.codes.closed, `bad request: unsupported protocol version ${JSON.stringify(v)} (supported: ${SUPPORTED_PROTOCOL_VERSIONS.join(", ")})`)
        return false
    }

    private refusal(r: In): string | undefined {
        const host = r.header("host"), origin = r.header("origin")
        if (origin !== undefined || host === undefined) return refusal(this.gate.allowed, host, origin)
        if (this.hosts.has(host)) return this.hosts.get(host)
        const why = refusal(this.gate.allowed, host, undefined)
        if (this.hosts.size >= 64) this.hosts.clear()
        this.hosts.set(host, why)
        return why
    }

    // One comparison of the token's length in bytes whatever is sent, so that neither the bytes
    // nor whether the length matched show in the time taken; no digest per request (hashing both
    // sides was the largest cost of a call's checks after parsing).
    private bearer(h: string | undefined): boolean {
        const m = h === undefined ? null : /^Bearer +(\S+) *$/i.exec(h)
        if (m === null) return false
        const got = Buffer.from(m[1]!)
        const fits = got.length === this.want.length
        return timingSafeEqual(fits ? got : this.want, this.want) && fits
    }
}
