import { AccountManager } from "../accounts/manager.ts";
import { StreamError } from "../core/errors.ts";
import type { ModuleDefinition } from "../core/module.ts";
import { isC2s, type Session } from "../core/session.ts";

/** The account lifecycle on a running server, for registration, admin commands and invitations. */
export interface AccountsService {
  exists(username: string): Promise<boolean>;
  /**
   * Creates an account of this host and fires `account.created`. Rejects with `AccountError` (a message for the
   * user: invalid username or password) or `AccountExistsError`.
   */
  create(username: string, password: string): Promise<void>;
  /** Replaces the password; `AccountError` if there is no such account or the password is unusable. */
  setPassword(username: string, password: string): Promise<void>;
  /**
   * Deletes the account and all of its data: no new logins from the first step, its sessions end with a
   * `not-authorized` stream error (XEP-0077 §3.2), `account.deleted` lets every module remove what it keeps,
   * then every store is swept. Returns whether the account existed.
   */
  delete(username: string, reason?: string): Promise<boolean>;
}

declare module "../core/module.ts" {
  interface HostServices {
    accounts: AccountsService;
  }
}

declare module "../core/host.ts" {
  interface HostEvents {
    /** An account of this host was created on the running server (registration, invitation, admin command). */
    "account.created": { username: string };
  }
}

/** How long a deletion waits for the account's sessions to finish their close handlers (presence, last seen). */
const SESSION_END_WAIT_MS = 3000;

/** Provides the `accounts` service: create, re-password and delete accounts of this host while it runs. */
export const accountsModule: ModuleDefinition = {
  name: "accounts",
  load(ctx) {
    const host = ctx.host.name;
    const manager = new AccountManager(ctx.storage, {
      iterations: ctx.config.auth.scram_iterations,
      hosts: [host],
      beforeDelete: async (_host, username) => {
        await ctx.host.events.fire("account.deleted", { username });
      },
    });

    /** Every connection of the account: bound, hibernating (XEP-0198) or authenticated but not yet bound. */
    const connectionsOf = (username: string): Session[] => {
      const found = new Set<Session>(ctx.sessions.resources(`${username}@${host}`));
      for (const s of ctx.server.connections) {
        if (isC2s(s) && s.host === host && s.username === username) found.add(s);
      }
      return [...found];
    };

    ctx.provide("accounts", {
      exists: (username) => ctx.storage.accounts.exists(host, username),
      async create(username, password) {
        await manager.create(`${username}@${host}`, password);
        ctx.log.info({ user: username }, "account created");
        await ctx.host.events.fire("account.created", { username });
      },
      async setPassword(username, password) {
        await manager.setPassword(`${username}@${host}`, password);
        ctx.log.info({ user: username }, "password changed");
      },
      async delete(username, reason = "The account was deleted") {
        if (!(await ctx.storage.accounts.exists(host, username))) return false;
        // Without credentials SASL fails, so nobody logs in while the data is being removed.
        await ctx.storage.accounts.setCredentials(host, username, {});
        const sessions = connectionsOf(username);
        for (const s of sessions) s.close(new StreamError("not-authorized", reason));
        await Promise.race([
          Promise.allSettled(sessions.map((s) => s.finished)),
          new Promise((r) => setTimeout(r, SESSION_END_WAIT_MS).unref()),
        ]);
        const existed = await manager.delete(`${username}@${host}`);
        ctx.log.info({ user: username }, "account deleted");
        return existed;
      },
    });
  },
};
