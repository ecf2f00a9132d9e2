#!/usr/bin/env bash
# The package as a new user gets it: `npm pack`, a global install of the tarball into a temporary
# prefix with a fresh HOME (no checkout, no build), then the CLI from an unrelated folder: --version,
# init, secret put/get, and one tools/list through serve.
set -euo pipefail
cd "$(dirname "$0")/.."
checkout=$PWD
# npm's own settings here (nodedir, so better-sqlite3 compiles against the local headers) live in
# the user's ~/.npmrc: a fresh HOME must still point npm at it (NOTES.md)
userconfig=${npm_config_userconfig:-$HOME/.npmrc}
[ -f "$userconfig" ] || userconfig=/root/.npmrc
work=$(mktemp -d "${TMPDIR:-/tmp}/mcplexer-pack.XXXXXX")
trap 'rm -rf "$work"' EXIT
step() { printf 'pack: %s\n' "$*" >&2; }

step "npm pack (builds dist/ through prepare)"
npm pack --pack-destination "$work" --silent >/dev/null
tgz=$(ls "$work"/mcplexer-*.tgz)
tar tzf "$tgz" | grep -x 'package/dist/mcplexer.js' >/dev/null || { step "dist/mcplexer.js is not in $tgz"; exit 1; }

step "npm install -g $(basename "$tgz") into a temporary prefix, HOME=$work/home"
mkdir -p "$work/home" "$work/elsewhere"
export HOME=$work/home npm_config_userconfig=$userconfig npm_config_prefix=$work/prefix npm_config_cache=$work/home/.npm
unset MCPLEXER_HOME MCPLEXER_CONFIG MCPLEXER_DB MCPLEXER_AGE_KEY
npm install -g "$tgz" --no-audit --no-fund --loglevel=error >&2
export PATH=$work/prefix/bin:$PATH
cd "$work/elsewhere"
[ "$(command -v mcplexer)" = "$work/prefix/bin/mcplexer" ] || { step "mcplexer is not the installed one: $(command -v mcplexer)"; exit 1; }

want=$(node -p "require('$checkout/package.json').version")
got=$(mcplexer --version)
[ "$got" = "$want" ] || { step "mcplexer --version printed '$got', not '$want'"; exit 1; }
step "mcplexer --version: $got"

mcplexer init >/dev/null
value="pack-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s' "$value" | mcplexer secret put personal TOKEN
[ "$(mcplexer secret get personal TOKEN)" = "$value" ] || { step "secret get did not give back the value put"; exit 1; }
step "init, secret put/get: ok"

# a client is pointed at the installed command by its absolute path, with no MCPLEXER_HOME (the default)
entry=$(mcplexer install cursor --dry-run 2>/dev/null)
printf '%s\n' "$entry" | grep -F "\"command\": \"$work/prefix/bin/mcplexer\"" >/dev/null || { step "install does not name the installed mcplexer:"; printf '%s\n' "$entry" >&2; exit 1; }
if printf '%s\n' "$entry" | grep -F MCPLEXER_HOME >/dev/null; then step "install names the default home"; exit 1; fi
step "install --dry-run names $work/prefix/bin/mcplexer"

# one server from the checkout's node_modules, moved in by import, then tools/list through serve over stdio
cat > servers.json <<JSON
{ "mcpServers": { "everything": { "command": "$(command -v node)",
  "args": ["$checkout/node_modules/@modelcontextprotocol/server-everything/dist/index.js"] } } }
JSON
mcplexer import ./servers.json --yes >/dev/null
node --input-type=module - <<'JS'
import { spawn } from "node:child_process"
const child = spawn("mcplexer", ["serve"], { stdio: ["pipe", "pipe", "inherit"] })
const send = m => child.stdin.write(JSON.stringify({ jsonrpc: "2.0", ...m }) + "\n")
let buf = ""
const timer = setTimeout(() => { console.error("pack: serve gave no tools/list answer in 60 s"); process.exit(1) }, 60_000)
child.stdout.on("data", d => {
    buf += d
    for (let i; (i = buf.indexOf("\n")) >= 0; buf = buf.slice(i + 1)) {
        const m = JSON.parse(buf.slice(0, i))
        if (m.id === 1) { send({ method: "notifications/initialized" }); send({ id: 2, method: "tools/list" }) }
        if (m.id === 2) {
            const names = m.result.tools.map(t => t.name)
            if (!names.includes("everything__echo")) { console.error(`pack: tools/list lacks everything__echo: ${names}`); process.exit(1) }
            console.error(`pack: tools/list through serve: ${names.length} tools`)
            clearTimeout(timer)
            child.stdin.end()
        }
    }
})
send({ id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "pack", version: "1" } } })
JS
step "ok"
