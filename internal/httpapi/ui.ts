import { html, raw } from "hono/html"
import type { HtmlEscapedString } from "hono/utils/html"
import type { Warning } from "../secrets/index.ts"
import type * as state from "./state.ts"

/** What every page needs: the script nonce, the CSRF token for its forms, its login's address prefix (`/s/<key>`), where it is under that, the calls waiting for approval. */
export interface View { nonce: string; csrf: string; base: string; path: string; approvals: boolean; pending: number }

/** A rendered page. */
export type Out = HtmlEscapedString | Promise<HtmlEscapedString>

const style = `
:root { --fg:#1d2430; --muted:#5b6676; --line:#dde2ea; --ok:#137333; --okbg:#e6f4ea; --bad:#b3261e; --badbg:#fce8e6; --warn:#7a4d00; --warnbg:#fff4d6; --accent:#2457c5; }
* { box-sizing: border-box }
[hidden] { display: none !important }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); margin: 0; background: #f6f8fb }
header { background: #10192b; color: #fff; padding: 10px 24px; display: flex; flex-wrap: wrap; gap: 8px 24px; align-items: center }
header b { font-size: 16px; letter-spacing: .3px }
header nav { display: flex; flex-wrap: wrap; gap: 4px 16px }
header nav a { color: #c9d6f2; text-decoration: none }
header nav a.on { color: #fff; border-bottom: 2px solid #8fb0ff }
header form { margin-left: auto }
.count { display: inline-block; min-width: 1.5em; padding: 0 6px; margin-left: 4px; border-radius: 9px; background: var(--bad); color: #fff; font-size: 12px; font-weight: 700; text-align: center }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap }
main { padding: 20px 24px; max-width: 1200px }
h1 { font-size: 20px; margin: 0 0 12px } h2 { font-size: 16px; margin: 22px 0 8px }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line) }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere }
th { background: #eef1f6; font-weight: 600; overflow-wrap: normal; white-space: nowrap }
td > code:first-child { overflow-wrap: normal; white-space: nowrap }
code { font: 12px ui-monospace, monospace; background: #eef1f6; padding: 1px 4px; border-radius: 3px; overflow-wrap: anywhere }
pre { font: 12px ui-monospace, monospace; background: #f3f5f9; border: 1px solid var(--line); padding: 8px; overflow-x: auto; max-width: 100% }
details summary { cursor: pointer; color: var(--accent) }
.set, .missing, .tag, .flag { padding: 1px 8px; border-radius: 10px; font-weight: 600; white-space: nowrap; display: inline-block }
.set { color: var(--ok); background: var(--okbg) }
.missing, .flag { color: var(--bad); background: var(--badbg) }
.tag { color: var(--muted); background: #eef1f6; font-weight: 500 }
.tag.warn { color: var(--warn); background: var(--warnbg) }
.state-running, .state-enabled { color: var(--ok) } .state-failed, .state-backoff, .state-withheld, .state-quarantined { color: var(--bad) } .muted, .state-disabled { color: var(--muted) }
form.inline { display: inline-flex; flex-wrap: wrap; gap: 6px; align-items: center; margin: 0 }
form.filters { display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: end; margin-bottom: 12px }
form.filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted) }
input, select { font: inherit; padding: 3px 6px; border: 1px solid #8c97a8; border-radius: 4px; max-width: 100% }
input[type=search] { width: 28em }
button { font: inherit; padding: 3px 10px; border: 1px solid #7d899b; border-radius: 4px; background: #fff; color: var(--fg); cursor: pointer }
button.primary { background: var(--accent); color: #fff; border-color: var(--accent) }
button.danger { color: var(--bad) }
button[role=switch] { width: 52px; padding: 2px; border-radius: 12px; text-align: left; background: #e4e8ef }
button[role=switch] span { display: inline-block; width: 26px; border-radius: 10px; background: #fff; border: 1px solid #7d899b; font-size: 11px; text-align: center }
button[role=switch][aria-checked=true] { background: var(--ok); border-color: var(--ok); text-align: right }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin-bottom: 8px } .card { background: #fff; border: 1px solid var(--line); padding: 10px 16px; border-radius: 6px }
.card b { display: block; font-size: 20px }
.note { background: #e8f0fe; border: 1px solid #c6d7fb; padding: 6px 10px; border-radius: 4px; margin-bottom: 12px }
.error { background: var(--badbg); border: 1px solid #f3b8b2; padding: 6px 10px; border-radius: 4px; margin-bottom: 12px }
.pager { display: flex; gap: 16px; margin: 10px 0 }
@media (max-width: 720px) {
  header { padding: 8px 12px } main { padding: 12px }
  header form { margin-left: 0 }
  input[type=search] { width: 100% }
  table, tbody { display: block; width: 100% }
  table { border: 0; background: none }
  tr:has(> th) { display: none }
  tr { display: flex; flex-wrap: wrap; align-items: baseline; background: #fff; border: 1px solid var(--line); border-radius: 6px; margin-bottom: 8px; padding: 4px 0 }
  td { display: block; flex: 1 1 100%; border: 0; padding: 2px 10px; min-width: 0 }
  td.lead { flex: 0 0 auto; padding-right: 0 }
  td.lead + td { flex: 1 1 0 }
  td:empty { display: none }
  td > code:first-child { white-space: normal; overflow-wrap: anywhere }
  td[data-label]:not(.lead, .lead + td)::before { content: attr(data-label); display: inline-block; min-width: 6.5em; margin-right: 6px; font-size: 11px; font-weight: 600; color: var(--muted); text-transform: uppercase; letter-spacing: .3px }
}
`

// The page's one script, under its nonce: copy buttons, local times, stacked-table labels, the
// live count of waiting approvals (server-sent events) and the approvals page that follows it.
const script = `
document.addEventListener("click", e => {
  const b = e.target.closest("button[data-copy]")
  if (!b) return
  navigator.clipboard?.writeText(b.dataset.copy).then(() => { b.textContent = "copied" }, () => { b.textContent = "copy failed" })
})
const base = document.body.dataset.base
const zone = new Intl.DateTimeFormat(undefined, { timeZoneName: "short" }).formatToParts(new Date()).find(p => p.type === "timeZoneName")?.value || ""
const rel = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" })
function ago(ms) {
  const s = (ms - Date.now()) / 1000, a = Math.abs(s)
  return a < 60 ? rel.format(Math.round(s), "second") : a < 3600 ? rel.format(Math.round(s / 60), "minute") : a < 86400 ? rel.format(Math.round(s / 3600), "hour") : rel.format(Math.round(s / 86400), "day")
}
function dress(root) {
  for (const t of root.querySelectorAll("time[datetime]")) {
    const d = new Date(t.getAttribute("datetime"))
    if (isNaN(d)) continue
    t.textContent = d.toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short" })
    t.title = ago(d.getTime())
  }
  for (const table of root.querySelectorAll("table")) {
    const head = [...(table.querySelector("tr")?.children || [])].map(th => th.tagName === "TH" ? th.textContent.trim() : "")
    for (const tr of table.querySelectorAll("tr")) [...tr.children].forEach((td, i) => { if (td.tagName === "TD" && head[i]) td.dataset.label = head[i] })
  }
  for (const z of root.querySelectorAll("[data-zone]")) z.textContent = zone
}
dress(document)
setInterval(() => { for (const t of document.querySelectorAll("time[datetime]")) t.title = ago(new Date(t.getAttribute("datetime")).getTime()) }, 30000)
for (const f of document.querySelectorAll("form[data-tz]")) f.addEventListener("submit", () => { f.elements.tz.value = String(new Date().getTimezoneOffset()) })
const count = document.querySelector("[data-pending]")
if (count && base && window.EventSource) {
  let shown = Number(count.textContent)
  const live = new EventSource(base + "/events")
  live.addEventListener("approvals", async e => {
    const n = Number(e.data)
    count.textContent = String(n)
    count.hidden = n === 0
    count.nextElementSibling.textContent = n === 1 ? " call waiting" : " calls waiting"
    const main = document.querySelector("main[data-follow]")
    if (!main || n === shown) return
    shown = n
    const busy = document.activeElement && main.contains(document.activeElement) && document.activeElement.tagName === "INPUT"
    if (busy) return
    const r = await fetch(location.href, { credentials: "same-origin" })
    if (!r.ok) return
    const next = new DOMParser().parseFromString(await r.text(), "text/html").querySelector("main")
    if (next) { main.innerHTML = next.innerHTML; dress(main) }
  })
}
`

const pages: Array<[string, string]> = [["/", "Dashboard"], ["/servers", "Servers"], ["/tools", "Tools"], ["/secrets", "Secrets"], ["/approvals", "Approvals"], ["/audit", "Audit"]]

/** The page around a body: the navigation (with the count of calls waiting), the style, the one script. */
export function layout(v: View | undefined, title: string, body: Out, o: { follow?: boolean } = {}): Out {
    const nav = v === undefined ? "" : html`<nav aria-label="pages">${pages.map(([href, label]) =>
        html`<a href="${v.base}${href}" class="${v.path === href ? "on" : ""}"${v.path === href ? raw(` aria-current="page"`) : ""}>${label}${href === "/approvals" ? html`<span class="count" data-pending${v.pending === 0 ? raw(" hidden") : ""}>${v.pending}</span><span class="sr">${v.pending === 1 ? " call waiting" : " calls waiting"}</span>` : ""}</a>`)}</nav>
        <form method="post" action="${v.base}/logout"><input type="hidden" name="_csrf" value="${v.csrf}"><button>Log out</button></form>`
    return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · mcplexer</title><style>${raw(style)}</style></head>
<body data-base="${v?.base ?? ""}"><header><b>mcplexer</b>${nav}</header><main${o.follow ? raw(" data-follow") : ""}>${body}</main>
${v === undefined ? "" : html`<script nonce="${v.nonce}">${raw(script)}</script>`}</body></html>`
}

/** The hidden CSRF field every form that changes something carries. */
export function csrf(v: View): Out {
    return html`<input type="hidden" name="_csrf" value="${v.csrf}">`
}

/** A time: UTC in the page, the browser's own zone (and how long ago, on hover) once the script runs. */
export function when(d: Date | null | undefined): Out {
    return d ? html`<time datetime="${d.toISOString()}">${d.toISOString().replace("T", " ").slice(0, 19)} UTC</time>` : html``
}

/** The login page: paste the token `mcplexer token` prints; it opens a login at its own address, with an HttpOnly cookie for that address only. */
export function login({ problem }: { nonce: string; problem?: string }): Out {
    return layout(undefined, "Log in", html`<h1>Log in</h1>
${problem ? html`<div class="error">${problem}</div>` : ""}
<p>Paste the API token that <code>mcplexer token</code> prints.</p>
<form method="post" action="/login" class="inline">
<input type="password" name="token" autocomplete="off" size="50" placeholder="mcp_…" aria-label="API token" autofocus>
<button class="primary">Log in</button></form>`)
}

/** A page for an error, without the navigation. */
export function error({ message, hint }: { message: string; hint?: string }): Out {
    return layout(undefined, "Error", html`<div class="error">${message}</div>${hint ? html`<p class="muted">${hint}</p>` : ""}<p><a href="/">back</a></p>`)
}

/** Every key the config references or the store holds, set or missing; values are only ever sent, never shown. */
export function secrets(v: View, scopes: state.Scope[], done?: string, warnings: Warning[] = []): Out {
    const declared = scopes.filter(s => s.declared)
    return layout(v, "Secrets", html`<h1>Secrets</h1>
${done ? html`<div class="note">${done}</div>` : ""}
${warnings.length ? html`<ul class="warnings" aria-label="values to renew">${warnings.map(w => html`<li class="missing">${w.message}</li>`)}</ul>` : ""}
${scopes.map(s => html`<h2>${s.scope} ${s.description ? html`<span class="muted">— ${s.description}</span>` : ""}${s.declared ? "" : html` <span class="missing">not declared in the config</span>`}</h2>
${s.keys.length === 0 ? html`<p class="muted">no keys referenced or stored</p>` : html`<table><tr><th>key</th><th>status</th><th>updated</th><th>used by</th><th>reference</th><th>value</th></tr>
${s.keys.map(k => html`<tr data-scope="${s.scope}" data-key="${k.key}" id="key-${s.scope}-${k.key}"><td><code>${k.key}</code></td>
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
