import { randomBytes } from "node:crypto";

/** One multi-step execution of a command (XEP-0050 §3.4), as the framework remembers it between steps. */
export interface CommandSession {
  id: string;
  node: string;
  /** Full JID of the requester: only it may continue the session. */
  owner: string;
  /** The command's own data between steps. */
  state: Record<string, unknown>;
  /** Steps run so far. */
  stage: number;
  /** Actions the last response allowed, and the one `execute` stands for. */
  actions: string[];
  execute: string;
  expiresAt: number;
}

/** Sessions by id, with a lifetime and caps so that a client cannot pile them up. */
export class CommandSessions {
  private readonly sessions = new Map<string, CommandSession>();

  constructor(
    private readonly lifetimeMs: number,
    private readonly maxPerOwner: number,
    private readonly maxTotal: number,
  ) {}

  /** A fresh, unguessable session id (it is the only thing that ties the steps together). */
  newId(node: string): string {
    return `${node.slice(node.lastIndexOf("#") + 1).slice(0, 32)}:${randomBytes(9).toString("base64url")}`;
  }

  /** The session, or "expired" if it existed but timed out, or null. */
  get(id: string, now = Date.now()): CommandSession | "expired" | null {
    const s = this.sessions.get(id);
    if (!s) return null;
    if (s.expiresAt <= now) {
      this.sessions.delete(id);
      return "expired";
    }
    return s;
  }

  /** Stores (or refreshes) a session; the oldest of the owner's (or of everyone's) go when a cap is reached. */
  save(session: CommandSession, now = Date.now()): void {
    session.expiresAt = now + this.lifetimeMs;
    this.sessions.delete(session.id);
    const mine = [...this.sessions.values()].filter((s) => s.owner === session.owner);
    if (mine.length >= this.maxPerOwner) this.sessions.delete((mine[0] as CommandSession).id);
    if (this.sessions.size >= this.maxTotal) this.sessions.delete(this.sessions.keys().next().value as string);
    this.sessions.set(session.id, session);
  }

  delete(id: string): void {
    this.sessions.delete(id);
  }

  /** Forgets expired sessions. */
  sweep(now = Date.now()): void {
    for (const [id, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(id);
  }

  get size(): number {
    return this.sessions.size;
  }
}
