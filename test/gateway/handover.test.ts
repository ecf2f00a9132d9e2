/**
 * A value a downstream begins on its stderr and goes on with in an answer (issue 19 re-probe):
 * the rest must be masked whatever kind of request the answer is to (a tools/call, which the edge
 * serves itself, or a resources/read or prompts/get, which the SDK Server dispatches), result or
 * error, and whether the start was long enough to be masked in the log or not.
 */
import assert from "node:assert/strict"
import { randomBytes } from "node:crypto"
import { test } from "node:test"
import { CallToolResultSchema } from "@modelcontextprotocol/sdk/types.js"
import { fixture, start, until, yaml, type Harness } from "./harness.ts"

const planted = `H4nd-${randomBytes(12).toString("hex")}`

/** Where the value is cut, as the fixture does it (test/fixtures/handover-server.ts). */
const at = { half: planted.length >> 1, three: 3, error: planted.length >> 1 }
type Cut = keyof typeof at

/** Asks the fixture, by one kind of request, to begin the value on stderr and answer with the rest. */
const ways: Record<string, (h: Harness, cut: Cut) => Promise<unknown>> = {
    "tools/call": (h, cut) => h.client.callTool({ name: "s__handover", arguments: { cut } }, CallToolResultSchema),
    "resources/read": (h, cut) => h.client.readResource({ uri: `handover://${cut}` }),
    "prompts/get": (h, cut) => h.client.getPrompt({ name: `s__${cut}` }),
}

async function harness(): Promise<Harness> {
    return start(yaml({ s: fixture("handover-server.ts", { scope: "gh" }) }), { secrets: { gh: { TOKEN: planted } } })
}

/** Waits until the fixture's stderr line reached the log. */
async function logged(h: Harness): Promise<void> {
    await until(() => h.lines.some(l => l.msg.startsWith(`server "s" stderr`)) || undefined, 3000, "the stderr line")
}

for (const [way, ask] of Object.entries(ways)) {
    test(`${way}: a value begun on stderr is masked where the result goes on with it`, async () => {
        const h = await harness()
        try {
            await ask(h, "half")
            await logged(h)
            const [head, tail] = [planted.slice(0, at.half), planted.slice(at.half)]
            for (const p of [...h.seen, ...h.lines.map(l => `${l.msg} ${JSON.stringify(l.f ?? {})}`)]) {
                assert.ok(!p.includes(head), `the start showed in ${p}`)
                assert.ok(!p.includes(tail), `the rest showed in ${p}`)
            }
            assert.ok(h.seen.some(p => p.includes("[redacted] end")), "the answer was not masked")
        } finally {
            await h.close()
        }
    })

    test(`${way}: a value begun on stderr with 3 units is masked where the result goes on with it`, async () => {
        const h = await harness()
        try {
            // a start shorter than minLength shows in the log, but the rest must not reach the client
            await ask(h, "three")
            await logged(h)
            for (const p of h.seen) assert.ok(!p.includes(planted.slice(at.three)), `the rest showed in ${p}`)
            assert.ok(h.seen.some(p => p.includes("[redacted] end")), "the answer was not masked")
        } finally {
            await h.close()
        }
    })

    test(`${way}: a value begun on stderr is masked where an error's message goes on with it`, async () => {
        const h = await harness()
        try {
            await assert.rejects(ask(h, "error"), /\[redacted\] was refused/)
            await logged(h)
            const tail = planted.slice(at.error)
            for (const p of h.seen) assert.ok(!p.includes(tail), `the rest showed in ${p}`)
        } finally {
            await h.close()
        }
    })
}
