import * as config from "../config/index.ts"
import { html, raw } from "hono/html"
import type { HtmlEscapedString } from "hono/utils/html"
import type { Pending } from "./approvals.ts"
import type * as state from "./state.ts"

/** What every page needs: the script nonce, the CSRF token for its forms, its login's address prefix (`/s/<key>`), where it is under that. */
export interface View { nonce: string; csrf: string; base: string; path: string; approvals: boolean }

/** A rendered page. */
export type Out = HtmlEscapedString | Promise<HtmlEscapedString>
type AuditRow = ReturnType<typeof state.audit>[number]

const style = `
:root { --fg:#1d2430; --muted:#5b6676; --line:#dde2ea; --ok:#137333; --okbg:#e6f4ea; --bad:#b3261e; --badbg:#fce8e6; --accent:#2457c5; }
* { box-sizing: border-box }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); margin: 0; background: #f6f8fb }
header { background: #10192b; color: #fff; padding: 10px 24px; display: flex; gap: 24px; align-items: center }
header b { font-size: 16px; letter-spacing: .3px }
header nav a { color: #c9d6f2; text-decoration: none; margin-right: 16px }
header nav a.on { color: #fff; border-bottom: 2px solid #8fb0ff }
header form { margin-left: auto }
main { padding: 20px 24px; max-width: 1200px }
h1 { font-size: 20px; margin: 0 0 12px } h2 { font-size: 16px; margin: 22px 0 8px }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line) }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top }
th { background: #eef1f6; font-weight: 600 }
code { font: 12px ui-monospace, monospace; background: #eef1f6; padding: 1px 4px; border-radius: 3px }
.set { color: var(--ok); background: var(--okbg); padding: 1px 8px; border-radius: 10px; font-weight: 600 }
.missing { color: var(--bad); background: var(--badbg); padding: 1px 8px; border-radius: 10px; font-weight: 600 }
.state-running { color: var(--ok) } .state-failed, .state-backoff { color: var(--bad) } .muted { color: var(--muted) }
form.inline { display: inline-flex; gap: 6px; align-items: center; margin: 0 }
input, select { font: inherit; padding: 3px 6px; border: 1px solid #b9c2d0; border-radius: 4px }
button { font: inherit; padding: 3px 10px; border: 1px solid #9aa6b8; border-radius: 4px; background: #fff; cursor: pointer }
button.primary { background: var(--accent); color: #fff; border-color: var(--accent) }
button.danger { color: var(--bad) }
.cards { display: flex; gap: 12px; margin-bottom: 8px } .card { background: #fff; border: 1px solid var(--line); padding: 10px 16px; border-radius: 6px }
.card b { display: block; font-size: 20px }
.note { background: #e8f0fe; border: 1px solid #c6d7fb; padding: 6px 10px; border-radius: 4px; margin-bottom: 12px }
.error { background: var(--badbg); border: 1px solid #f3b8b2; padding: 6px 10px; border-radius: 4px; margin-bottom: 12px }
`

// copies a ${secret:…} reference: the only script, run under the page's nonce
const script = `
document.addEventListener("click", e => {
  const b = e.target.closest("button[data-copy]")
  if (!b) return
  navigator.clipboard?.writeText(b.dataset.copy).then(() => { b.textContent = "copied" }, () => { b.textContent = "copy failed" })
})
`

function layout(v: View | undefined, title: string, body: Out): Out {
    const nav = v === undefined ? "" : html`<nav>${[["/", "Dashboard"], ["/secrets", "Secrets"], ["/audit", "Audit"], ["/approvals", "Approvals"]].map(([href, label]) =>
        html`<a href="${v.base}${href}" class="${v.path === href ? "on" : ""}">${label}</a>`)}</nav>
        <form method="post" action="${v.base}/logout"><input type="hidden" name="_csrf" value="${v.csrf}"><button>Log out</button></form>`
    return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · mcplexer</title><style>${raw(style)}</style></head>
<body><header><b>mcplexer</b>${nav}</header><main>${body}</main>
${v === undefined ? "" : html`<script nonce="${v.nonce}">${raw(script)}</script>`}</body></html>`
}

function csrf(v: View): Out {
    return html`<input type="hidden" name="_csrf" value="${v.csrf}">`
}

function when(d: Date | null | undefined): string {
    return d ? d.toISOString().replace("T", " ").slice(0, 19) : ""
}

/** The login page: paste the token `mcplexer token` prints; it opens a login at its own address, with an HttpOnly cookie for that address only. */
export function login({ problem }: { nonce: string; problem?: string }): Out {
    return layout(undefined, "Log in", html`<h1>Log in</h1>
${problem ? html`<div class="error">${problem}</div>` : ""}
<p>Paste the API token that <code>mcplexer token</code> prints.</p>
<form method="post" action="/login" class="inline">
<input type="password" name="token" autocomplete="off" size="50" placeholder="mcp_…" autofocus>
<button class="primary">Log in</button></form>`)
}

/** A page for an error, without the navigation. */
export function error({ message, hint }: { message: string; hint?: string }): Out {
    return layout(undefined, "Error", html`<div class="error">${message}</div>${hint ? html`<p class="muted">${hint}</p>` : ""}<p><a href="/">back</a></p>`)
}

/** The dashboard: servers and their instances, recent calls, recent errors. */
export function dashboard(v: View, d: { servers: state.Server[]; calls: AuditRow[]; errors: AuditRow[]; sessions: number; tools: number }): Out {
    const running = d.servers.reduce((n, s) => n + s.instances.filter(i => i.state === "running").length, 0)
    return layout(v, "Dashboard", html`<h1>Dashboard</h1>
<div class="cards"><div class="card"><b>${d.servers.length}</b>servers</div><div class="card"><b>${running}</b>instances running</div>
<div class="card"><b>${d.tools}</b>tools</div><div class="card"><b>${d.sessions}</b>HTTP sessions</div></div>
<h2>Servers</h2>
<table><tr><th>server</th><th>kind</th><th>scope</th><th>state</th><th>pid</th><th>restarts</th><th>last error</th><th></th></tr>
${d.servers.map(s => (s.instances.length ? s.instances : [undefined]).map(i => html`<tr>
<td>${s.name}</td><td>${s.kind}</td><td>${i?.scope ?? s.scope ?? ""}</td>
<td class="state-${i?.state ?? "stopped"}">${i?.state ?? "stopped"}</td><td>${i?.pid ?? ""}</td><td>${i?.restarts ?? 0}</td>
<td class="muted">${s.login ? html`<span data-login="missing">login missing: run <code>${s.login}</code></span> ` : ""}${i?.lastError ?? ""}</td>
<td>${i && i.state !== "stopped" ? html`<form method="post" action="${v.base}/ui/restart" class="inline">${csrf(v)}<input type="hidden" name="server" value="${s.name}"><button>restart</button></form>` : ""}</td></tr>`))}
</table>
<h2>Recent calls</h2>${rows(d.calls, "no calls recorded yet")}
<h2>Errors</h2>${rows(d.errors, "no errors")}`)
}

function rows(list: AuditRow[], empty: string): Out {
    if (list.length === 0) return html`<p class="muted">${empty}</p>`
    return html`<table><tr><th>time</th><th>action</th><th>actor</th><th>server</th><th>tool</th><th>scope</th><th>key</th><th>status</th><th>detail</th></tr>
${list.map(r => html`<tr><td>${when(r.time)}</td><td>${r.action}</td><td>${r.actor}</td><td>${r.server ?? ""}</td><td>${r.tool ?? ""}</td>
<td>${r.scope ?? ""}</td><td>${r.key ?? ""}</td><td>${r.status ?? ""}</td><td class="muted">${r.detail ? JSON.stringify(r.detail) : ""}</td></tr>`)}</table>`
}

/** Every key the config references or the store holds, set or missing; values are only ever sent, never shown. */
export function secrets(v: View, scopes: state.Scope[], done?: string): Out {
    const declared = scopes.filter(s => s.declared)
    return layout(v, "Secrets", html`<h1>Secrets</h1>
${done ? html`<div class="note">${done}</div>` : ""}
${scopes.map(s => html`<h2>${s.scope} ${s.description ? html`<span class="muted">— ${s.description}</span>` : ""}${s.declared ? "" : html` <span class="missing">not declared in the config</span>`}</h2>
${s.keys.length === 0 ? html`<p class="muted">no keys referenced or stored</p>` : html`<table><tr><th>key</th><th>status</th><th>updated</th><th>used by</th><th>reference</th><th>value</th></tr>
${s.keys.map(k => html`<tr data-scope="${s.scope}" data-key="${k.key}"><td><code>${k.key}</code></td>
<td><span class="${k.set ? "set" : "missing"}">${k.set ? "set" : "missing"}</span></td><td>${when(k.updatedAt)}</td><td>${k.servers.join(", ")}</td>
<td><code>${k.reference}</code> <button type="button" data-copy="${k.reference}">copy</button></td>
<td>${s.declared ? html`<form method="post" action="${v.base}/ui/secrets" class="inline">${csrf(v)}<input type="hidden" name="scope" value="${s.scope}"><input type="hidden" name="key" value="${k.key}">
<input type="password" name="value" autocomplete="new-password" placeholder="${k.set ? "new value" : "value"}" aria-label="value of ${s.scope}/${k.key}" required>
<button class="primary" name="action" value="put">${k.set ? "update" : "set"}</button></form>
${k.set ? html`<form method="post" action="${v.base}/ui/secrets" class="inline">${csrf(v)}<input type="hidden" name="scope" value="${s.scope}"><input type="hidden" name="key" value="${k.key}"><button class="danger" name="action" value="delete">remove</button></form>` : ""}` : ""}</td></tr>`)}
</table>`}`)}
<h2>Add a key</h2>
${declared.length === 0 ? html`<p class="muted">declare a scope under auth_scopes in the config first</p>` : html`<form method="post" action="${v.base}/ui/secrets" class="inline" id="add">${csrf(v)}
<select name="scope" aria-label="scope">${declared.map(s => html`<option>${s.scope}</option>`)}</select>
<input name="key" placeholder="KEY_NAME" pattern="[A-Za-z_][A-Za-z0-9_]{0,127}" required aria-label="key">
<input type="password" name="value" autocomplete="new-password" placeholder="value" required aria-label="value">
<button class="primary" name="action" value="put">add</button></form>`}`)
}

/** The audit trail with its filters. */
export function audit(v: View, list: AuditRow[], q: Record<string, string>): Out {
    const field = (name: string) => html`<input name="${name}" placeholder="${name}" value="${q[name] ?? ""}" size="10">`
    return layout(v, "Audit", html`<h1>Audit trail</h1>
<form method="get" action="${v.base}/audit" class="inline">${["action", "actor", "server", "tool", "scope", "status"].map(field)}<button>filter</button></form>
<p></p>${rows(list, "nothing matches")}`)
}

/** The approval queue. */
export function approvals(v: View, list: Pending[] | undefined): Out {
    if (list === undefined) return layout(v, "Approvals", html`<h1>Approvals</h1><p class="muted">approvals are not available in this build</p>`)
    return layout(v, "Approvals", html`<h1>Approvals</h1>
${list.length === 0 ? html`<p class="muted">no call is waiting</p>` : html`<table><tr><th>#</th><th>asked</th><th>expires</th><th>workspace</th><th>tool</th><th>server</th><th>scope</th><th>arguments</th><th></th></tr>
${list.map(p => html`<tr data-approval="${p.id}"><td>${p.id}</td><td>${when(p.createdAt)}</td><td>${when(p.expiresAt)}</td><td>${p.workspace}</td><td><code>${p.tool}</code></td>
<td>${p.server}</td><td>${p.scope}</td><td><code>${p.arguments ?? ""}</code></td>
<td><form method="post" action="${v.base}/ui/approvals" class="inline">${csrf(v)}<input type="hidden" name="id" value="${p.id}">
<button class="primary" name="answer" value="approve" title="this call only">approve</button>${p.leaseMax > 0
        ? html`<button name="answer" value="lease" title="this call, and later calls to server ${p.server} with scope ${p.scope}">approve for ${config.span(p.leaseMax)}</button>` : ""}<button class="danger" name="answer" value="deny">deny</button></form></td></tr>`)}</table>`}`)
}
