import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client"
import * as gateway from "../gateway/index.ts"
import type { Options } from "./options.ts"

/**
 * The Prometheus metrics of `GET /metrics` (prom-client), one registry per app. Calls and
 * decryptions are counted from the gateway's one observation point (gateway.observe: every
 * audit row as it is queued), so no counter sits in the router; the instances, their restarts and
 * the pending approvals are read when scraped. Labels are server, tool and status names, never a
 * value, and the text still leaves through the scrubbing responder.
 */
export class Metrics {
    readonly registry = new Registry()
    private readonly stop: () => void

    constructor(o: Options) {
        const r = [this.registry]
        const calls = new Counter({ name: "mcplexer_tool_calls_total", help: "Tool calls, by server, tool and how they ended (ok, error, denied, timeout, cancelled, disabled, withheld, ...)", labelNames: ["server", "tool", "status"], registers: r })
        const duration = new Histogram({
            name: "mcplexer_tool_call_duration_seconds", help: "How long tool calls took, approval waits included", labelNames: ["server", "tool"], registers: r,
            buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
        })
        const decryptions = new Counter({ name: "mcplexer_decryptions_total", help: "Decryptions of the vault: a scope for an instance (kind=scope) or one key (kind=key), by status", labelNames: ["kind", "status"], registers: r })
        const running = () => o.gateway.pool.status().filter(i => i.state === "running")
        new Gauge({
            name: "mcplexer_instances_running", help: "Downstream instances running, by server", labelNames: ["server"], registers: r,
            collect() {
                this.reset()
                for (const name of o.config().servers.keys()) this.set({ server: name }, 0)
                for (const i of running()) this.inc({ server: i.server })
            },
        })
        new Counter({
            name: "mcplexer_restarts_total", help: "Restarts of the downstream instances alive now, by server", labelNames: ["server"], registers: r,
            collect() {
                this.reset()
                for (const i of o.gateway.pool.status()) this.inc({ server: i.server }, i.restarts)
            },
        })
        new Gauge({
            name: "mcplexer_approvals_pending", help: "Tool calls waiting for a person's approval", registers: r,
            collect() {
                this.set(o.approvals?.pending().length ?? 0)
            },
        })
        collectDefaultMetrics({ register: this.registry, prefix: "mcplexer_" })
        this.stop = gateway.observe(row => {
            if (row.action === "call") {
                const labels = { server: row.server ?? "", tool: row.tool ?? "" }
                calls.inc({ ...labels, status: row.status ?? "" })
                if (row.latency !== undefined) duration.observe(labels, row.latency / 1000)
            } else if (row.action === "resolve" || row.action === "get") {
                decryptions.inc({ kind: row.action === "resolve" ? "scope" : "key", status: row.status ?? "" })
            }
        })
    }

    /** The metrics in the Prometheus text format. */
    text(): Promise<string> {
        return this.registry.metrics()
    }

    /** Stops counting (the app is closing). */
    close(): void {
        this.stop()
    }
}
