/**
 * The recipients one ciphertext is encrypted to. age refuses to mix post-quantum recipients with
 * classic ones in one file (a classic recipient would let a quantum attacker open what the
 * post-quantum one protects); typage allows the mix, so it is refused here, before encrypting.
 */
import { hinted } from "./errors.ts"

/** Whether a recipient is a post-quantum (hybrid ML-KEM-768 + X25519) one: age1pq1…. */
export function postQuantum(recipient: string): boolean {
    return recipient.toLowerCase().startsWith("age1pq1")
}

/**
 * Refuses a list that mixes post-quantum and classic recipients; `where` names what they are for
 * (e.g. `scope "acme"`). The first one of each kind is quoted, so the person sees which to change.
 */
export function check(list: readonly string[], where = "one ciphertext"): void {
    const pq = list.find(postQuantum)
    const classic = list.find(r => !postQuantum(r))
    if (pq === undefined || classic === undefined) return
    throw hinted(`${where} mixes post-quantum and classic age recipients (${JSON.stringify(pq)} and ${JSON.stringify(classic)})`,
        "as age does, mcplexer refuses the mix: a classic recipient would undo what the post-quantum one protects; " +
        "use post-quantum recipients only (age-keygen -pq, mcplexer key rotate --pq) or classic ones only (mcplexer key rotate --no-pq)",
        { kind: "conflict" })
}
