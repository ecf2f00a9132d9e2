import { hostname, networkInterfaces } from "node:os"

/** The address the server listens on. */
export interface Bind { host: string; port: number }

const loopbackNames = ["localhost", "127.0.0.1", "[::1]"]

/** True for an address only this machine can reach. */
export function loopback(host: string): boolean {
    const h = host.replace(/^\[|\]$/g, "").toLowerCase()
    return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h)
}

function wildcard(host: string): boolean {
    const h = host.replace(/^\[|\]$/g, "")
    return h === "0.0.0.0" || h === "::" || h === ""
}

/** A hostname as URL.hostname spells it: lowercase, IPv6 in brackets. */
function norm(host: string): string {
    const h = host.toLowerCase()
    return h.includes(":") && !h.startsWith("[") ? `[${h}]` : h
}

/**
 * The hostnames a request may name in Host or Origin (DNS rebinding): the bound address, the
 * loopback names when it is loopback or a wildcard, this machine's addresses and name behind a
 * wildcard, and any the user added. The port is not compared: a rebinding page cannot pick
 * the hostname, and a loopback name on another port is still this machine.
 */
export function hosts(bind: Bind, extra: string[] = []): Set<string> {
    const out = new Set<string>(extra.map(norm))
    if (loopback(bind.host) || wildcard(bind.host)) for (const h of loopbackNames) out.add(h)
    if (wildcard(bind.host)) {
        out.add(norm(hostname()))
        for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.add(norm(a.address.replace(/%.*$/, "")))
    } else {
        out.add(norm(bind.host))
    }
    return out
}

/** The hostname of a Host header value, or undefined when it is malformed. */
export function hostOf(header: string): string | undefined {
    if (!/^[A-Za-z0-9.\-[\]:]+$/.test(header)) return undefined
    try {
        const u = new URL(`http://${header}`)
        return u.hostname
    } catch {
        return undefined
    }
}

/** Why a request's Host or Origin is refused, or undefined when both are acceptable. */
export function refusal(allowed: Set<string>, host: string | undefined, origin: string | undefined): string | undefined {
    if (host === undefined) return "missing host header"
    const h = hostOf(host)
    if (h === undefined || !allowed.has(h)) return `host ${JSON.stringify(host)} is not this server`
    if (origin === undefined) return undefined
    let o: URL
    try {
        o = new URL(origin)
    } catch {
        return `origin ${JSON.stringify(origin)} is not allowed`
    }
    if ((o.protocol !== "http:" && o.protocol !== "https:") || !allowed.has(o.hostname)) return `origin ${JSON.stringify(origin)} is not allowed`
    return undefined
}
