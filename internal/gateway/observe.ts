/**
 * One place to watch what the gateway does: every audit row a trail of this process queues (a
 * call with its status and latency, a decryption, an approval, a tool change) is handed to each
 * observer as it is queued, before it is written. The metrics of `/metrics` count from here
 * rather than from counters spread over the router. An observer must be quick and must not throw
 * (a throw is swallowed: a call never fails for its metrics); it sees names, never a value.
 */
import type * as store from "../store/index.ts"

/** Sees one audit row as it is queued. */
export type Observer = (row: Readonly<store.audit.Row>) => void

const observers = new Set<Observer>()

/** Starts watching; returns the function that stops. */
export function observe(f: Observer): () => void {
    observers.add(f)
    return () => { observers.delete(f) }
}

/** Hands `row` to every observer (audit.ts Trail.add, the one caller). */
export function emit(row: store.audit.Row): void {
    for (const f of observers) {
        try {
            f(row)
        } catch { /* see above */ }
    }
}
