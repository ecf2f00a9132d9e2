/** Helpers of the CLI tests around the gateway: configs with real fixture servers, a planted secret. */
import assert from "node:assert/strict"
import { existsSync, readFileSync } from "node:fs"
import { writeFile } from "node:fs/promises"
import { join } from "node:path"
import { fresh, root, run, type Result } from "../helpers.ts"
export { alive } from "../../internal/cli/status.ts"

/** The value every test plants in scope "gh" and looks for in every byte it sees. */
export const planted = "ghp_cliPLANTED-7d3e9a1f-must-never-show"

/** tsx by absolute URL, so a fixture runs whatever the working folder. */
const tsx = import.meta.resolve("tsx")

/** A flow-style YAML entry running one of test/fixtures under tsx. */
export function fixture(file: string, extra: Record<string, unknown> = {}): string {
    return JSON.stringify({ command: process.execPath, args: ["--import", tsx, join(root, "test", "fixtures", file)], ...extra })
}

/** A flow-style YAML entry running @modelcontextprotocol/server-everything over stdio. */
export function everything(extra: Record<string, unknown> = {}): string {
    const entry = join(root, "node_modules", "@modelcontextprotocol", "server-everything", "dist", "index.js")
    return JSON.stringify({ command: process.execPath, args: [entry], ...extra })
}

/** A config with scopes gh and acme and the given servers (name -> flow-style YAML entry). */
export function yaml(servers: Record<string, string>): string {
    const lines = ["auth_scopes:", "  gh: { description: test scope }", "  acme: { description: another test scope }", "servers:"]
    for (const [name, entry] of Object.entries(servers)) lines.push(`  ${name}: ${entry}`)
    if (Object.keys(servers).length === 0) lines[lines.length - 1] = "servers: {}"
    return lines.join("\n") + "\n"
}

/**
 * A fresh home with `servers` configured (given the home folder, for files inside it), initialised,
 * and the planted secret stored as gh/TOKEN.
 */
export async function home(servers: Record<string, string> | ((home: string) => Record<string, string>)): Promise<string> {
    const h = await fresh(null)
    await writeFile(join(h, "config.yaml"), yaml(typeof servers === "function" ? servers(h) : servers))
    const init = await run(h, ["init"])
    assert.equal(init.code, 0, init.stderr)
    const put = await run(h, ["secret", "put", "gh", "TOKEN"], { input: planted })
    assert.equal(put.code, 0, put.stderr)
    return h
}

/** Asserts the planted value is in no byte of a command's output. */
export function clean(...results: Result[]): void {
    for (const r of results) {
        assert.ok(!r.stdout.includes(planted), `the planted secret is on stdout:\n${r.stdout}`)
        assert.ok(!r.stderr.includes(planted), `the planted secret is on stderr:\n${r.stderr}`)
    }
}

/** The pids a fixture wrote to its DS_START_LOG file (one line per start). */
export function started(file: string): number[] {
    if (!existsSync(file)) return []
    return readFileSync(file, "utf8").split("\n").filter(Boolean).map(Number)
}
