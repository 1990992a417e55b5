/** The markup of the admin page: sign-in form and dashboard. Data is gathered by admin-page.ts. */
import type { ListenerInfo } from "../core/server.ts";
import type { StatusReport } from "../http/status.ts";
import type { Invite } from "../storage/invites.ts";
import { type Html, html } from "./html.ts";
import { page } from "./layout.ts";

export interface OnlineSession {
  jid: string;
  transport: string;
  secure: boolean;
  address: string;
  since: number;
}

export interface HostSummary {
  name: string;
  accounts: number;
  online: number;
  services: string[];
}

export interface Dashboard {
  admin: string;
  csrf: string;
  status: StatusReport;
  node: string;
  memory: { rss: number; heap: number };
  hosts: HostSummary[];
  online: OnlineSession[];
  /** More online sessions than listed. */
  onlineTotal: number;
  listeners: ListenerInfo[];
  uploads: { files: number; bytes: number } | null;
  /** Null when no host runs the invites module. */
  invites: Invite[] | null;
  /** Hosts where invitations can be created. */
  inviteHosts: string[];
  baseUrl: string;
  notice?: { kind: "ok" | "error"; text: Html | string };
}

export function formatBytes(n: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

export function formatDuration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m`;
  return `${Math.floor(seconds)}s`;
}

function when(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").slice(0, 16);
}

function ago(ms: number, now: number): string {
  return `${formatDuration(Math.max(0, (now - ms) / 1000))} ago`;
}

export function loginPage(opts: { error?: string; jid?: string; insecure?: boolean }): Html {
  const body = html`<div class="login card">
<h1>Server admin</h1>
<p class="muted">Sign in with an administrator account (listed in <code>admins</code>).</p>
${opts.error ? html`<div class="notice error" role="alert">${opts.error}</div>` : ""}
${
  opts.insecure
    ? html`<div class="notice error">This connection is not encrypted. Open the admin page over HTTPS.</div>`
    : html`<form class="stack" method="post" action="/admin">
<input type="hidden" name="action" value="login">
<label>Address <input name="jid" autocomplete="username" required autocapitalize="none" spellcheck="false" placeholder="admin@example.org" value="${opts.jid ?? ""}"></label>
<label>Password <input type="password" name="password" autocomplete="current-password" required></label>
<div><button type="submit">Sign in</button></div>
</form>`
}
</div>`;
  return page({ title: "Hearth admin: sign in", body, narrow: true });
}

function stat(value: string | number, label: string): Html {
  return html`<div class="card stat"><div class="value">${value}</div><div class="label">${label}</div></div>`;
}

function servicesCard(d: Dashboard): Html {
  const rows = Object.entries(d.status.services).map(
    ([name, s]) =>
      html`<tr><td><span class="dot ${s.status}"></span>${name}</td><td class="muted">${s.details}</td></tr>`,
  );
  return html`<div class="card"><h2>Services</h2><div class="table-wrap"><table>
<thead><tr><th>Service</th><th>Details</th></tr></thead><tbody>${rows}</tbody></table></div></div>`;
}

function hostsCard(d: Dashboard): Html {
  const rows = d.hosts.map(
    (h) => html`<tr><td><strong>${h.name}</strong></td><td>${h.accounts}</td><td>${h.online}</td>
<td>${h.services.map((s) => html`<span class="pill">${s}</span> `)}</td></tr>`,
  );
  return html`<div class="card"><h2>Hosts</h2><div class="table-wrap"><table>
<thead><tr><th>Host</th><th>Accounts</th><th>Online</th><th>Services</th></tr></thead><tbody>${rows}</tbody></table></div></div>`;
}

function onlineCard(d: Dashboard, now: number): Html {
  const rows = d.online.map(
    (
      s,
    ) => html`<tr><td class="mono">${s.jid}</td><td>${s.transport}${s.secure ? "" : html` <span class="pill">plain</span>`}</td>
<td class="mono muted">${s.address}</td><td class="muted">${ago(s.since, now)}</td></tr>`,
  );
  return html`<div class="card"><h2>Online now</h2>
${
  d.online.length
    ? html`<div class="table-wrap"><table><thead><tr><th>Session</th><th>Transport</th><th>Address</th><th>Connected</th></tr></thead>
<tbody>${rows}</tbody></table></div>${d.onlineTotal > d.online.length ? html`<p class="muted small">and ${d.onlineTotal - d.online.length} more</p>` : ""}`
    : html`<p class="muted">Nobody is online.</p>`
}</div>`;
}

function invitesCard(d: Dashboard, now: number): Html {
  if (d.invites === null) return html``;
  const rows = d.invites.map((i) => {
    const state =
      i.expiresAt <= now ? "expired" : i.uses >= i.maxUses ? "used" : `${i.maxUses - i.uses} of ${i.maxUses} left`;
    return html`<tr>
<td><a class="mono" href="/invite/${i.token}">${i.token.slice(0, 8)}…</a></td><td>${i.host}</td>
<td class="muted">${i.username ? html`for <strong>${i.username}</strong>` : i.allowRegistration ? "account" : "contact"}${
      i.roster.length ? html` · with ${i.roster.join(", ")}` : ""
    }</td>
<td>${state}</td><td class="muted">${when(i.expiresAt)}</td><td class="muted">${i.creator ?? "command line"}</td>
<td><form method="post" action="/admin"><input type="hidden" name="csrf" value="${d.csrf}">
<input type="hidden" name="action" value="revoke-invite"><input type="hidden" name="token" value="${i.token}">
<button class="danger" type="submit">Revoke</button></form></td></tr>`;
  });
  const create = d.inviteHosts.length
    ? html`<form class="inline" method="post" action="/admin">
<input type="hidden" name="csrf" value="${d.csrf}"><input type="hidden" name="action" value="create-invite">
<label>Host <select name="host">${d.inviteHosts.map((h) => html`<option>${h}</option>`)}</select></label>
<label>Username <input name="username" autocapitalize="none" spellcheck="false" size="14" placeholder="any (optional)"></label>
<label>Uses <input name="uses" type="number" min="1" max="1000" value="1" size="4"></label>
<label>Valid for <select name="days"><option value="1">1 day</option><option value="7" selected>7 days</option><option value="30">30 days</option></select></label>
<button type="submit">Create invitation</button>
</form>`
    : html``;
  return html`<div class="card"><h2>Invitations</h2>
${create}
${
  d.invites.length
    ? html`<div class="table-wrap"><table><thead><tr><th>Link</th><th>Host</th><th>Kind</th><th>State</th><th>Expires (UTC)</th><th>Created by</th><th></th></tr></thead>
<tbody>${rows}</tbody></table></div>`
    : html`<p class="muted">No invitations yet.</p>`
}</div>`;
}

function listenersCard(d: Dashboard): Html {
  const rows = d.listeners.map(
    (l) =>
      html`<tr><td>${l.name}</td><td class="mono">${l.address.includes(":") ? `[${l.address}]` : l.address}:${l.port}</td><td>${l.tls}</td></tr>`,
  );
  return html`<div class="card"><h2>Listeners</h2><div class="table-wrap"><table>
<thead><tr><th>Name</th><th>Address</th><th>TLS</th></tr></thead><tbody>${rows}</tbody></table></div></div>`;
}

export function dashboardPage(d: Dashboard, now = Date.now()): Html {
  const accounts = d.hosts.reduce((n, h) => n + h.accounts, 0);
  const healthy = d.status.status === "ok";
  const signOut = html`<form method="post" action="/admin"><span class="muted small">${d.admin}</span>
<input type="hidden" name="csrf" value="${d.csrf}"><input type="hidden" name="action" value="logout">
<button class="link" type="submit">Sign out</button></form>`;
  const body = html`<h1><span class="dot ${healthy ? "up" : "stopping"}"></span>${healthy ? "All systems running" : "Stopping"}</h1>
<p class="lead">Hearth ${d.status.version} on Node ${d.node} · up ${formatDuration(d.status.uptime_seconds)}</p>
${d.notice ? html`<div class="notice ${d.notice.kind}" role="status">${d.notice.text}</div>` : ""}
<div class="grid four">
${stat(d.onlineTotal, d.onlineTotal === 1 ? "session online" : "sessions online")}
${stat(accounts, accounts === 1 ? "account" : "accounts")}
${stat(formatBytes(d.memory.rss), `memory (heap ${formatBytes(d.memory.heap)})`)}
${d.uploads ? stat(formatBytes(d.uploads.bytes), `in ${d.uploads.files} uploaded file${d.uploads.files === 1 ? "" : "s"}`) : ""}
</div>
${onlineCard(d, now)}
${invitesCard(d, now)}
<div class="grid two">${hostsCard(d)}${servicesCard(d)}</div>
${listenersCard(d)}`;
  return page({ title: "Hearth admin", body, headerExtra: signOut });
}
