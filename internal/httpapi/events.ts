import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js"

/** One numbered message of a session's GET stream. */
export interface Event { id: number; message: JSONRPCMessage }

/**
 * What a session sent outside any request (list_changed, log messages, requests not tied to a
 * call), the last `max` only, numbered from 1: the GET stream carries them, those sent before it
 * opened wait here, and a client whose stream dropped resumes with Last-Event-ID (SEP-1699)
 * without the session growing without bound.
 */
export class Events {
    private readonly list: Event[] = []
    private seq = 0
    private readonly max: number
    constructor(max: number) {
        this.max = max
    }

    /** Keeps `message`; returns its event id. */
    add(message: JSONRPCMessage): Event {
        const e = { id: ++this.seq, message }
        this.list.push(e)
        if (this.list.length > this.max) this.list.shift()
        return e
    }

    /** The events after `id` still kept, oldest first. */
    after(id: number): Event[] {
        const at = this.list.findIndex(e => e.id > id)
        return at < 0 ? [] : this.list.slice(at)
    }

    /** Whether `id` names an event this session sent (kept or not): a Last-Event-ID to honour. */
    known(id: number): boolean {
        return Number.isSafeInteger(id) && id >= 0 && id <= this.seq
    }
}
