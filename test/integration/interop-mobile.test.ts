import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, it } from "node:test";
import { xml } from "../../src/xml/element.ts";
import { connectClient } from "../helpers/client.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { message, withBody } from "./im-fixtures.ts";

const PYTHON = "/usr/bin/python3";
const SCRIPT = join(import.meta.dirname, "../interop/slixmpp_mobile.py");

function hasSlixmpp(): boolean {
  if (!existsSync(PYTHON)) return false;
  try {
    execFileSync(PYTHON, ["-c", "import slixmpp.plugins.xep_0198, slixmpp.plugins.xep_0280"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Skip when slixmpp is missing locally; CI (HEARTH_REQUIRE_INTEROP=1) must not skip. */
function skipReason(): string | false {
  if (hasSlixmpp()) return false;
  if (process.env.HEARTH_REQUIRE_INTEROP === "1")
    throw new Error("python3-slixmpp is required (HEARTH_REQUIRE_INTEROP=1)");
  return "python3-slixmpp is not installed (apt-get install python3-slixmpp to run this test)";
}

interface SlixEvent {
  event: string;
  [k: string]: unknown;
}

/** Runs the slixmpp script and lets the test wait for the JSON events it prints and send it commands. */
function runSlixmpp(args: string[]) {
  const child = spawn(PYTHON, [SCRIPT, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const events: SlixEvent[] = [];
  const waiters: (() => void)[] = [];
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  createInterface({ input: child.stdout }).on("line", (line) => {
    try {
      events.push(JSON.parse(line) as SlixEvent);
    } catch {
      return;
    }
    for (const w of waiters.splice(0)) w();
  });
  const exited = new Promise<number>((resolve) => child.on("exit", (code) => resolve(code ?? 1)));
  return {
    async next(pred: (e: SlixEvent) => boolean, timeout = 15_000): Promise<SlixEvent> {
      const deadline = Date.now() + timeout;
      for (;;) {
        const i = events.findIndex(pred);
        if (i >= 0) return events.splice(i, 1)[0] as SlixEvent;
        if (Date.now() > deadline)
          throw new Error(`slixmpp: timed out; events ${JSON.stringify(events)}; ${stderr.slice(-2000)}`);
        await new Promise<void>((r) => {
          const t = setTimeout(r, 200);
          waiters.push(() => {
            clearTimeout(t);
            r();
          });
        });
      }
    },
    /** SIGUSR1: lose the connection and resume; SIGUSR2: quit. */
    signal(sig: "SIGUSR1" | "SIGUSR2"): void {
      child.kill(sig);
    },
    exited,
    kill: () => child.kill(),
  };
}

describe("interop: slixmpp with stream management, carbons and CSI", () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({ users: ["alice", "bob"].map((u) => [`${u}@localhost`, "pw"]) });
  });
  after(() => ts.stop());

  it("enables SM, CSI and carbons, gets carbons, and resumes after losing its connection", {
    skip: skipReason(),
  }, async () => {
    const desk = await connectClient(ts, "alice@localhost", "pw", { resource: "desk", presence: true });
    await desk.iq(xml("iq", { type: "set" }, xml("enable", { xmlns: "urn:xmpp:carbons:2" })));
    const bob = await connectClient(ts, "bob@localhost", "pw", { resource: "b", presence: true });
    const slix = runSlixmpp(["alice@localhost/slix", "pw", String(ts.c2sPort)]);
    try {
      const ready = await slix.next((e) => e.event === "ready");
      assert.equal(ready.jid, "alice@localhost/slix");
      assert.ok(typeof ready.sm_id === "string" && ready.sm_id.length > 0, "slixmpp got a resumable SM id");
      assert.equal(ready.csi, true, "CSI offered");

      bob.send(message("alice@localhost/slix", "hello slix"));
      await slix.next((e) => e.event === "message" && e.body === "hello slix");
      desk.send(message("bob@localhost", "from the desk"));
      await bob.expect(withBody("from the desk"));
      await slix.next((e) => e.event === "carbon_sent" && e.body === "from the desk");
      bob.send(message(desk.jid, "to the desk"));
      await slix.next((e) => e.event === "carbon_received" && e.body === "to the desk");

      slix.signal("SIGUSR1");
      await slix.next((e) => e.event === "aborted");
      bob.send(message("alice@localhost/slix", "while you were away"));
      await slix.next((e) => e.event === "resumed");
      const late = await slix.next((e) => e.event === "message" && e.body === "while you were away");
      assert.equal(late.delayed, true, "a stanza resent after resumption carries a delay stamp");
      // Same session afterwards: the full JID still reaches it.
      bob.send(message("alice@localhost/slix", "after resume"));
      await slix.next((e) => e.event === "message" && e.body === "after resume");

      slix.signal("SIGUSR2");
      const done = await slix.next((e) => e.event === "done");
      assert.equal(done.error, null);
      assert.equal(await slix.exited, 0);
    } finally {
      slix.kill();
      await Promise.all([desk.close(), bob.close()]);
    }
  });
});
