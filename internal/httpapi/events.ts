import type { EventStore } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js"
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js"

/**
 * The SSE events of one session, the last `max` only, so a client whose stream dropped can
 * resume with Last-Event-ID (SEP-1699) without the session growing without bound.
 */
export class Events implements EventStore {
    private readonly list: Array<{ id: string; stream: string; message: JSONRPCMessage }> = []
    private seq = 0
    private readonly max: number
    constructor(max: number) {
        this.max = max
    }

    storeEvent(stream: string, message: JSONRPCMessage): Promise<string> {
        const id = `${stream}:${++this.seq}`
        this.list.push({ id, stream, message })
        if (this.list.length > this.max) this.list.shift()
        return Promise.resolve(id)
    }

    getStreamIdForEventId(id: string): Promise<string | undefined> {
        return Promise.resolve(this.list.find(e => e.id === id)?.stream)
    }

    async replayEventsAfter(last: string, { send }: { send: (id: string, m: JSONRPCMessage) => Promise<void> }): Promise<string> {
        const at = this.list.findIndex(e => e.id === last)
        if (at < 0) return ""
        const stream = this.list[at]!.stream
        for (const e of this.list.slice(at + 1)) {
            // the priming event of a stream is stored as {} and is not a message to replay
            if (e.stream === stream && Object.keys(e.message).length > 0) await send(e.id, e.message)
        }
        return stream
    }
}
