/**
 * The invite landing page (XEP-0401 §5.1 `landing-url`): what someone sees when they open an invitation link
 * without an XMPP app. It suggests apps for their platform, offers the `xmpp:` link (and a QR code of it for a
 * phone), and, when the admin allows it (`web.invite_registration`), creates the account right in the browser,
 * consuming the invitation exactly as in-band registration with the token does (the host's `invites` service).
 */
import { AccountError } from "../accounts/manager.ts";
import type { HttpContext, HttpRoute } from "../http/routes.ts";
import { InviteError } from "../invites/errors.ts";
import { looksLikeToken } from "../invites/token.ts";
import { inviteUri } from "../invites/urls.ts";
import type { Invite } from "../storage/invites.ts";
import { CLIENTS, platformOf } from "./clients.ts";
import { MAX_FORM_BYTES, readForm, sameOrigin } from "./forms.ts";
import { type Html, html, raw } from "./html.ts";
import { page, sendPage } from "./layout.ts";
import type { WebHost, WebPages } from "./pages.ts";

/** Shortest password the web form accepts (in-band registration leaves this to the client). */
export const MIN_WEB_PASSWORD = 8;

/** A page that says something went wrong, in the invite page's look. */
function problem(ctx: HttpContext, status: number, title: string, text: string): void {
  sendPage(ctx, status, page({ title, narrow: true, body: html`<h1>${title}</h1><p class="lead">${text}</p>` }));
}

function dateOf(ms: number): string {
  return new Date(ms).toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });
}

/** Who is inviting, as a phrase. */
function inviter(invite: Invite): string {
  return invite.creator ?? `the administrator of ${invite.host}`;
}

function appsSection(ctx: HttpContext): Html {
  const mine = platformOf(ctx.req.headers["user-agent"]);
  const ordered = [...CLIENTS].sort((a, b) => Number(b.platform === mine) - Number(a.platform === mine));
  return html`<div class="platforms">${ordered.map(
    (p) => html`<div class="platform${p.platform === mine ? " mine" : ""}">
<h3>${p.title}${p.platform === mine ? html`<span class="tag">your device</span>` : ""}</h3>
<ul>${p.clients.map((c) => html`<li><a href="${c.url}" rel="noopener noreferrer">${c.name}</a> <span>· ${c.note}</span></li>`)}</ul>
</div>`,
  )}</div>`;
}

interface FormState {
  username?: string;
  error?: string;
}

/** Whether this invitation may create its account from the browser. */
function webRegistration(pages: WebPages, host: WebHost | undefined, invite: Invite): boolean {
  const cfg = pages.server.config;
  return Boolean(
    cfg.web.invite_registration &&
      cfg.registration.allow_with_invite &&
      invite.allowRegistration &&
      host?.invites &&
      host.accounts,
  );
}

function registrationForm(pages: WebPages, ctx: HttpContext, invite: Invite, state: FormState): Html {
  const reserved = invite.username;
  return html`<div class="card" id="create">
<div class="step"><div class="num">3</div><div class="body">
<h2>Or create your account here</h2>
<p class="muted small">Then sign in from any app with your address and password.</p>
${state.error ? html`<div class="notice error" role="alert">${state.error}</div>` : ""}
<form class="stack" method="post" action="${ctx.url.pathname}">
<input type="hidden" name="csrf" value="${pages.tokens.issue(`invite:${invite.token}`)}">
<label>Username
<span class="with-domain"><input name="username" autocomplete="username" required maxlength="100" autocapitalize="none" spellcheck="false"
 value="${reserved ?? state.username ?? ""}"${reserved ? raw(" readonly") : ""}><span class="muted">@${invite.host}</span></span>
</label>
<label>Password <span class="hint">At least ${MIN_WEB_PASSWORD} characters.</span>
<input type="password" name="password" autocomplete="new-password" required minlength="${MIN_WEB_PASSWORD}" maxlength="1024">
</label>
<label>Repeat the password
<input type="password" name="password2" autocomplete="new-password" required minlength="${MIN_WEB_PASSWORD}" maxlength="1024">
</label>
<div><button type="submit">Create my account</button></div>
</form>
</div></div>
</div>`;
}

async function invitePage(pages: WebPages, ctx: HttpContext, invite: Invite, state: FormState = {}): Promise<Html> {
  const host = pages.hosts.get(invite.host);
  const uri = inviteUri(invite);
  // Loaded on the first invite page view rather than at startup (memory).
  const { default: QRCode } = await import("qrcode");
  const qr = await QRCode.toString(uri, { type: "svg", errorCorrectionLevel: "M", margin: 1 });
  const contact = invite.roster[0];
  const title = invite.allowRegistration ? `You're invited to ${invite.host}` : `${contact} wants to chat with you`;
  const lead = invite.allowRegistration
    ? html`${inviter(invite)} invited you to chat on <strong>${invite.host}</strong>${contact ? html`, with ${contact} as your first contact` : ""}.
It works with any XMPP app: choose one you like.`
    : html`Add <strong>${contact}</strong> as a contact from your XMPP app.`;
  const body = html`<h1>${title}</h1>
<p class="lead">${lead}</p>
<div class="card"><div class="step"><div class="num">1</div><div class="body">
<h2>Get an app</h2>
<p class="muted small">XMPP is an open standard, so many apps work. These are good places to start:</p>
${appsSection(ctx)}
</div></div></div>
<div class="card"><div class="step"><div class="num">2</div><div class="body">
<h2>Open your invitation</h2>
<div class="qr">${raw(qr)}
<div class="body">
<p>On this device, once the app is installed:</p>
<p><a class="button" href="${uri}">Open in my app</a></p>
<p class="muted small">On another device? Scan the code with the app. Apps that understand invitations
(Conversations, Monal) ${invite.allowRegistration ? "create your account" : "add the contact"} for you.</p>
</div></div>
<code class="uri">${uri}</code>
<p class="muted small">This invitation expires on ${dateOf(invite.expiresAt)}${invite.maxUses > 1 ? html` and can be used ${invite.maxUses - invite.uses} more times` : ""}.</p>
</div></div></div>
${webRegistration(pages, host, invite) ? registrationForm(pages, ctx, invite, state) : ""}`;
  return page({ title, body, narrow: true });
}

function welcomePage(ctx: HttpContext, invite: Invite, jid: string): Html {
  const contacts = invite.roster.filter((c) => c !== jid);
  const body = html`<h1>Welcome, ${jid}!</h1>
<p class="lead">Your account is ready. Sign in from any XMPP app with your address <strong>${jid}</strong>
and the password you chose.</p>
${contacts.length ? html`<div class="notice ok">You and ${contacts.join(", ")} are now contacts.</div>` : ""}
<div class="card"><h2>Get an app</h2>${appsSection(ctx)}</div>`;
  return page({ title: "Your account is ready", body, narrow: true });
}

/** What an invitation's state means for its page: null if it can be used. */
function unusable(invite: Invite | null, now: number): [number, string, string] | null {
  if (!invite) {
    return [404, "This invitation is not valid", "Check that you copied the whole link, or ask for a new invitation."];
  }
  if (invite.expiresAt <= now) {
    return [410, "This invitation has expired", `Ask ${inviter(invite)} for a new one.`];
  }
  if (invite.uses >= invite.maxUses) {
    return [
      410,
      "This invitation has been used",
      `Each invitation works only so many times. Ask ${inviter(invite)} for a new one.`,
    ];
  }
  return null;
}

/** `GET /invite/<token>` shows the page; `POST` creates the account when allowed. */
export function invitePageRoute(pages: WebPages): HttpRoute {
  return {
    path: "/invite/",
    methods: ["GET", "POST"],
    maxBodyBytes: MAX_FORM_BYTES,
    async handler(ctx) {
      const token = ctx.subpath;
      const invite = looksLikeToken(token) ? await pages.server.storage.invites.get(token) : null;
      const host = invite ? pages.hosts.get(invite.host) : undefined;
      // An invitation for a host that is not served (any more) is as good as none.
      const bad = unusable(host ? invite : null, Date.now());
      if (bad) return problem(ctx, ...bad);
      const inv = invite as Invite;
      if (ctx.req.method !== "POST") return sendPage(ctx, 200, await invitePage(pages, ctx, inv));
      await createAccount(pages, ctx, inv, host as WebHost);
    },
  };
}

async function createAccount(pages: WebPages, ctx: HttpContext, invite: Invite, host: WebHost): Promise<void> {
  if (!webRegistration(pages, host, invite) || !host.invites) {
    return problem(ctx, 403, "Not here", "Accounts cannot be created on this page. Use an XMPP app instead.");
  }
  if (!sameOrigin(ctx)) return problem(ctx, 403, "Refused", "This form must be sent from its own page.");
  const ip = ctx.clientAddress;
  if (!pages.registrationAttempts.allowed(ip)) {
    return problem(ctx, 429, "Too many attempts", "Please wait a few minutes before trying again.");
  }
  pages.registrationAttempts.recordFailure(ip);
  const form = await readForm(ctx);
  const username = invite.username ?? (form.get("username") ?? "").trim();
  const password = form.get("password") ?? "";
  const again = async (status: number, error: string) =>
    sendPage(ctx, status, await invitePage(pages, ctx, invite, { username, error }));
  if (!pages.tokens.check(`invite:${invite.token}`, form.get("csrf"))) {
    return again(403, "The form was open too long. Please try again.");
  }
  if (username === "") return again(400, "Choose a username.");
  if ([...password].length < MIN_WEB_PASSWORD) {
    return again(400, `The password must have at least ${MIN_WEB_PASSWORD} characters.`);
  }
  if (password !== form.get("password2")) return again(400, "The two passwords are not the same.");
  let used: Invite;
  try {
    used = await host.invites.register(invite.token, username, password);
  } catch (err) {
    if (err instanceof InviteError) {
      if (err.code === "username-taken" || err.code === "username-mismatch") return again(409, err.message);
      return problem(ctx, 410, "This invitation cannot be used", err.message);
    }
    // AccountExistsError is an AccountError: "the account … already exists".
    if (err instanceof AccountError) return again(409, capitalize(err.message));
    throw err;
  }
  const jid = used.usedBy[used.usedBy.length - 1] ?? `${username}@${invite.host}`;
  pages.server.log.info({ jid, client: ip }, "account created on the invite page");
  sendPage(ctx, 201, welcomePage(ctx, used, jid));
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
