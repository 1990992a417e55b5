import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { xml } from "../../src/xml/element.ts";
import { connectClient } from "../helpers/client.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

const PYTHON = "/usr/bin/python3";
const SCRIPT = join(import.meta.dirname, "slixmpp_mam.py");

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const hasSlixmpp = existsSync(PYTHON) && (await run(PYTHON, ["-c", "import slixmpp.plugins.xep_0313"])).code === 0;

/** Skip when python3-slixmpp is missing locally; CI sets HEARTH_REQUIRE_INTEROP=1 and must not skip. */
function skipReason(): string | false {
  if (hasSlixmpp) return false;
  if (process.env.HEARTH_REQUIRE_INTEROP === "1")
    throw new Error("python3-slixmpp is required (HEARTH_REQUIRE_INTEROP=1)");
  return "python3-slixmpp is not installed (apt-get install python3-slixmpp to run this test)";
}

interface Archived {
  body: string;
  id: string;
  stamped: boolean;
}

describe("interop: slixmpp's MAM (XEP-0313), stanza-id (XEP-0359) and blocking (XEP-0191) plugins", () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({
      users: [
        ["alice@localhost", "alice-secret"],
        ["bob@localhost", "bob-secret"],
        ["carol@localhost", "carol-secret"],
      ],
    });
  });
  after(() => ts.stop());

  it("pages through the archive, filters by contact, sees stanza-ids and manages the blocklist", {
    skip: skipReason(),
  }, async () => {
    // History made by other clients: alice's desk and bob's phone, 7 messages, then one with carol.
    const desk = await connectClient(ts, "alice@localhost", "alice-secret", { resource: "desk", presence: true });
    const bob = await connectClient(ts, "bob@localhost", "bob-secret", { resource: "phone", presence: true });
    const carol = await connectClient(ts, "carol@localhost", "carol-secret", { resource: "pc", presence: true });
    const history: string[] = [];
    for (let i = 1; i <= 7; i++) {
      const body = `h${i}`;
      history.push(body);
      const [from, to] = i % 2 === 1 ? [desk, bob] : [bob, desk];
      from.send(xml("message", { to: to.jid, type: "chat" }, xml("body", null, body)));
      await to.expect((el) => el.getChildText("body") === body);
    }
    carol.send(xml("message", { to: "alice@localhost", type: "chat" }, xml("body", null, "from carol")));
    await desk.expect((el) => el.getChildText("body") === "from carol");
    history.push("from carol");
    await desk.close();

    const slix = run(PYTHON, [
      SCRIPT,
      "alice@localhost/slix",
      "alice-secret",
      String(ts.c2sPort),
      "bob@localhost",
      "carol@localhost",
    ]);
    const ping = await bob.expect((el) => el.getChildText("body") === "ping-from-slix", 30_000);
    bob.send(xml("message", { to: ping.attrs.from, type: "chat" }, xml("body", null, "live")));
    const result = await slix;
    assert.equal(result.code, 0, `slixmpp failed: ${result.stdout} ${result.stderr.slice(-3000)}`);
    const r = JSON.parse(result.stdout.trim().split("\n").pop() as string);

    for (const f of ["urn:xmpp:mam:2", "urn:xmpp:mam:2#extended", "urn:xmpp:sid:0"])
      assert.ok(r.features.includes(f), f);
    for (const f of ["FORM_TYPE", "with", "start", "end", "before-id", "after-id", "ids"]) {
      assert.ok(r.form_fields.includes(f), `form field ${f}`);
    }
    // Forwards in pages of 3 until the plugin sees the whole set (RSM index + count).
    assert.deepEqual(
      r.forward.map((m: Archived) => m.body),
      history,
    );
    assert.ok(r.forward.every((m: Archived) => m.stamped && m.id.length > 0));
    assert.equal(new Set(r.forward.map((m: Archived) => m.id)).size, history.length, "unique ids");
    // Backwards from the last page (<before/>), newest first as the plugin hands them out.
    assert.deepEqual(
      r.backward.map((m: Archived) => m.body),
      history.slice(-3).reverse(),
    );
    assert.deepEqual(r.with_peer, history.slice(0, 7));
    assert.equal(r.with_peer_complete, "true");

    // XEP-0359: the live message's stanza-id is the newest archive id.
    assert.equal(r.live_stanza_id.by, "alice@localhost");
    assert.equal(r.newest.length, 1);
    assert.equal(r.newest[0].body, "live");
    assert.equal(r.newest[0].id, r.live_stanza_id.id);

    assert.deepEqual(r.blocked_before, []);
    assert.deepEqual(r.block_push, ["carol@localhost"]);
    assert.deepEqual(r.blocked_after, ["carol@localhost"]);
    assert.deepEqual(r.blocked_final, []);
    await Promise.all([bob.close(), carol.close()]);
  });
});
