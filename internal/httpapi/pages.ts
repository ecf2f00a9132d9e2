/** The console's pages beside secrets: the dashboard, servers, tools, approvals and the audit trail. */
import * as config from "../config/index.ts"
import { html, raw } from "hono/html"
import type { Lease, Pending } from "./approvals.ts"
import type { Filter, Row } from "./audit.ts"
import type * as state from "./state.ts"
import type { Tool } from "./tools.ts"
import { csrf, layout, when, type Out, type View } from "./ui.ts"

/** The dashboard: servers and their instances, recent calls, recent errors. */
export function dashboard(v: View, d: { servers: state.Server[]; calls: Row[]; errors: Row[]; sessions: number; tools: number }): Out {
    const running = d.servers.reduce((n, s) => n + s.instances.filter(i => i.state === "running").length, 0)
    return layout(v, "Dashboard", html`<h1>Dashboard</h1>
<div class="cards"><div class="card"><b>${d.servers.length}</b>servers</div><div class="card"><b>${running}</b>instances running</div>
<div class="card"><b>${d.tools}</b>tools</div><div class="card"><b>${d.sessions}</b>HTTP sessions</div></div>
<h2>Servers</h2>
<table><tr><th>server</th><th>kind</th><th>scope</th><th>state</th><th>pid</th><th>restarts</th><th>last error</th><th></th></tr>
${d.servers.map(s => (s.instances.length ? s.instances : [undefined]).map(i => html`<tr>
<td><a href="${v.base}/servers#server-${s.name}">${s.name}</a></td><td>${s.kind}</td><td>${i?.scope ?? s.scope ?? ""}</td>
<td class="state-${i?.state ?? "stopped"}">${i?.state ?? "stopped"}</td><td>${i?.pid ?? ""}</td><td>${i?.restarts ?? 0}</td>
<td class="muted">${s.login ? html`<span data-login="missing">login missing: run <code>${s.login}</code></span> ` : ""}${i?.lastError ?? ""}</td>
<td>${i && i.state !== "stopped" ? restart(v, s.name) : ""}</td></tr>`))}
</table>
<h2>Recent calls</h2>${rows(d.calls, "no calls recorded yet")}
<h2>Errors</h2>${rows(d.errors, "no errors")}`)
}

function restart(v: View, server: string): Out {
    return html`<form method="post" action="${v.base}/ui/restart" class="inline">${csrf(v)}<input type="hidden" name="server" value="${server}"><button aria-label="restart ${server}">restart</button></form>`
}

/** Each server: kind, scope, state, tools, pins waiting, login, missing secrets, its last error, restart and stop. */
export function servers(v: View, list: state.Detail[], done?: string): Out {
    return layout(v, "Servers", html`<h1>Servers</h1>
${done ? html`<div class="note" role="status">${done}</div>` : ""}
${list.length === 0 ? html`<p class="muted">no server is configured: add one under servers in config.yaml, or run <code>mcplexer import</code></p>` : html`<table>
<tr><th>server</th><th>kind</th><th>scope</th><th>state</th><th>tools</th><th>waiting</th><th>needs</th><th>last error</th><th></th></tr>
${list.map(s => {
        const live = s.instances.filter(i => i.state !== "stopped")
        const st = live.length === 0 ? "stopped" : [...new Set(live.map(i => i.state))].join(", ")
        return html`<tr id="server-${s.name}" data-server="${s.name}"><td><b>${s.name}</b>${s.quarantine ? html` <span class="tag warn">quarantined</span>` : ""}</td>
<td>${s.kind}</td><td>${s.scope ?? html`<span class="muted">none</span>`}</td>
<td class="state-${live[0]?.state ?? "stopped"}">${st}${live.map(i => i.pid === undefined ? "" : html` <span class="muted">pid ${i.pid}</span>`)}${live.some(i => i.restarts > 0) ? html` <span class="muted">· ${live.reduce((n, i) => n + i.restarts, 0)} restarts</span>` : ""}</td>
<td><a href="${v.base}/tools?server=${encodeURIComponent(s.name)}">${s.tools.enabled} of ${s.tools.total}</a></td>
<td>${s.pending > 0 ? html`<a class="flag" href="${v.base}/tools?server=${encodeURIComponent(s.name)}#waiting">${s.pending} to approve</a>` : html`<span class="muted">none</span>`}</td>
<td>${s.login ? html`<span data-login="missing">login missing: run <code>${s.login}</code></span>` : s.oauth ? html`<span class="set">logged in</span>` : ""}
${s.missing.map(m => html` <a class="missing" href="${v.base}/secrets#key-${m.scope}-${m.key}">${m.scope}/${m.key} missing</a>`)}${!s.login && !s.oauth && s.missing.length === 0 ? html`<span class="muted">nothing</span>` : ""}</td>
<td>${s.error ? html`<span class="muted">${s.error.text}</span>${s.error.at ? html`<br>${when(s.error.at)}` : ""}` : ""}</td>
<td>${live.length > 0 ? html`${restart(v, s.name)} <form method="post" action="${v.base}/ui/stop" class="inline">${csrf(v)}<input type="hidden" name="server" value="${s.name}"><button class="danger" aria-label="stop ${s.name}">stop</button></form>` : html`<span class="muted">starts on its first call</span>`}</td></tr>`
    })}</table>`}`)
}

const firstLine = (s: string) => s.trim().split("\n")[0] ?? ""

/** Every tool with its switch; a search ranks them as `mcplexer tools search` does; withheld tools show their change. */
export function tools(v: View, list: Tool[], q: { q?: string; server?: string; done?: string; problem?: string }): Out {
    const search = q.q?.trim() ?? ""
    const shown = q.server ? list.filter(t => t.server === q.server) : list
    const waiting = shown.filter(t => t.state === "withheld" || t.state === "quarantined")
    const keep = html`${search ? html`<input type="hidden" name="q" value="${search}">` : ""}${q.server ? html`<input type="hidden" name="server" value="${q.server}">` : ""}`
    const total = shown.reduce((n, t) => n + (t.state === "enabled" ? t.tokens : 0), 0)
    return layout(v, "Tools", html`<h1>Tools</h1>
${q.done ? html`<div class="note" role="status">${q.done}</div>` : ""}${q.problem ? html`<div class="error" role="alert">${q.problem}</div>` : ""}
<form method="get" action="${v.base}/tools" role="search" class="filters">
<label for="q">Find a tool for a task<input type="search" id="q" name="q" value="${search}" placeholder="e.g. open a pull request"></label>
${q.server ? html`<input type="hidden" name="server" value="${q.server}">` : ""}<button>search</button>${search || q.server ? html` <a href="${v.base}/tools">show all</a>` : ""}</form>
<p class="muted">${search ? `${shown.length} enabled tools match, best first` : `${shown.filter(t => t.state === "enabled").length} of ${shown.length} tools are shown to clients, about ${total.toLocaleString("en")} tokens of tools/list`}${q.server ? ` (server ${q.server})` : ""}</p>
${waiting.length > 0 ? html`<h2 id="waiting">Waiting for approval</h2>
<table><tr><th>tool</th><th>why</th><th>change</th><th></th></tr>
${waiting.map(t => html`<tr data-withheld="${t.name}"><td><code>${t.name}</code></td><td>${t.state === "withheld" ? "its definition changed since it was approved" : "its server is quarantined"}</td>
<td><details><summary>what changed</summary><pre>${t.change ?? ""}</pre></details></td>
<td><form method="post" action="${v.base}/ui/tools/approve" class="inline">${csrf(v)}${keep}<input type="hidden" name="tool" value="${t.name}"><button class="primary" aria-label="approve ${t.name}">approve</button></form></td></tr>`)}</table>
<h2>All tools</h2>` : ""}
${shown.length === 0 ? html`<p class="muted">${search ? "no enabled tool matches" : "no tools: the configured servers offer none yet"}</p>` : html`<table>
<tr><th>on</th><th>tool</th><th>description</th><th>kind</th><th>tokens</th><th>state</th></tr>
${shown.map(t => {
        const on = t.state !== "disabled"
        const first = firstLine(t.description), rest = t.description.trim().slice(first.length).trim()
        return html`<tr data-tool="${t.name}" id="tool-${t.name}">
<td class="lead"><form method="post" action="${v.base}/ui/tools" class="inline">${csrf(v)}${keep}<input type="hidden" name="tool" value="${t.name}">
<button role="switch" aria-checked="${on ? "true" : "false"}" name="to" value="${on ? "off" : "on"}" aria-label="${t.name}" title="${on ? "switch off" : "switch on"} ${t.name}"><span aria-hidden="true">${on ? "on" : "off"}</span></button></form></td>
<td><code>${t.name}</code><br><span class="muted">${t.server}</span></td>
<td>${t.title ? html`<b>${t.title}</b><br>` : ""}${first}${rest ? html`<details><summary>more</summary><p>${rest}</p></details>` : ""}
${t.flags.map(f => html`<div><span class="flag" data-flag>flag</span> ${f.field}: ${f.found}</div>`)}</td>
<td>${t.readOnly ? html`<span class="tag">read-only</span> ` : ""}${t.destructive ? html`<span class="tag warn">destructive</span>` : ""}</td>
<td>${t.tokens}</td>
<td class="state-${t.state}">${t.state === "disabled" ? "switched off" : t.state}${t.score === undefined ? "" : html` <span class="muted">score ${t.score.toFixed(2)}</span>`}</td></tr>`
    })}</table>`}`)
}

/** Waiting calls (approve once, for a while, or deny with a reason; arguments scrubbed) and the leases in force. */
export function approvals(v: View, list: Pending[] | undefined, leases: Lease[], done?: string): Out {
    if (list === undefined) return layout(v, "Approvals", html`<h1>Approvals</h1><p class="muted">approvals are not available in this build</p>`)
    return layout(v, "Approvals", html`<h1>Approvals</h1>
${done ? html`<div class="note" role="status">${done}</div>` : ""}
${list.length === 0 ? html`<p class="muted" data-empty>no call is waiting; one that needs approval shows here as it starts waiting</p>` : html`<table><tr><th>#</th><th>asked</th><th>gives up</th><th>workspace</th><th>tool</th><th>server</th><th>scope</th><th>arguments</th><th>answer</th></tr>
${list.map(p => html`<tr data-approval="${p.id}"><td>${p.id}</td><td>${when(p.createdAt)}</td><td>${when(p.expiresAt)}</td><td>${p.workspace}</td><td><code>${p.tool}</code></td>
<td>${p.server}</td><td>${p.scope}</td><td>${p.arguments ? html`<pre>${pretty(p.arguments)}</pre>` : html`<span class="muted">none</span>`}</td>
<td><form method="post" action="${v.base}/ui/approvals" class="inline">${csrf(v)}<input type="hidden" name="id" value="${p.id}">
<button class="primary" name="answer" value="approve" title="this call only">approve</button>${p.leaseMax > 0
        ? html`<button name="answer" value="lease" title="this call, and later calls to server ${p.server} with scope ${p.scope}">approve for ${config.span(p.leaseMax)}</button>${spans(p.leaseMax).length > 0 ? html`
<select name="for" aria-label="how long approval ${p.id} lasts">${spans(p.leaseMax).map(s => html`<option>${config.span(s)}</option>`)}</select><button name="answer" value="for">approve for that long</button>` : ""}` : ""}
<input name="reason" placeholder="reason (optional)" aria-label="reason for denying approval ${p.id}" size="16"><button class="danger" name="answer" value="deny">deny</button></form></td></tr>`)}</table>`}
<h2>Leases</h2>
${leases.length === 0 ? html`<p class="muted">no lease is in force: every call that needs approval asks</p>` : html`<table><tr><th>#</th><th>server</th><th>scope</th><th>workspace</th><th>granted</th><th>ends</th><th></th></tr>
${leases.map(l => html`<tr data-lease="${l.id}"><td>${l.id}</td><td>${l.server}</td><td>${l.scope}</td><td>${l.workspace}</td><td>${when(l.createdAt)}</td><td>${when(l.expiresAt)}</td>
<td><form method="post" action="${v.base}/ui/leases" class="inline">${csrf(v)}<input type="hidden" name="id" value="${l.id}"><button class="danger" aria-label="revoke lease ${l.id}">revoke</button></form></td></tr>`)}</table>`}`, { follow: true })
}

// shorter leases a person may choose than the route's longest
function spans(max: number): number[] {
    return [5 * 60_000, 15 * 60_000, 60 * 60_000, 8 * 60 * 60_000].filter(s => s < max)
}

function pretty(args: string): string {
    try {
        return JSON.stringify(JSON.parse(args), null, 2)
    } catch {
        return args
    }
}

/** The audit trail: filters, readable rows with latency, paging, and the same selection as CSV or JSON. */
export function audit(v: View, list: Row[], f: Filter, q: Record<string, string>, more: boolean): Out {
    const field = (name: string, label: string) => html`<label>${label}<input name="${name}" value="${q[name] ?? ""}" size="12" placeholder="name or glob"></label>`
    const keep = new URLSearchParams(Object.entries(q).filter(([k, x]) => x !== "" && k !== "before"))
    const older = new URLSearchParams(keep)
    if (list.length > 0) older.set("before", String(list[list.length - 1]!.id))
    const query = keep.toString()
    return layout(v, "Audit", html`<h1>Audit trail</h1>
<form method="get" action="${v.base}/audit" class="filters" data-tz>
${field("server", "server")}${field("tool", "tool")}${field("scope", "scope")}${field("status", "status")}${field("action", "action")}
<label>from <input type="datetime-local" name="from" value="${q.from ?? ""}" step="1"></label><label>to <input type="datetime-local" name="to" value="${q.to ?? ""}" step="1"></label>
<input type="hidden" name="tz" value="${q.tz ?? ""}"><button class="primary">filter</button>${query ? html` <a href="${v.base}/audit">clear</a>` : ""}</form>
<p class="muted">times in <span data-zone>UTC</span>; hover a time for how long ago. Globs such as <code>github__*</code> work in every name field.
Export what is selected: <a href="${v.base}/audit.csv${query ? `?${query}` : ""}" download="mcplexer-audit.csv">CSV</a> · <a href="${v.base}/audit.json${query ? `?${query}` : ""}">JSON</a></p>
${rows(list, "nothing matches")}
<nav class="pager" aria-label="pages of the audit trail">${f.before !== undefined ? html`<a href="${v.base}/audit${query ? `?${query}` : ""}">newest</a>` : ""}${more ? html`<a href="${v.base}/audit?${older.toString()}" rel="next">older</a>` : ""}</nav>`)
}

/** Audit rows as a person reads them: the time, what, who, where, how it ended, how long, and the details as words. */
export function rows(list: Row[], empty: string): Out {
    if (list.length === 0) return html`<p class="muted">${empty}</p>`
    return html`<table><tr><th>time</th><th>action</th><th>actor</th><th>server</th><th>tool</th><th>scope</th><th>status</th><th>latency</th><th>details</th></tr>
${list.map(r => html`<tr data-audit="${r.id}"><td>${when(r.time)}</td><td>${r.action}</td><td>${r.actor}</td><td>${r.server ?? ""}</td><td>${r.tool ? html`<code>${r.tool}</code>` : ""}</td>
<td>${r.scope ?? ""}${r.key ? html` <code>${r.key}</code>` : ""}</td><td>${status(r.status)}</td><td>${r.latency === null ? "" : r.latency < 1000 ? `${r.latency} ms` : `${(r.latency / 1000).toFixed(1)} s`}</td><td>${details(r)}</td></tr>`)}</table>`
}

function status(s: string | null): Out {
    if (s === null) return html``
    const cls = /^(ok|approved|granted)$/.test(s) ? "set" : /error|fail|denied|timeout|missing|expired|withheld|disabled|quarantined|dropped/.test(s) ? "missing" : "tag"
    return html`<span class="${cls}">${s}</span>`
}

const labels: Record<string, string> = { arguments: "arguments", approval: "approval", lease: "lease", reason: "reason", error: "error", keys: "keys", from: "from", to: "to", workspace: "workspace" }

/** A row's detail object as "label: value" lines; arrays as lists, epoch times as times. */
function details(r: Row): Out {
    const d = r.detail ?? {}
    const parts = Object.entries(d).map(([k, x]) => {
        const label = labels[k] ?? k.replace(/[_-]/g, " ")
        const value = Array.isArray(x) ? (x.length === 0 ? "none" : x.map(String).join(", "))
            : (k === "expires" || k === "since") && typeof x === "number" ? when(new Date(x))
            : x !== null && typeof x === "object" ? JSON.stringify(x) : String(x)
        return html`<div><span class="muted">${label}:</span> ${value}</div>`
    })
    const where = [r.workspace ? `workspace ${r.workspace}` : "", r.route && r.route !== "default" ? `route ${r.route}` : ""].filter(Boolean).join(", ")
    return html`${where ? html`<div><span class="muted">where:</span> ${where}</div>` : ""}${parts}${raw("")}`
}
