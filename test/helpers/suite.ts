import { after, before } from "node:test";
import type { ConfigOverrides } from "../../src/config/load.ts";
import { connectClient, type LoginOptions, type TestClient } from "./client.ts";
import { startTestServer, type TestServer } from "./server.ts";

/** A test server shared by one `describe` block, with the clients its tests log in. */
export interface ServerSuite {
  /** The running server (a new instance after `restart()`). */
  readonly ts: TestServer;
  /** Logs in `user@localhost` (password "pw"); the client is closed when the suite ends. */
  login(user: string, opts?: LoginOptions): Promise<TestClient>;
  /** Restarts the server on the same data dir; later logins reach the new instance. */
  restart(): Promise<TestServer>;
}

/**
 * Registers `before`/`after` hooks in the current `describe` that start a server with accounts
 * `<user>@localhost` (password "pw") and, at the end, close every client logged in through the suite and
 * stop the server.
 */
export function serverSuite(
  users: string[],
  opts: { config?: ConfigOverrides; login?: LoginOptions } = {},
): ServerSuite {
  let server: TestServer | undefined;
  const open: TestClient[] = [];
  const current = (): TestServer => {
    if (!server) throw new Error("the suite's server is not running (used outside a test?)");
    return server;
  };
  before(async () => {
    server = await startTestServer({ users: users.map((u) => [`${u}@localhost`, "pw"]), config: opts.config });
  });
  after(async () => {
    await Promise.all(open.map((c) => c.close()));
    await server?.stop();
  });
  return {
    get ts() {
      return current();
    },
    async login(user, loginOpts = {}) {
      const c = await connectClient(current(), `${user}@localhost`, "pw", { ...opts.login, ...loginOpts });
      open.push(c);
      return c;
    },
    async restart() {
      server = await current().restart();
      return server;
    },
  };
}
