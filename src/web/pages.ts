/**
 * The built-in web pages of one server: the invite landing page (`/invite/<token>`) and the admin page
 * (`/admin`). The routes are server-wide, while invitations and accounts belong to hosts, so each user host's
 * `web` module registers its services here; the first one mounts the routes and the last one unmounts them.
 */
import { AuthThrottle } from "../core/auth-throttle.ts";
import type { Server } from "../core/server.ts";
import type { AccountsService } from "../modules/accounts.ts";
import type { InvitesService } from "../modules/invites.ts";
import { adminPageRoute } from "./admin-page.ts";
import { AdminSessions } from "./admin-session.ts";
import { FormTokens } from "./forms.ts";
import { invitePageRoute } from "./invite-page.ts";

/** What a host offers the pages; services are missing when their module is disabled. */
export interface WebHost {
  invites?: InvitesService;
  accounts?: AccountsService;
}

/** How long a page's form stays valid. */
const FORM_TOKEN_MAX_AGE_MS = 60 * 60_000;

export class WebPages {
  readonly hosts = new Map<string, WebHost>();
  readonly tokens = new FormTokens(FORM_TOKEN_MAX_AGE_MS);
  /** Account creation attempts on invite pages, per client address: 10 per 15 minutes. */
  readonly registrationAttempts = new AuthThrottle(10, 15 * 60_000);
  /** Failed admin logins per client address: 5 per 15 minutes. */
  readonly loginFailures = new AuthThrottle(5, 15 * 60_000);
  readonly sessions = new AdminSessions();
  private readonly unmount: (() => void)[] = [];

  constructor(readonly server: Server) {}

  start(): void {
    const web = this.server.config.web;
    if (web.invite_page) this.unmount.push(this.server.http.add(invitePageRoute(this)));
    if (web.admin_page) this.unmount.push(this.server.http.add(adminPageRoute(this)));
  }

  stop(): void {
    for (const u of this.unmount.splice(0)) u();
    this.sessions.clear();
  }
}

const shared = new WeakMap<Server, { pages: WebPages; users: number }>();

/** The server's pages, mounted on first use; call `release` when the acquiring host stops. */
export function acquireWebPages(server: Server): { pages: WebPages; release(): void } {
  let entry = shared.get(server);
  if (!entry) {
    entry = { pages: new WebPages(server), users: 0 };
    entry.pages.start();
    shared.set(server, entry);
  }
  entry.users++;
  const current = entry;
  let released = false;
  return {
    pages: current.pages,
    release() {
      if (released) return;
      released = true;
      if (--current.users === 0) {
        shared.delete(server);
        current.pages.stop();
      }
    },
  };
}
