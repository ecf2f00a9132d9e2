import type { RequestId } from "@modelcontextprotocol/sdk/types.js"

// deletions between two renewals of the map (see Ids)
const renewal = 4096

/**
 * What is in flight, keyed by request id: entries added and removed once per call, on both sides
 * of the gateway (the downstream requests pending, the client's calls, the HTTP lanes waiting).
 *
 * A Map renewed every few thousand deletions, for the garbage collector's sake. V8 links a Map's
 * discarded hash table to its replacement, so once one of a busy Map's tables has reached the old
 * generation (an idle moment is enough), each later table, and every call object it held, is
 * kept alive by the dead one before it until the next full collection: the chain never ends. With
 * 32 calls in flight (bench/gateway.ts, 2026-11-26) serve promoted 0.9 MB per young collection
 * and ran a full one every second; young collections took 3.3 ms each instead of 0.8 ms. A new
 * Map starts a new chain. (A null-prototype object, which keeps no link, made each add, lookup
 * and delete 5 times slower than a Map.)
 */
export class Ids<V> {
    private map = new Map<RequestId, V>()
    private deleted = 0

    get size(): number {
        return this.map.size
    }

    get(id: RequestId): V | undefined {
        return this.map.get(id)
    }

    set(id: RequestId, v: V): void {
        this.map.set(id, v)
    }

    /** Removes the entry of `id`; false when there was none. */
    delete(id: RequestId): boolean {
        if (!this.map.delete(id)) return false
        if (++this.deleted === renewal) {
            this.deleted = 0
            this.map = new Map(this.map)
        }
        return true
    }

    /** Every entry, in the order they were added. */
    values(): V[] {
        return this.map.size === 0 ? [] : [...this.map.values()]
    }

    clear(): void {
        this.map = new Map()
        this.deleted = 0
    }
}
