import type { RequestId } from "@modelcontextprotocol/sdk/types.js"

// deletions between two renewals of the map (see Ids)
const renewal = 4096
// The first renewal comes after this many deletions, while the per-call path still runs in the
// interpreter: counting from 0, it came at the 4,096th call, inside code V8 had already optimised
// without ever seeing `new Map(this.map)`, which threw that code away (Ids.get/delete,
// Calls.request/finish, Edge.call, Relay.forward: ~40 ms of recompilation, then 22 instead of 11 µs
// of CPU per call in the bursts that followed; renewing early gave 0.77 → 0.90× the relay there).
// A plain Map measured the same as either here (gateway bench, 2026-12-07, three alternating runs
// each on a machine at load 11 on 2 cores: serve's CPU per call 48/48/51 µs renewing at 4,096,
// 50/39/51 renewing early, 46/57/51 with no renewal; throughput 0.34/0.34/0.34, 0.28/0.40/0.31 and
// 0.27/0.41/0.27× the relay: noise over any difference), so the renewal stays for what it was
// measured for, the old generation (test/downstream/ids.test.ts: 11.8 MB promoted by a busy Map).
const first = 64

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
    private deleted = renewal - first

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
        this.deleted = renewal - first
    }
}
