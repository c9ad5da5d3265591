import { _age } from "../_age.ts";
import type { ListedStatus, ListPage, TransferStatus } from "../types.ts";
import type { TransferState, TransferStats } from "../contracts.ts";

// The status page: server-rendered HTML, no build step, no framework. Every value that comes from a key, a record or
// the request goes through _esc; the only script is the self-refresh (CSP nonce), and the page works without it.

/** What a page shows besides the data: where it lives, the form token, the script nonce. */
export interface _PageContext {
  route: string;
  token: string;
  nonce: string;
  now: number;
  /** A flash line after a POST (from `?done=`), already plain text. */
  notice?: string;
  /** The query of this view (without `done`), for its JSON link. */
  query?: Record<string, string>;
}

export interface _OverviewData {
  stats: TransferStats;
  state: TransferState | undefined;
  prefix: string;
  page: ListPage;
}

export interface _KeyData {
  key: string;
  status: TransferStatus | null;
  url: string | null;
  urlError?: string;
}

const STATES: TransferState[] = ["local", "queued", "transferring", "remote", "failed"];

export function _esc(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function _renderOverview(data: _OverviewData, page: _PageContext): string {
  const { stats, state, prefix } = data;
  const link = (query: Record<string, string | undefined>): string => _href(page.route, query);
  const cards = STATES.map(
    (s) => `<a class="card ${s}${s === state ? " on" : ""}" href="${link({ state: s, prefix: prefix || undefined })}"><b>${stats.counts[s]}</b><span>${s}</span></a>`,
  ).join("");
  const oldest = stats.oldestPending
    ? `Oldest unfinished write: <b>${_esc(_age(page.now - stats.oldestPending.since))}</b> old, ` +
      `<a href="${link({ key: stats.oldestPending.key })}"><code>${_esc(stats.oldestPending.key)}</code></a>`
    : "Every write has reached the remote.";
  const rows = data.page.items.map(([key, status]) => _row(key, status, page)).join("");
  const next = data.page.cursor
    ? `<p><a rel="next" href="${link({ state, prefix: prefix || undefined, cursor: data.page.cursor })}">Next page →</a></p>`
    : "";
  const title = state ? `${_esc(state)} keys` : "All keys";
  const body = `<section class="cards">${cards}</section>
<p class="oldest">${oldest}</p>
<div class="actions">${_form(page, { action: "sync" }, "Sync", "Queue every unfinished key again, finish interrupted removals")}
${_form(page, { action: "retry-failed" }, "Retry all failed", "Queue every failed key again")}</div>
<h2>${title}${prefix ? ` under <code>${_esc(prefix)}</code>` : ""}</h2>
<form method="get" action="${_esc(page.route)}" class="filter">${state ? `<input type="hidden" name="state" value="${_esc(state)}">` : ""}
<input name="prefix" value="${_esc(prefix)}" placeholder="key prefix, e.g. avatars:" aria-label="Key prefix"> <button>Filter</button>
${state ? `<a href="${link({ prefix: prefix || undefined })}">all states</a>` : ""}</form>
<table><thead><tr><th>Key</th><th>State</th><th>Attempts</th><th>Updated</th><th>Error</th><th></th></tr></thead>
<tbody>${rows || `<tr><td colspan="6" class="none">No keys.</td></tr>`}</tbody></table>${next}`;
  return _document("Transfers", body, page);
}

export function _renderKey(data: _KeyData, page: _PageContext): string {
  const { key, status } = data;
  const fields: Array<[string, string]> = status
    ? [
        ["State", `<span class="badge ${_esc(status.state)}">${_esc(status.state)}</span>`],
        ["Tier", status.state === "remote" ? "remote" : "local"],
        ["Generation", _esc(status.generation)],
        ["Attempts", _esc(status.attempts)],
        ["Updated", `${_time(status.updatedAt)} (${_esc(_age(page.now - status.updatedAt))} ago)`],
        ...(status.progress ? ([["Progress", _progress(status.progress)]] as Array<[string, string]>) : []),
        ...(status.error !== undefined ? ([["Error", `<pre>${_esc(status.error)}</pre>`]] as Array<[string, string]>) : []),
        ["URL", data.url ? `<a href="${_esc(data.url)}" rel="noreferrer">${_esc(data.url)}</a>` : `<i>${_esc(data.urlError ?? "none")}</i>`],
      ]
    : [["State", "<i>no transfer state: unknown key, or written before its state was kept</i>"]];
  const list = fields.map(([name, value]) => `<dt>${name}</dt><dd>${value}</dd>`).join("");
  const actions = status
    ? `<div class="actions">${_form(page, { action: "retry", key, from: "key" }, status.state === "remote" ? "Transfer again" : "Retry", "Queue this key's transfer again")}</div>`
    : "";
  const body = `<p><a href="${_esc(page.route)}">← All transfers</a></p>
<h2><code>${_esc(key)}</code></h2><dl>${list}</dl>${actions}`;
  return _document(`Key ${key}`, body, page);
}

// --- internal ---

function _row(key: string, status: ListedStatus, page: _PageContext): string {
  const text = status.error?.replace(/^\[queued-storage\] /, "");
  const error = text === undefined ? "" : _esc(text.length > 200 ? `${text.slice(0, 200)}…` : text);
  const retry = status.state === "failed" ? _form(page, { action: "retry", key }, "Retry", `Queue ${key} again`) : "";
  return `<tr><td><a href="${_href(page.route, { key })}"><code>${_esc(key)}</code></a></td>` +
    `<td><span class="badge ${_esc(status.state)}">${_esc(status.state)}</span>${status.progress ? ` ${_progress(status.progress)}` : ""}</td>` +
    `<td>${_esc(status.attempts)}</td><td>${_time(status.updatedAt)}</td>` +
    `<td class="error">${error}${status.dlqId ? ` <small>DLQ ${_esc(status.dlqId)}</small>` : ""}</td><td>${retry}</td></tr>`;
}

function _progress(progress: NonNullable<TransferStatus["progress"]>): string {
  const { bytes, total } = progress;
  if (!total) return `<small>${_esc(_bytes(bytes))}</small>`;
  const share = Math.min(1, bytes / total);
  return `<progress max="1" value="${share.toFixed(3)}"></progress> <small>${_esc(_bytes(bytes))} / ${_esc(_bytes(total))}</small>`;
}

function _bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) (value /= 1024), unit++;
  return `${value.toFixed(1)} ${units[unit]}`;
}

function _form(page: _PageContext, fields: Record<string, string>, label: string, title: string): string {
  const hidden = Object.entries({ ...fields, token: page.token })
    .map(([name, value]) => `<input type="hidden" name="${_esc(name)}" value="${_esc(value)}">`)
    .join("");
  return `<form method="post" action="${_esc(page.route)}">${hidden}<button title="${_esc(title)}">${_esc(label)}</button></form>`;
}

function _time(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `<time datetime="${iso}">${iso.slice(0, 19).replace("T", " ")}Z</time>`;
}

/** A link to the page with a query; values are URL-encoded, then the whole href HTML-escaped. */
export function _href(route: string, query: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined) search.set(name, value);
  const text = search.toString();
  return _esc(text ? `${route}?${text}` : route);
}

function _document(title: string, body: string, page: _PageContext): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${_esc(title)} · queued-storage</title><style nonce="${page.nonce}">${CSS}</style></head>
<body><header><h1><a href="${_esc(page.route)}">queued-storage</a></h1><span>${_time(page.now)}</span></header>
<main id="main">${page.notice ? `<p class="notice" role="status">${_esc(page.notice)}</p>` : ""}${body}</main>
<footer><a href="${_href(page.route.replace(/\/?$/, "/metrics"), {})}">metrics</a> · <a href="${_href(page.route, { ...page.query, format: "json" })}">JSON</a></footer>
<script nonce="${page.nonce}">${SCRIPT}</script></body></html>`;
}

// Re-renders <main> from the same URL every 5 s while the tab is visible and no form field has the focus.
const SCRIPT = `setInterval(async()=>{if(document.hidden||document.activeElement?.closest("form"))return;try{const r=await fetch(location.href.replace(/[?&]done=[^&]*/,""),{headers:{accept:"text/html"}});if(!r.ok)return;const d=new DOMParser().parseFromString(await r.text(),"text/html");document.getElementById("main").replaceWith(d.getElementById("main"))}catch{}},5000)`;

const CSS = `*{box-sizing:border-box}body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header,footer{display:flex;gap:1em;align-items:baseline;padding:.6em 1.2em;background:#1d2330;color:#cfd5e1}footer{background:none;color:#6b7280}
header h1{font-size:1.1em;margin:0}header a{color:#fff;text-decoration:none}main{padding:1em 1.2em;max-width:1100px}
.cards{display:flex;gap:.6em;flex-wrap:wrap}.card{flex:1;min-width:110px;padding:.7em;border-radius:8px;background:#fff;border:2px solid #e3e6ec;text-decoration:none;color:inherit}
.card b{display:block;font-size:1.7em}.card.on{border-color:#1d2330}.card.failed b{color:#b42318}.card.remote b{color:#067647}
.actions{display:flex;gap:.5em;margin:.8em 0}form{display:inline}button{font:inherit;padding:.3em .8em;border-radius:6px;border:1px solid #9aa3b2;background:#fff;cursor:pointer}
table{width:100%;border-collapse:collapse;background:#fff}th,td{text-align:left;padding:.4em .6em;border-bottom:1px solid #e3e6ec;vertical-align:top}
td.error{color:#b42318;max-width:420px;overflow-wrap:anywhere}td.none{color:#6b7280}code{overflow-wrap:anywhere}
.badge{padding:.1em .5em;border-radius:99px;background:#e3e6ec}.badge.failed{background:#fee4e2;color:#b42318}.badge.remote{background:#dcfae6;color:#067647}
.badge.transferring,.badge.queued{background:#fef0c7;color:#93370d}dl{display:grid;grid-template-columns:max-content 1fr;gap:.3em 1em;background:#fff;padding:1em;border-radius:8px}
dt{color:#6b7280}dd{margin:0}pre{white-space:pre-wrap;margin:0;color:#b42318}.notice{background:#dcfae6;padding:.5em .8em;border-radius:6px}.filter{display:block;margin:.5em 0}`;
