/**
 * Package config knows where mcplexer's files live and reads config.yaml: it parses, validates
 * and fills in defaults, and reports every mistake with its file, line and column. It never
 * reads or holds a secret value (the config only names them) and imports no other module.
 */
export { paths, type Paths } from "./paths.ts"
export { names, checkName } from "./names.ts"
export { ConfigError, Hinted, hinted, type Kind } from "./error.ts"
export { parse, load } from "./load.ts"
export { starter } from "./starter.ts"
export { template, type Part } from "./template.ts"
export { duration, span } from "./duration.ts"
export { type OAuth, isOAuthKey, oauthKey } from "./oauth.ts"
export { suggest } from "./suggest.ts"
export * as guard from "./guard.ts"
export * as atomic from "./atomic.ts"
export type { Config, Scope, Server, StdioServer, RemoteServer, Route, Workspace } from "./types.ts"
export { add, entries, type Additions } from "./edit.ts"
export { disabledBy, switches, type Switch } from "./switch.ts"
