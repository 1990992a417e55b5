import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runSmoke } from "../../bench/smoke.ts";
import { startTestServer } from "../helpers/server.ts";

/**
 * Keeps the benchmark harness from rotting: every scenario, a few connections for a couple of seconds
 * against a real Hearth, with 0 errors and 0 lost messages. The full runs (`npm run bench`) are for people.
 */
describe("benchmark harness smoke run", () => {
  it("runs login, idle, chat, chat+mam, presence and muc against Hearth with no errors and nothing lost", async () => {
    const users = 4;
    const accounts: [string, string][] = [];
    for (let i = 1; i <= users; i++) accounts.push([`bench${i}@localhost`, "bench-pass-1"]);
    const ts = await startTestServer({ users: accounts, config: { muc: { message_rate: 0 } } });
    try {
      const lines: string[] = [];
      const result = await runSmoke({
        target: {
          name: "hearth",
          host: "127.0.0.1",
          port: ts.c2sPort,
          domain: "localhost",
          mucDomain: "conference.localhost",
          pid: process.pid,
        },
        users,
        password: "bench-pass-1",
        durationS: 1,
        scenarios: ["login", "idle", "chat", "chat+mam", "presence", "muc"],
        log: (line) => lines.push(line),
      });
      assert.deepEqual(result.failures, [], lines.join("\n"));
      assert.deepEqual(result.skipped, []);
      assert.ok(result.records.length >= 6, "one record per scenario");
    } finally {
      await ts.stop();
    }
  });
});
