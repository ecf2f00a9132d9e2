/**
 * Writes test/fixtures/tools12.json: the tool catalogs of the 12 reference servers from npm that
 * issue 20 measures tool search and the tool list's cost on (everything, memory, filesystem, github,
 * gitlab, slack, brave-search, google-maps, sequential-thinking, everart, aws-kb-retrieval, postgres).
 * The fixture is the frozen input of test/search and bench/search.ts, so the ranking is tested on the
 * same 95 tools on every machine, offline; this script is how it was made and how to remake it.
 *
 * Regenerate (the servers start offline with placeholder credentials and never call their APIs
 * while listing; install them outside the repository, scripts off):
 *
 *     npm install --prefix /tmp/ref12 --ignore-scripts @modelcontextprotocol/server-{everything,memory,filesystem,github,gitlab,slack,brave-search,google-maps,sequential-thinking,everart,aws-kb-retrieval,postgres}
 *     node --import tsx bench/catalogs.ts /tmp/ref12
 *
 * The client declares what `serve`'s downstream client declares (sampling, elicitation, roots), so
 * the fixture holds the tools `serve` lists: server-everything shows more tools to such a client.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import { ListRootsRequestSchema } from "@modelcontextprotocol/sdk/types.js"
import { relayed } from "../internal/gateway/relay.ts"
import { temp } from "./temp.ts"

/** One server of the twelve: its npm name's tail, placeholder environment and arguments. */
interface Ref { name: string; env?: Record<string, string>; args?: (scratch: string) => string[] }

/** The twelve, in the order of the issue; every credential is a placeholder that is never used. */
const refs: Ref[] = [
    { name: "everything", args: () => ["stdio"] },
    { name: "memory", env: { MEMORY_FILE_PATH: "memory.json" } },
    { name: "filesystem", args: s => [s] },
    { name: "github", env: { GITHUB_PERSONAL_ACCESS_TOKEN: "ghp_placeholder" } },
    { name: "gitlab", env: { GITLAB_PERSONAL_ACCESS_TOKEN: "glpat-placeholder", GITLAB_API_URL: "https://gitlab.invalid/api/v4" } },
    { name: "slack", env: { SLACK_BOT_TOKEN: "xoxb-placeholder", SLACK_TEAM_ID: "T00000000" } },
    { name: "brave-search", env: { BRAVE_API_KEY: "placeholder" } },
    { name: "google-maps", env: { GOOGLE_MAPS_API_KEY: "placeholder" } },
    { name: "sequential-thinking" },
    { name: "everart", env: { EVERART_API_KEY: "placeholder" } },
    { name: "aws-kb-retrieval", env: { AWS_ACCESS_KEY_ID: "placeholder", AWS_SECRET_ACCESS_KEY: "placeholder", AWS_REGION: "us-east-1" } },
    { name: "postgres", args: () => ["postgresql://localhost:1/placeholder"] },
]

/**
 * A tool as the fixture keeps it: every field the server sent, as `serve` passes it on (name,
 * title, description, inputSchema, outputSchema, annotations, execution), so the token count of the
 * full list is the one a client pays.
 */
type Tool = Awaited<ReturnType<Client["listTools"]>>["tools"][number]

/** Lists one server's tools over stdio, started from `prefix`'s node_modules in a scratch folder. */
async function list(prefix: string, ref: Ref): Promise<Tool[]> {
    const dir = join(prefix, "node_modules", "@modelcontextprotocol", `server-${ref.name}`)
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { bin: string | Record<string, string> }
    const bin = typeof pkg.bin === "string" ? pkg.bin : Object.values(pkg.bin)[0] ?? ""
    const scratch = temp("mcplexer-ref-")
    const transport = new StdioClientTransport({
        command: process.execPath,
        args: [join(dir, bin), ...(ref.args?.(scratch) ?? [])],
        env: { PATH: process.env.PATH ?? "", HOME: scratch, ...ref.env },
        cwd: scratch,
        stderr: "ignore",
    })
    const client = new Client({ name: "mcplexer-catalogs", version: "0" }, { capabilities: relayed })
    // server-everything asks for the roots at start; it lists the same tools with none
    client.setRequestHandler(ListRootsRequestSchema, () => ({ roots: [] }))
    await client.connect(transport)
    try {
        const tools: Tool[] = []
        let cursor: string | undefined
        do {
            const page = await client.listTools(cursor === undefined ? {} : { cursor })
            tools.push(...page.tools)
            cursor = page.nextCursor
        } while (cursor)
        return tools
    } finally {
        await client.close()
    }
}

const prefix = resolve(process.argv[2] ?? "/tmp/ref12")
const out: Record<string, Tool[]> = {}
for (const ref of refs) {
    out[ref.name] = await list(prefix, ref)
    console.log(`${ref.name.padEnd(20)} ${out[ref.name]?.length ?? 0} tools`)
}
const file = resolve(import.meta.dirname, "..", "test", "fixtures", "tools12.json")
writeFileSync(file, JSON.stringify(out, null, 2) + "\n")
console.log(`${Object.values(out).flat().length} tools → ${file}`)
