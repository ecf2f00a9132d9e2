/**
 * Token revocation (downstream/revoke.ts) against a local endpoint that records what it is sent:
 * a client with a private key signs an assertion the endpoint verifies with the public key, a
 * client with a secret sends it the way the metadata allows, and metadata without an endpoint
 * sends nothing.
 */
import assert from "node:assert/strict"
import { generateKeyPairSync } from "node:crypto"
import { createServer, type IncomingMessage } from "node:http"
import type { AddressInfo } from "node:net"
import { test } from "node:test"
import { createPrivateKeyJwtAuth } from "@modelcontextprotocol/sdk/client/auth-extensions.js"
import type { AuthorizationServerMetadata } from "@modelcontextprotocol/sdk/shared/auth.js"
import { jwtVerify } from "jose"
import { revoke } from "../../internal/downstream/revoke.ts"

interface Seen { authorization?: string; body: URLSearchParams }

async function endpoint(): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
    const seen: Seen[] = []
    const server = createServer((req: IncomingMessage, res) => {
        let text = ""
        req.setEncoding("utf8").on("data", (d: string) => { text += d }).on("end", () => {
            seen.push({ ...(req.headers.authorization === undefined ? {} : { authorization: req.headers.authorization }), body: new URLSearchParams(text) })
            res.writeHead(200).end()
        })
    })
    await new Promise<void>(done => server.listen(0, "127.0.0.1", done))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    return { url, seen, close: () => new Promise(done => server.close(() => done())) }
}

function metadata(url: string, methods?: string[]): AuthorizationServerMetadata {
    return {
        issuer: url, authorization_endpoint: `${url}/authorize`, token_endpoint: `${url}/token`, response_types_supported: ["code"],
        revocation_endpoint: `${url}/revoke`, ...(methods === undefined ? {} : { revocation_endpoint_auth_methods_supported: methods }),
    }
}

test("a client with a private key authenticates with an assertion signed by it, for the issuer", async () => {
    const e = await endpoint()
    try {
        const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" })
        const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString()
        const authenticate = createPrivateKeyJwtAuth({ issuer: "my-client", subject: "my-client", privateKey: pem, alg: "ES256" })
        const sent = await revoke({ token: "tok-1", hint: "refresh_token", metadata: metadata(e.url), client: { client_id: "my-client" }, authenticate })
        assert.equal(sent, true)
        const got = e.seen[0]!
        assert.equal(got.body.get("token"), "tok-1")
        assert.equal(got.body.get("token_type_hint"), "refresh_token")
        assert.equal(got.body.get("client_assertion_type"), "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
        const { payload } = await jwtVerify(got.body.get("client_assertion")!, publicKey, { audience: e.url })
        assert.equal(payload.iss, "my-client")
        assert.equal(payload.sub, "my-client")
        assert.equal(got.body.get("client_secret"), null)
    } finally {
        await e.close()
    }
})

test("a client with a secret sends it as the metadata allows; no endpoint, no request", async () => {
    const e = await endpoint()
    try {
        const client = { client_id: "id:1", client_secret: "s3cret" }
        await revoke({ token: "t", hint: "access_token", metadata: metadata(e.url, ["client_secret_post"]), client })
        assert.equal(e.seen[0]!.body.get("client_secret"), "s3cret")
        assert.equal(e.seen[0]!.authorization, undefined)
        await revoke({ token: "t", hint: "access_token", metadata: metadata(e.url, ["client_secret_basic"]), client })
        assert.equal(e.seen[1]!.authorization, `Basic ${Buffer.from("id%3A1:s3cret").toString("base64")}`)
        assert.equal(e.seen[1]!.body.get("client_secret"), null)
        const none = metadata(e.url)
        delete (none as { revocation_endpoint?: string }).revocation_endpoint
        assert.equal(await revoke({ token: "t", hint: "access_token", metadata: none, client }), false)
        assert.equal(e.seen.length, 2)
    } finally {
        await e.close()
    }
})

test("a revocation endpoint that is not https (nor http to this machine) is never sent the token", async () => {
    for (const at of ["http://as.example/revoke", "ftp://as.example/revoke", "file:///tmp/revoke"]) {
        const m = { ...metadata("https://as.example"), revocation_endpoint: at }
        await assert.rejects(revoke({ token: "rt-PLANTED-never-sent", hint: "refresh_token", metadata: m, client: { client_id: "c" } }),
            (e: Error) => e.message.includes("is not https, so the token was not sent") && !e.message.includes("rt-PLANTED"), at)
    }
})
