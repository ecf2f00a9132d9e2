/**
 * Probes over real sockets, as an attacker on this machine would send them: held connections,
 * a forged Host (fetch drops it, node:http sends it), and a 10 MB body to a cookie route.
 */
import assert from "node:assert/strict"
import { request } from "node:http"
import { connect, type Socket } from "node:net"
import { test } from "node:test"
import * as httpapi from "../../internal/httpapi/index.ts"
import { start } from "./kit.ts"

function send(port: number, o: { method?: string; path: string; headers: Record<string, string> }): Promise<{ status: number; text: string }> {
    return new Promise((done, fail) => {
        const r = request({ host: "127.0.0.1", port, method: o.method ?? "GET", path: o.path, headers: o.headers }, res => {
            let text = ""
            res.setEncoding("utf8").on("data", (d: string) => { text += d }).on("end", () => done({ status: res.statusCode ?? 0, text }))
        })
        r.on("error", fail)
        r.end()
    })
}

/** Sends a request head and body on a bare socket; resolves with what came back once the server answered or closed. */
function raw(port: number, head: string, body: Buffer): Promise<string> {
    return new Promise(done => {
        const s = connect(port, "127.0.0.1")
        let got = ""
        s.on("error", () => done(got))
        s.setEncoding("utf8").on("data", (d: string) => {
            got += d
            if (got.includes("\r\n\r\n")) {
                s.destroy()
                done(got)
            }
        })
        s.on("close", () => done(got))
        s.write(head)
        s.write(body)
    })
}

test("over real sockets: 1000 held connections, a forged Host and a 10 MB body do not get through", { timeout: 60_000 }, async () => {
    const k = await start()
    const l = await httpapi.listen({
        gateway: k.gw, vault: k.vault, registry: k.registry, config: () => k.cfg, token: k.token,
        bind: { host: "127.0.0.1", port: 0 }, log: { debug() {}, info() {}, warn() {}, error() {} },
    })
    const held: Socket[] = []
    try {
        const host = `127.0.0.1:${l.port}`
        // 1000 connections that never finish their request
        for (let i = 0; i < 1000; i++) {
            const s = connect(l.port, "127.0.0.1")
            s.on("error", () => { /* closed by the server: fine */ })
            s.write(`POST /mcp HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 1000\r\n\r\n{`)
            held.push(s)
        }
        const ok = await send(l.port, { path: "/api/v1/health", headers: { host, authorization: `Bearer ${k.token}` } })
        assert.equal(ok.status, 200, ok.text)
        const forged = await send(l.port, { path: "/api/v1/health", headers: { host: "evil.example.com", authorization: `Bearer ${k.token}` } })
        assert.equal(forged.status, 403)
        // the cap comes before any login check, so a cookie that names no login is as good as a live one here
        const cookie = `${httpapi.cookie}=whatever`
        const big = await raw(l.port, `POST /logout HTTP/1.1\r\nHost: ${host}\r\nCookie: ${cookie}\r\nOrigin: http://${host}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${10 * 1024 * 1024}\r\n\r\n`, Buffer.alloc(10 * 1024 * 1024, 0x61))
        assert.match(big, /^HTTP\/1\.1 413 /)
        const none = await send(l.port, { path: "/api/v1/health", headers: { host } })
        assert.equal(none.status, 401)
    } finally {
        for (const s of held) s.destroy()
        await l.close()
        await k.close()
    }
})
