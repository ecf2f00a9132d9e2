/**
 * The console in a real headless Chromium against a real `mcplexer serve --http`: log in, flip a
 * tool's switch and find config.yaml changed, search the tools, see a changed tool withheld with
 * its diff and flag and approve it, see a waiting call appear in the navigation without a reload
 * and answer it from the page, export the audit as CSV, read /metrics after a call. axe-core
 * checks every page at 1280 px; at 420 px no page scrolls sideways. Screenshots of every page at
 * both widths land in test/artifacts/. The planted value is in nothing the browser receives.
 */
import assert from "node:assert/strict"
import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { mkdir, readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { test } from "node:test"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { chromium, type Browser, type Page } from "playwright-core"
import { root, serveHttp, temp } from "../helpers.ts"

const chromiumPath = "/usr/bin/chromium"
const artifacts = join(root, "test", "artifacts")
const planted = "pl4nted-CONSOLE-secret-5c4b3a2918"
const tsx = import.meta.resolve("tsx")
const tsxCli = join(root, "node_modules", "tsx", "dist", "cli.mjs")
const entry = join(root, "cmd", "mcplexer.ts")
const axeSource = join(root, "node_modules", "axe-core", "axe.min.js")

const fixture = (name: string) => JSON.stringify(join(root, "test", "fixtures", name))

function config(work: string, rug: string): string {
    return `auth_scopes:
  gh: { description: test scope }
servers:
  # the ds fixture gets its token from the vault
  ds:
    command: ${JSON.stringify(process.execPath)}
    args: ["--import", ${JSON.stringify(tsx)}, ${fixture("ds-server.ts")}]
    scope: gh
    env: { TOKEN: "\${secret:TOKEN}" }
  rug:
    command: ${JSON.stringify(process.execPath)}
    args: ["--import", ${JSON.stringify(tsx)}, ${fixture("rug-server.ts")}]
    env: { RUG_VERSION: "${rug}" }
workspaces:
  work:
    root: ${JSON.stringify(work)}
    routes:
      - { tools: ["ds__echo"], approval: all, lease: 1h }
`
}

function cli(home: string, args: string[], input = ""): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, MCPLEXER_HOME: home }
    return new Promise((done, fail) => {
        const c = spawn(process.execPath, [tsxCli, entry, ...args], { env, stdio: ["pipe", "pipe", "pipe"] })
        let stdout = "", stderr = ""
        c.stdout.setEncoding("utf8").on("data", (d: string) => { stdout += d })
        c.stderr.setEncoding("utf8").on("data", (d: string) => { stderr += d })
        c.on("error", fail)
        c.on("close", code => done({ code, stdout, stderr }))
        c.stdin.end(input)
    })
}

type Text = { content: Array<{ type: string; text?: string }>; isError?: boolean }
const pages = ["/", "/servers", "/tools", "/secrets", "/approvals", "/audit"]
const named = (p: string) => p === "/" ? "dashboard" : p.slice(1)

/** axe-core's serious and critical violations on the page as it is now. */
async function axe(page: Page): Promise<string[]> {
    if (!await page.evaluate("typeof window.axe !== 'undefined'")) await page.addScriptTag({ content: await readFile(axeSource, "utf8") })
    const r = await page.evaluate<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> }>("window.axe.run(document, { resultTypes: ['violations'] })")
    return r.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map(n => n.target.join(" ")).join("; ")}`)
}

test("the console: switches, search, a withheld change, a live approval, the audit as CSV, metrics; accessible, narrow, and without the value", { skip: !existsSync(chromiumPath) && "no /usr/bin/chromium", timeout: 240_000 }, async () => {
    await mkdir(artifacts, { recursive: true })
    const home = temp()
    const work = temp("mcplexer-work-")
    const file = join(home, "config.yaml")
    // the rug fixture is pinned as it starts (version 1), then presents a changed tool (version 2)
    await writeFile(file, config(work, "1"))
    assert.equal((await cli(home, ["secret", "put", "gh", "TOKEN"], planted)).code, 0)
    const listed = await cli(home, ["tools", "--all"])
    assert.equal(listed.code, 0, listed.stderr)
    await writeFile(file, config(work, "2"))
    const token = (await cli(home, ["token"])).stdout.trim()
    const s = await serveHttp(home, { cwd: work })
    let browser: Browser | undefined
    let client: Client | undefined
    const received: string[] = []
    try {
        browser = await chromium.launch({ executablePath: chromiumPath, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] })
        // axe-core is injected as a script, which the pages' nonce CSP would refuse (NOTES.md)
        const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, bypassCSP: true, acceptDownloads: true, timezoneId: "Europe/Berlin", locale: "en-GB" })
        const page = await context.newPage()
        page.on("response", r => {
            received.push(`${r.status()} ${r.url()} ${JSON.stringify(r.headers())}`)
            // the event stream never ends: its events are read below, from the page
            if (!r.url().endsWith("/events")) r.text().then(b => { received.push(b) }, () => { /* a redirect has no body */ })
        })
        const shot = (name: string) => page.screenshot({ path: join(artifacts, `console-${name}.png`), fullPage: true })

        await page.goto(`${s.url}/login`)
        await page.fill("input[name=token]", token)
        await page.click("button.primary")
        await page.waitForURL(/\/s\/[A-Za-z0-9_-]+\/$/)
        const ui = page.url().replace(/\/$/, "")

        // the servers page: both servers, their tool counts, the change waiting on rug
        await page.goto(`${ui}/servers`)
        const rug = page.locator("tr[data-server=rug]")
        await rug.waitFor()
        assert.match(await rug.textContent() ?? "", /1 to approve|2 to approve/)
        assert.match(await page.locator("tr[data-server=ds]").textContent() ?? "", /of 15/)

        // the tools page: a switch per tool, named after the tool; flipping it writes config.yaml
        await page.goto(`${ui}/tools`)
        const before = await readFile(file, "utf8")
        const sw = page.getByRole("switch", { name: "rug__plain" })
        assert.equal(await sw.getAttribute("aria-checked"), "true")
        await Promise.all([page.waitForURL(/\/tools\?done=/), sw.click()])
        const after = await readFile(file, "utf8")
        assert.notEqual(after, before)
        assert.match(after, / {2}rug:\n(.*\n)*? {4}tools: \{ disabled: \[plain\] \}\n/)
        // every line but the new one is as it was: comments and order kept
        assert.deepEqual(after.split("\n").filter(l => !l.includes("disabled")), before.split("\n"))
        assert.equal(await page.getByRole("switch", { name: "rug__plain" }).getAttribute("aria-checked"), "false")
        assert.match(await page.locator(".note").textContent() ?? "", /switched off rug__plain/)
        assert.match(await page.locator("tr[data-tool=rug__plain]").textContent() ?? "", /switched off/)

        // the changed tool: withheld, with its diff and its flag, until approved here
        const held = page.locator("tr[data-withheld=rug__add]")
        assert.match(await held.locator("pre").textContent() ?? "", /-\s+"description": "Adds two numbers\."/)
        assert.ok(await page.locator("tr[data-tool=rug__add] [data-flag]").count() > 0, "the poisoned description shows no flag")
        await shot("tools-withheld-1280")
        await Promise.all([page.waitForURL(/\/tools\?done=/), page.getByRole("button", { name: "approve rug__lookup" }).click()])
        assert.match(await page.locator(".note").textContent() ?? "", /approved rug__lookup/)
        assert.equal(await page.locator("tr[data-withheld=rug__lookup]").count(), 0)
        assert.equal(await page.locator("tr[data-withheld=rug__add]").count(), 1)

        // the search ranks as `mcplexer tools search` does
        await page.fill("input[type=search]", "echo")
        await Promise.all([page.waitForURL(/\/tools\?q=echo/), page.press("input[type=search]", "Enter")])
        assert.equal(await page.locator("tr[data-tool]").first().getAttribute("data-tool"), "ds__echo")
        const cliHits = JSON.parse((await cli(home, ["tools", "search", "echo", "--json"])).stdout) as Array<{ name: string }>
        const pageHits = await page.evaluate<Array<string | null>>("[...document.querySelectorAll('tr[data-tool]')].map(r => r.getAttribute('data-tool'))")
        assert.deepEqual(pageHits.slice(0, cliHits.length), cliHits.map(h => h.name))
        await shot("tools-search-1280")

        // a call waiting for approval: the count in the navigation moves without a reload, within 2 s
        await page.goto(`${ui}/approvals`)
        assert.equal(await page.locator("[data-pending]").isHidden(), true)
        const transport = new StreamableHTTPClientTransport(new URL(`${s.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } })
        client = new Client({ name: "console-test", version: "1.0.0" })
        await client.connect(transport)
        const url = page.url()
        const started = performance.now()
        const call = client.callTool({ name: "ds__echo", arguments: { text: "approved hello" } }) as Promise<Text>
        await page.waitForFunction("document.querySelector('[data-pending]').textContent === '1' && !document.querySelector('[data-pending]').hidden", undefined, { timeout: 2000 })
        const waited = performance.now() - started
        assert.ok(waited < 2000, `the count took ${waited} ms`)
        assert.equal(page.url(), url)
        // the page follows it too: the waiting call's row, with its arguments, without a reload
        const row = page.locator("tr[data-approval]").first()
        await row.waitFor({ timeout: 2000 })
        assert.match(await row.textContent() ?? "", /ds__echo[\s\S]*approved hello/)
        await shot("approvals-waiting-1280")
        await Promise.all([page.waitForURL(/\/approvals\?done=/), row.getByRole("button", { name: "approve", exact: true }).click()])
        const r = await call
        assert.notEqual(r.isError, true, JSON.stringify(r))
        assert.match(r.content[0]?.text ?? "", /approved hello/)
        await page.waitForFunction("document.querySelector('[data-pending]').hidden")

        // deny with a reason; then approve for a while, which lists a lease to revoke
        const denied = client.callTool({ name: "ds__echo", arguments: { text: "no" } }) as Promise<Text>
        await page.locator("tr[data-approval]").first().waitFor({ timeout: 3000 })
        await page.getByRole("textbox", { name: /reason for denying/ }).fill("not today")
        await Promise.all([page.waitForURL(/\/approvals\?done=/), page.locator("tr[data-approval] button.danger").click()])
        const d = await denied
        assert.equal(d.isError, true)
        assert.match(d.content[0]?.text ?? "", /denied/)
        const leased = client.callTool({ name: "ds__echo", arguments: { text: "for a while" } }) as Promise<Text>
        await page.locator("tr[data-approval]").first().waitFor({ timeout: 3000 })
        await page.selectOption("tr[data-approval] select", "15m")
        await Promise.all([page.waitForURL(/\/approvals\?done=/), page.getByRole("button", { name: "approve for that long" }).click()])
        assert.notEqual((await leased).isError, true)
        assert.equal(await page.locator("tr[data-lease]").count(), 1)
        await shot("leases-1280")
        await Promise.all([page.waitForURL(/\/approvals\?done=/), page.getByRole("button", { name: /revoke lease/ }).click()])
        assert.equal(await page.locator("tr[data-lease]").count(), 0)

        // the audit: readable rows, a glob filter, the latency, and the selection as CSV
        await page.goto(`${ui}/audit?tool=ds__*&action=call`)
        const first = page.locator("tr[data-audit]").first()
        assert.match(await first.textContent() ?? "", /ds__echo/)
        assert.match(await first.textContent() ?? "", /\d+ ms|\d\.\d s/)
        assert.doesNotMatch(await page.locator("main table").textContent() ?? "", /\{"/)
        // the time is in the browser's zone, named, with how long ago on hover
        assert.match(await first.locator("time").textContent() ?? "", /(CET|CEST|GMT\+[12])$/)
        assert.match(await page.locator("[data-zone]").textContent() ?? "", /^(CET|CEST|GMT\+[12])$/)
        assert.match(await first.locator("time").getAttribute("title") ?? "", /ago|now/)
        const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "CSV" }).click()])
        const csv = await readFile(await download.path(), "utf8")
        assert.match(csv, /^id,time,action,actor,server,tool,/)
        assert.match(csv, /,call,.*,ds,ds__echo,/)
        assert.doesNotMatch(csv, /,secret,|,resolve,/)
        const apiCsv = await fetch(`${s.url}/api/v1/audit?format=csv&tool=ds__*&action=call`, { headers: { authorization: `Bearer ${token}` } })
        assert.equal(apiCsv.status, 200)
        assert.match(apiCsv.headers.get("content-type") ?? "", /^text\/csv/)
        assert.equal((await apiCsv.text()).split("\r\n").length, csv.split("\r\n").length)

        // metrics after the calls, behind the token
        assert.equal((await fetch(`${s.url}/metrics`)).status, 401)
        const read = async () => (await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text()
        // the revoke stops ds's instance in the background: wait for it (5 s at most), then read
        let metrics = await read()
        for (const end = Date.now() + 5000; !/^mcplexer_instances_running\{server="ds"\} 0$/m.test(metrics) && Date.now() < end;) {
            await new Promise(r => setTimeout(r, 100))
            metrics = await read()
        }
        assert.match(metrics, /^mcplexer_tool_calls_total\{server="ds",tool="ds__echo",status="ok"\} 2$/m)
        assert.match(metrics, /^mcplexer_tool_calls_total\{server="ds",tool="ds__echo",status="denied"\} 1$/m)
        assert.match(metrics, /^mcplexer_tool_call_duration_seconds_count\{server="ds",tool="ds__echo"\} 3$/m)
        // the revoked lease stopped ds's instance (it ran with those credentials); rug's runs
        assert.match(metrics, /^mcplexer_instances_running\{server="ds"\} 0$/m)
        assert.match(metrics, /^mcplexer_instances_running\{server="rug"\} 1$/m)
        assert.match(metrics, /^mcplexer_approvals_pending 0$/m)
        assert.match(metrics, /^mcplexer_decryptions_total\{kind="scope",status="ok"\} \d+$/m)
        assert.match(metrics, /^mcplexer_restarts_total\{server="ds"\} 0$/m)

        // every page at 1280 px: no serious or critical axe violation, and a screenshot
        for (const p of pages) {
            await page.goto(`${ui}${p}`)
            await page.waitForLoadState("load")
            assert.deepEqual(await axe(page), [], `axe on ${p}`)
            await shot(`${named(p)}-1280`)
        }
        // and at 420 px: nothing scrolls sideways, tables stack
        await page.setViewportSize({ width: 420, height: 800 })
        for (const p of [...pages, "/tools?q=echo"]) {
            await page.goto(`${ui}${p}`)
            const wide = await page.evaluate<number>("document.documentElement.scrollWidth")
            assert.ok(wide <= 420, `${p} is ${wide} px wide at 420`)
            await shot(`${p === "/tools?q=echo" ? "tools-search" : named(p)}-420`)
        }
        await page.waitForTimeout(300) // the last bodies
        const all = received.join("\n")
        assert.ok(received.length > 40, "the browser received too little to judge")
        assert.ok(!all.includes(planted), "the planted value reached the browser")
        assert.ok(!all.includes(token), "the token reached the browser")
        assert.ok(!csv.includes(planted) && !metrics.includes(planted))
    } finally {
        await client?.close()
        await browser?.close()
        s.child.kill("SIGTERM")
        await new Promise(done => s.child.once("close", done))
    }
})
