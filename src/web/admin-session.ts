import { randomBytes } from "node:crypto";

/** A signed-in administrator in one browser. */
export interface AdminSession {
  /** The cookie value: 256 random bits. */
  readonly id: string;
  /** The admin's bare JID. */
  readonly jid: string;
  /** Sent back in every form of the page (CSRF); never in a cookie. */
  readonly csrf: string;
  readonly createdAt: number;
  lastSeen: number;
}

/** Sessions end after this long without a request… */
export const ADMIN_IDLE_MS = 30 * 60_000;
/** …and after this long in any case. */
export const ADMIN_MAX_MS = 12 * 60 * 60_000;
/** Sessions kept at once; the oldest go first. */
const MAX_SESSIONS = 1000;

/** The cookie naming the admin session. Scoped to `/admin`, HttpOnly, SameSite=Strict. */
export const ADMIN_COOKIE = "hearth_admin";

/** Admin page sessions, in memory: a restart signs everyone out, which is the safe direction. */
export class AdminSessions {
  private readonly sessions = new Map<string, AdminSession>();

  create(jid: string, now = Date.now()): AdminSession {
    const session: AdminSession = {
      id: randomBytes(32).toString("base64url"),
      jid,
      csrf: randomBytes(24).toString("base64url"),
      createdAt: now,
      lastSeen: now,
    };
    this.sessions.set(session.id, session);
    if (this.sessions.size > MAX_SESSIONS) {
      const oldest = this.sessions.keys().next().value;
      if (oldest !== undefined) this.sessions.delete(oldest);
    }
    return session;
  }

  /** The live session with this id, touched; undefined if unknown or expired. */
  get(id: string | undefined, now = Date.now()): AdminSession | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    if (now - s.lastSeen > ADMIN_IDLE_MS || now - s.createdAt > ADMIN_MAX_MS) {
      this.sessions.delete(id);
      return undefined;
    }
    s.lastSeen = now;
    return s;
  }

  delete(id: string): void {
    this.sessions.delete(id);
  }

  clear(): void {
    this.sessions.clear();
  }
}
