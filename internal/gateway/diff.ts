/** A withheld tool's change for a person to read: the CLI's `tools diff` and the console show the same text. */
import { createTwoFilesPatch } from "diff"
import type * as store from "../store/index.ts"

/**
 * The unified diff between the definition a person approved and the one the server presents now
 * (empty before for a quarantined tool never approved); undefined when nothing is waiting.
 */
export function change(name: string, pin: store.pins.Pin | undefined): string | undefined {
    if (pin === undefined || pin.approvedHash === pin.seenHash) return undefined
    const pretty = (v: unknown) => v === null ? "" : JSON.stringify(v, null, 2) + "\n"
    const before = pin.approvedHash === null ? "never approved: its server is quarantined" : `approved ${pin.approvedAt?.toISOString() ?? ""}`
    return createTwoFilesPatch(`${name} (${before})`, `${name} (seen ${pin.changedAt.toISOString()})`, pretty(pin.approved), pretty(pin.seen), undefined, undefined, { context: 3 })
}
