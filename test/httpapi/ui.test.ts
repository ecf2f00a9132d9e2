/**
 * The web UI in a real headless Chromium against a real `mcplexer serve --http`: log in with the
 * token, set a secret on the secrets page, call a tool over /mcp that proves the downstream got
 * it, approve a waiting call on the approvals page, and check that the planted value is in
 * nothing the browser received, and that a page on another port of 127.0.0.1 gets no login cookie. Screenshots of every page land in test/artifacts/.
 */
import assert from "node:assert/strict"
import { spawn } from "node:child_process"
import { createHash } from "node:crypto"
import { existsSync } from "node:fs"
import { mkdir, writeFile } from "node:fs/promises"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { join } from "node:path"
import { test } from "node:test"
import { setTimeout as sleep } from "node:timers/promises"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { chromium, type Browser } from "playwright-core"
import { root, serveHttp, temp } from "../helpers.ts"
import { dsConfig } from "./kit.ts"

const chromiumPath = "/usr/bin/chromium"
const artifacts = join(root, "test", "artifacts")
const planted = "pl4nted-UI-secret-9d8e7f6a5b"
const sha = (s: string) => createHash("sha256").update(s).digest("hex")
const tsxCli = join(root, "node_modules", "tsx", "dist", "cli.mjs")
const entry = join(root, "cmd", "mcplexer.ts")

async function token(home: string): Promise<string> {
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, MCPLEXER_HOME: home }
    return new Promise((done, fail) => {
        const c = spawn(process.execPath, [tsxCli, entry, "token"], { env, stdio: ["ignore", "pipe", "ignore"] })
        let out = ""
        c.stdout.setEncoding("utf8").on("data", (d: string) => { out += d })
        c.on("close", code => code === 0 ? done(out.trim()) : fail(new Error(`token exited ${code}`)))
    })
}

type Text = { content: Array<{ type: string; text?: string }>; isError?: boolean }

test("the web UI sets a secret the downstream receives, approves a call, and never shows the value", { skip: !existsSync(chromiumPath) && "no /usr/bin/chromium" }, async () => {
    await mkdir(artifacts, { recursive: true })
    const home = temp()
    const work = temp("mcplexer-work-")
    await writeFile(join(home, "config.yaml"), dsConfig(`workspaces:
  work:
    root: ${JSON.stringify(work)}
    routes:
      - { tools: ["ds__echo"], approval: all }
`))
    const t = await token(home)
    const s = await serveHttp(home, { cwd: work })
    let browser: Browser | undefined
    let client: Client | undefined
    const received: string[] = []
    try {
        browser = await chromium.launch({ executablePath: chromiumPath, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] })
        const page = await browser.newPage({ viewport: { width: 1280, height: 800 } })
        page.on("response", r => {
            received.push(`${r.status()} ${r.url()} ${JSON.stringify(r.headers())}`)
            r.text().then(b => { received.push(b) }, () => { /* a redirect has no body */ })
        })
        const shot = (name: string) => page.screenshot({ path: join(artifacts, `ui-${name}.png`), fullPage: true })

        // log in: the token opens a login at its own address, with an HttpOnly cookie for that address only
        await page.goto(`${s.url}/`)
        assert.match(page.url(), /\/login$/)
        await shot("login")
        await page.fill("input[name=token]", t)
        await page.click("button.primary")
        await page.waitForURL(/\/s\/[A-Za-z0-9_-]+\/$/)
        const ui = page.url().replace(/\/$/, "")
        assert.ok(ui.startsWith(`${s.url}/s/`), ui)
        assert.equal(await page.evaluate("document.cookie"), "")

        // a page of another program on another port of 127.0.0.1 gets no login cookie from this browser
        const cookies: string[] = []
        const other = createServer((req, res) => {
            cookies.push(req.headers.cookie ?? "")
            res.writeHead(200, { "content-type": "text/html" }).end("<p>another local program</p>")
        })
        await new Promise<void>(done => other.listen(0, "127.0.0.1", done))
        try {
            const port = (other.address() as AddressInfo).port
            await page.goto(`http://127.0.0.1:${port}/`)
            await page.goto(`http://127.0.0.1:${port}/secrets`)
            assert.ok(cookies.length >= 2, "the browser did not reach the other port")
            assert.ok(cookies.every(c => !c.includes("mcplexer_session")), `another port received ${JSON.stringify(cookies)}`)
        } finally {
            other.close()
        }
        // without its address, the cookie opens nothing here either
        await page.goto(`${s.url}/secrets`)
        assert.match(page.url(), /\/login$/)

        // the referenced key shows as missing, then as set once a value is entered
        await page.goto(`${ui}/secrets`)
        const row = page.locator("tr[data-scope=gh][data-key=TOKEN]")
        assert.equal(await row.locator(".missing").textContent(), "missing")
        await shot("secrets-missing")
        await row.locator("input[type=password]").fill(planted)
        await row.locator("button.primary").click()
        await page.waitForURL(/\/secrets\?done=/)
        assert.equal(await page.locator("tr[data-scope=gh][data-key=TOKEN] .set").textContent(), "set")
        assert.match(await page.locator(".note").textContent() ?? "", /stored gh\/TOKEN/)
        await shot("secrets-set")

        // a tool called over /mcp proves the downstream got the value
        const transport = new StreamableHTTPClientTransport(new URL(`${s.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${t}` } } })
        client = new Client({ name: "ui-test", version: "1.0.0" })
        await client.connect(transport)
        const env = await client.callTool({ name: "ds__env", arguments: { name: "TOKEN" } }) as Text
        assert.equal((JSON.parse(env.content[0]?.text ?? "{}") as { sha256: string }).sha256, sha(planted))

        // a call that needs approval waits until the person approves it on the page
        const call = client.callTool({ name: "ds__echo", arguments: { text: "approved hello" } }) as Promise<Text>
        let waiting = false
        for (let i = 0; i < 50 && !waiting; i++) {
            await page.goto(`${ui}/approvals`)
            waiting = await page.locator("tr[data-approval]").count() > 0
            if (!waiting) await sleep(200)
        }
        assert.ok(waiting, "no approval appeared")
        assert.match(await page.locator("tr[data-approval]").first().textContent() ?? "", /ds__echo/)
        await shot("approvals")
        await page.locator("tr[data-approval] button.primary").first().click()
        await page.waitForURL(/\/approvals\?done=approved/)
        const r = await call
        assert.notEqual(r.isError, true, JSON.stringify(r))
        assert.match(r.content[0]?.text ?? "", /approved hello/)

        await page.goto(`${ui}/`)
        await page.waitForSelector("text=Recent calls")
        await shot("dashboard")
        await page.goto(`${ui}/audit`)
        await shot("audit")
        await page.goto(`${ui}/audit?scope=gh`)
        await sleep(300) // let the last response bodies arrive
        const all = received.join("\n")
        assert.ok(received.length > 10, "the browser received too little to judge")
        assert.ok(!all.includes(planted), "the planted value reached the browser")
        assert.ok(!all.includes(t), "the token reached the browser")
    } finally {
        await client?.close()
        await browser?.close()
        s.child.kill("SIGTERM")
        await new Promise(done => s.child.once("close", done))
    }
})
