/**
 * Package secrets owns the age identity file and the vault: one age ciphertext per (scope, key)
 * row of the store, whose plaintext names its scope and key. It decrypts only when asked for a
 * value, and never writes a value anywhere but the ciphertext: not in logs, audit rows or errors.
 * Listing never loads the key nor the age library.
 */
export { DecryptError, MissingSecretError, NotFoundError } from "./errors.ts"
export { type Entry, type PutOptions, type Vault, open } from "./vault.ts"
export { type Warning, ago, health, soon } from "./expiry.ts"
export * as share from "./share.ts"
export { ask, read, type Source, unlock } from "./read.ts"
export { type How, type Protected, protect, unprotect } from "./protect.ts"
export { type Form, form } from "./unlock.ts"
export * as recipients from "./recipients.ts"
export { type Resolved, baseEnv, resolve } from "./resolve.ts"
export { init } from "./init.ts"
export { loginMissing } from "./logins.ts"
export type { Reencrypted, Rotated, Step, Upgraded } from "./rotate.ts"
export { readPrivate, writeNew, writeOver } from "./file.ts"
export { seal, unseal } from "./seal.ts"
export { mark as markLine } from "./identity.ts"
