/**
 * `/admin`: a status and administration page for the server's administrators (config `admins`). Sign-in checks
 * the password against the account's stored SCRAM credentials; the session lives in an HttpOnly, SameSite=Strict
 * cookie scoped to `/admin`, and every form carries the session's CSRF token. Only over a confidential channel
 * (HTTPS, a trusted HTTPS proxy, or loopback), since a password is sent.
 */
import { AccountManager } from "../accounts/manager.ts";
import type { HttpContext, HttpRoute } from "../http/routes.ts";
import { statusReport } from "../http/status.ts";
import { InviteError } from "../invites/errors.ts";
import { parseJid } from "../jid/jid.ts";
import { ADMIN_COOKIE, ADMIN_MAX_MS, type AdminSession } from "./admin-session.ts";
import { type Dashboard, dashboardPage, loginPage, type OnlineSession } from "./admin-view.ts";
import { MAX_FORM_BYTES, readCookie, readForm, sameOrigin } from "./forms.ts";
import { html } from "./html.ts";
import { redirect, sendPage } from "./layout.ts";
import type { WebPages } from "./pages.ts";

/** Online sessions listed on the page; a busy server shows a count for the rest. */
const MAX_LISTED_SESSIONS = 200;

function cookie(ctx: HttpContext, value: string, maxAgeS: number): string {
  const secure = ctx.scheme === "https" ? "; Secure" : "";
  return `${ADMIN_COOKIE}=${value}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure}`;
}

/** The normalized bare JID if it is one of the configured admins, else null. */
function adminJid(pages: WebPages, input: string): string | null {
  try {
    const jid = parseJid(input.trim());
    if (jid.local === "" || jid.resource !== "") return null;
    return pages.server.config.admins.includes(jid.bareString) ? jid.bareString : null;
  } catch {
    return null;
  }
}

/** The signed-in admin of this request, if the account still exists. */
async function currentSession(pages: WebPages, ctx: HttpContext): Promise<AdminSession | undefined> {
  const session = pages.sessions.get(readCookie(ctx, ADMIN_COOKIE));
  if (!session) return undefined;
  const jid = parseJid(session.jid);
  if (
    !pages.server.config.admins.includes(session.jid) ||
    !(await pages.server.storage.accounts.exists(jid.domain, jid.local))
  ) {
    pages.sessions.delete(session.id);
    return undefined;
  }
  return session;
}

async function dashboard(pages: WebPages, ctx: HttpContext, session: AdminSession): Promise<Dashboard> {
  const server = pages.server;
  const online: OnlineSession[] = [];
  let onlineTotal = 0;
  const perHost = new Map<string, number>();
  for (const s of server.sessions.all()) {
    onlineTotal++;
    perHost.set(s.host, (perHost.get(s.host) ?? 0) + 1);
    if (online.length < MAX_LISTED_SESSIONS) {
      online.push({
        jid: s.jid.toString(),
        transport: s.transport,
        secure: s.secure,
        address: s.remoteAddress,
        since: s.connectedAt,
      });
    }
  }
  online.sort((a, b) => (a.jid < b.jid ? -1 : a.jid > b.jid ? 1 : 0));
  const hosts = [];
  for (const host of server.hosts.values()) {
    if (host.kind !== "user") continue;
    const services = [...server.hosts.values()]
      .filter((h) => h.kind === "service" && h.name.endsWith(`.${host.name}`))
      .map((h) => h.name);
    hosts.push({
      name: host.name,
      accounts: await server.storage.accounts.count(host.name),
      online: perHost.get(host.name) ?? 0,
      services,
    });
  }
  const inviteHosts = [...pages.hosts].filter(([, h]) => h.invites).map(([name]) => name);
  const mem = process.memoryUsage();
  const notice = noticeOf(ctx);
  return {
    admin: session.jid,
    csrf: session.csrf,
    status: statusReport(server),
    node: process.versions.node,
    memory: { rss: mem.rss, heap: mem.heapUsed },
    hosts,
    online,
    onlineTotal,
    listeners: server.listening,
    uploads: server.config.upload.enabled ? await server.storage.uploads.totals() : null,
    invites: inviteHosts.length ? await server.storage.invites.list() : null,
    inviteHosts,
    baseUrl: ctx.baseUrl,
    notice,
  };
}

/** The message after an action (Post/Redirect/Get), from the query string. */
function noticeOf(ctx: HttpContext): Dashboard["notice"] {
  const q = ctx.url.searchParams;
  const created = q.get("created");
  if (created && /^[a-z2-7]{1,64}$/.test(created)) {
    const link = `${ctx.baseUrl}/invite/${created}`;
    return { kind: "ok", text: html`Invitation created: <a href="/invite/${created}">${link}</a>` };
  }
  if (q.get("revoked") !== null) return { kind: "ok", text: "Invitation revoked." };
  return undefined;
}

/** `GET /admin` shows the dashboard or the sign-in form; `POST /admin` signs in and out and runs actions. */
export function adminPageRoute(pages: WebPages): HttpRoute {
  const passwords = new AccountManager(pages.server.storage, {
    iterations: pages.server.config.auth.scram_iterations,
    hosts: pages.server.config.hosts,
  });
  return {
    path: "/admin",
    methods: ["GET", "POST"],
    maxBodyBytes: MAX_FORM_BYTES,
    async handler(ctx) {
      // A password crosses this channel: plain HTTP is only acceptable on loopback.
      if (!ctx.secure) return sendPage(ctx, 403, loginPage({ insecure: true }));
      const session = await currentSession(pages, ctx);
      if (ctx.req.method !== "POST") {
        if (!session) return sendPage(ctx, 200, loginPage({}));
        return sendPage(ctx, 200, dashboardPage(await dashboard(pages, ctx, session)));
      }
      if (!sameOrigin(ctx))
        return sendPage(ctx, 403, loginPage({ error: "This form must be sent from its own page." }));
      const form = await readForm(ctx);
      const action = form.get("action");
      if (action === "login") return login(pages, passwords, ctx, form);
      if (!session || form.get("csrf") !== session.csrf) {
        return sendPage(ctx, 403, loginPage({ error: "Your session has ended. Please sign in again." }));
      }
      switch (action) {
        case "logout":
          pages.sessions.delete(session.id);
          return redirect(ctx, "/admin", { "Set-Cookie": cookie(ctx, "", 0) });
        case "create-invite":
          return createInvite(pages, ctx, session, form);
        case "revoke-invite": {
          const token = form.get("token") ?? "";
          await pages.server.storage.invites.delete(token);
          pages.server.log.info({ admin: session.jid }, "invitation revoked on the admin page");
          return redirect(ctx, "/admin?revoked");
        }
        default:
          return redirect(ctx, "/admin");
      }
    },
  };
}

async function login(
  pages: WebPages,
  passwords: AccountManager,
  ctx: HttpContext,
  form: URLSearchParams,
): Promise<void> {
  const ip = ctx.clientAddress;
  const input = form.get("jid") ?? "";
  if (!pages.loginFailures.allowed(ip)) {
    return sendPage(ctx, 429, loginPage({ jid: input, error: "Too many failed attempts. Please wait a few minutes." }));
  }
  const jid = adminJid(pages, input);
  // The password is checked even for non-admins, so timing does not tell who is an admin.
  const ok = await passwords.authenticatePlain(input.trim(), form.get("password") ?? "");
  if (!jid || !ok) {
    pages.loginFailures.recordFailure(ip);
    pages.server.log.warn({ client: ip }, "failed admin page sign-in");
    return sendPage(ctx, 401, loginPage({ jid: input, error: "Wrong address or password, or not an administrator." }));
  }
  const session = pages.sessions.create(jid);
  pages.server.log.info({ admin: jid, client: ip }, "admin signed in on the admin page");
  redirect(ctx, "/admin", { "Set-Cookie": cookie(ctx, session.id, Math.floor(ADMIN_MAX_MS / 1000)) });
}

async function createInvite(
  pages: WebPages,
  ctx: HttpContext,
  session: AdminSession,
  form: URLSearchParams,
): Promise<void> {
  // Errors are shown on the page itself (not through the URL, which anyone could write).
  const failed = async (text: string) => {
    const d = await dashboard(pages, ctx, session);
    sendPage(ctx, 400, dashboardPage({ ...d, notice: { kind: "error", text } }));
  };
  const host = pages.hosts.get(form.get("host") ?? "");
  if (!host?.invites) return failed("Invitations cannot be created for this host.");
  const uses = Number(form.get("uses") ?? "1");
  const days = Number(form.get("days") ?? "7");
  try {
    const invite = await host.invites.create({
      creator: session.jid,
      username: (form.get("username") ?? "").trim() || null,
      maxUses: uses,
      expiresIn: Number.isFinite(days) ? Math.round(days * 86400) : Number.NaN,
    });
    pages.server.log.info({ admin: session.jid, host: invite.host }, "invitation created on the admin page");
    redirect(ctx, `/admin?created=${invite.token}`);
  } catch (err) {
    if (!(err instanceof InviteError)) throw err;
    await failed(`The invitation was not created: ${err.message}.`);
  }
}
