/**
 * A value cut in two and sent back by two ways out of one request, or of one downstream process
 * (issue 19): each half must be masked, wherever it shows (the client, mcplexer's log).
 */
import assert from "node:assert/strict"
import { randomBytes } from "node:crypto"
import { test } from "node:test"
import { CallToolResultSchema, CreateMessageRequestSchema, ElicitRequestSchema, LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js"
import { fixture, start, until, yaml, type Harness } from "./harness.ts"

const planted = `Sp1it-${randomBytes(12).toString("hex")}`
const head = planted.slice(0, planted.length >> 1)
const tail = planted.slice(planted.length >> 1)

/** Every place the halves must not show: what the client received, and every line logged. */
function assertClean(h: Harness, what: string): void {
    const places = [...h.seen, ...h.lines.map(l => `${l.msg} ${JSON.stringify(l.f ?? {})}`)]
    for (const p of places) {
        assert.ok(!p.includes(head), `${what}: the first half showed in ${p}`)
        assert.ok(!p.includes(tail), `${what}: the second half showed in ${p}`)
    }
    assert.ok(places.some(p => p.includes("[redacted]")), `${what}: nothing was masked`)
}

async function harness(): Promise<{ h: Harness; logs: () => number }> {
    let logs = 0
    const h = await start(yaml({ s: fixture("../gateway/split-server.ts", { scope: "gh" }) }), {
        secrets: { gh: { TOKEN: planted } },
        capabilities: { sampling: {}, elicitation: {} },
        setup(c) {
            c.setRequestHandler(CreateMessageRequestSchema, () => ({ role: "assistant", model: "test", content: { type: "text", text: "ok" } }))
            c.setRequestHandler(ElicitRequestSchema, () => ({ action: "decline" }))
            c.setNotificationHandler(LoggingMessageNotificationSchema, () => { logs++ })
        },
    })
    return { h, logs: () => logs }
}

const split = (h: Harness, how: string, o: { onprogress?: () => void } = {}) =>
    h.client.callTool({ name: "s__split", arguments: { how } }, CallToolResultSchema, o)

test("split across an error's message and data", async () => {
    const { h } = await harness()
    try {
        await assert.rejects(split(h, "error"), /\[redacted\]/)
        assertClean(h, "error")
    } finally {
        await h.close()
    }
})

test("split across two messages of a sampling request", async () => {
    const { h } = await harness()
    try {
        await split(h, "sampling")
        assertClean(h, "sampling")
    } finally {
        await h.close()
    }
})

test("split across an elicitation's message and a field's default", async () => {
    const { h } = await harness()
    try {
        await split(h, "elicitation")
        assertClean(h, "elicitation")
    } finally {
        await h.close()
    }
})

test("split across a progress notification and then the result", async () => {
    const { h } = await harness()
    try {
        let progress = 0
        await split(h, "progress", { onprogress: () => { progress++ } })
        assert.equal(progress, 1)
        assertClean(h, "progress then result")
    } finally {
        await h.close()
    }
})

test("split across the log notifications of two loggers", async () => {
    const { h, logs } = await harness()
    try {
        await h.client.setLoggingLevel("debug")
        await split(h, "loggers")
        await until(() => logs() >= 2 || undefined, 3000, "the two log notifications")
        assertClean(h, "two loggers")
    } finally {
        await h.close()
    }
})

test("split across a log notification and then the result (issue 19 re-probe)", async () => {
    const { h, logs } = await harness()
    try {
        await h.client.setLoggingLevel("debug")
        await split(h, "log-result")
        await until(() => logs() >= 1 || undefined, 3000, "the log notification")
        assertClean(h, "log then result")
    } finally {
        await h.close()
    }
})

/** Waits until the downstream's lines of `how` reached the log. */
async function logged(h: Harness, how: string, count: number): Promise<void> {
    await until(() => h.lines.filter(l => l.msg.startsWith(`server "s" stderr`) || l.msg.includes("not JSON-RPC")).length >= count || undefined, 3000, `the log lines of ${how}`)
}

test("split across a downstream's stderr and then its stdout (a line that is not JSON-RPC)", async () => {
    const { h } = await harness()
    try {
        await split(h, "stderr-stdout")
        await logged(h, "stderr-stdout", 2)
        assertClean(h, "stderr then stdout")
    } finally {
        await h.close()
    }
})

test("split across a downstream's stderr and then its JSON-RPC result", async () => {
    const { h } = await harness()
    try {
        await split(h, "stderr-result")
        await logged(h, "stderr-result", 1)
        assertClean(h, "stderr then result")
    } finally {
        await h.close()
    }
})

test("split across a downstream's stderr and then its JSON-RPC result, cut after 3 units", async () => {
    const { h } = await harness()
    try {
        // a start shorter than minLength shows in the log, but the rest must not reach the client
        await h.client.callTool({ name: "s__split", arguments: { how: "stderr-result", cut: 3 } }, CallToolResultSchema)
        await logged(h, "stderr-result", 1)
        for (const p of h.seen) assert.ok(!p.includes(planted.slice(3)), `the rest showed in ${p}`)
        assert.ok(h.seen.some(p => p.includes("[redacted] end")), "the answer was not masked")
    } finally {
        await h.close()
    }
})

test("split across two stdout lines that are not JSON-RPC", async () => {
    const { h } = await harness()
    try {
        await split(h, "garbage")
        await logged(h, "garbage", 2)
        assertClean(h, "two garbage lines")
    } finally {
        await h.close()
    }
})

test("split across partial stderr writes interleaved with other lines", async () => {
    const { h } = await harness()
    try {
        await split(h, "interleaved")
        await logged(h, "interleaved", 3)
        assertClean(h, "interleaved stderr")
    } finally {
        await h.close()
    }
})
