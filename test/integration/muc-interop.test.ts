/** XEP-0045 with a real client library: slixmpp's xep_0045 plugin (Debian python3-slixmpp) against Hearth. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join as joinPath } from "node:path";
import { after, before, describe, it } from "node:test";
import { xml } from "../../src/xml/element.ts";
import { connectClient } from "../helpers/client.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import {
  codes,
  groupchat,
  isSubject,
  item,
  MUC_USER,
  presenceFrom,
  receiveUntil,
  roomJid,
  say,
  sendJoin,
} from "./muc-fixtures.ts";

const PYTHON = "/usr/bin/python3";
const SCRIPT = joinPath(import.meta.dirname, "../interop/slixmpp_muc.py");

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(PYTHON, args, { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const hasSlixmpp = existsSync(PYTHON) && (await run(["-c", "import slixmpp.plugins.xep_0045"])).code === 0;

/** Skip when slixmpp is missing locally; CI (HEARTH_REQUIRE_INTEROP=1) must not skip. */
function skipReason(): string | false {
  if (hasSlixmpp) return false;
  if (process.env.HEARTH_REQUIRE_INTEROP === "1")
    throw new Error("python3-slixmpp is required (HEARTH_REQUIRE_INTEROP=1)");
  return "python3-slixmpp is not installed (apt-get install python3-slixmpp to run this test)";
}

describe("MUC interop with slixmpp (xep_0045)", () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({
      users: [
        ["alice@localhost", "alice-secret"],
        ["bob@localhost", "bob-secret"],
      ],
    });
  });
  after(() => ts.stop());

  it("slixmpp creates and configures a room, manages it and talks with a second client in it", {
    skip: skipReason(),
  }, async () => {
    const bob = await connectClient(ts, "bob@localhost", "bob-secret", { resource: "desk", presence: true });
    const room = roomJid("interop");
    const slix = run([
      SCRIPT,
      "alice@localhost/slix",
      "alice-secret",
      String(ts.c2sPort),
      room,
      "Slix",
      "bob@localhost",
      "Bob",
    ]);

    // slixmpp invites Bob (a mediated invitation from the room) once the room is set up.
    const invite = await bob.expect((el) => el.getChild("x", MUC_USER)?.getChild("invite") !== undefined, 20_000);
    assert.equal(invite.attrs.from, room);
    sendJoin(bob, "interop", "Bob");
    const seq = await receiveUntil(bob, isSubject("interop"), 10_000);
    const self = seq.find((el) => presenceFrom(roomJid("interop", "Bob"))(el) && codes(el).includes("110"));
    assert.equal(item(self!)?.attrs.affiliation, "member", "slixmpp made Bob a member");
    assert.ok(
      seq.some((el) => el.getChildText("body") === "hello from slixmpp"),
      "history has slixmpp's message",
    );
    assert.equal(seq[seq.length - 1]?.getChildText("subject"), "Interop subject");
    say(bob, "interop", "hello back");
    await bob.expect(groupchat("hello back"));
    const kicked = await bob.expect(presenceFrom(roomJid("interop", "Bob"), "unavailable"), 10_000);
    assert.ok(codes(kicked).includes("307"));
    assert.equal(item(kicked)?.getChildText("reason"), "interop kick");

    const result = await slix;
    const report = JSON.parse(result.stdout.trim().split("\n").pop() as string);
    assert.equal(result.code, 0, `slixmpp failed: ${result.stdout.slice(-2000)} ${result.stderr.slice(-2000)}`);
    assert.equal(report.service_is_muc, true);
    assert.equal(report.created, true);
    assert.equal(report.affiliation, "owner");
    assert.ok(report.config_fields >= 10);
    assert.deepEqual(report.members, ["bob@localhost"]);
    assert.equal(report.peer_said, "hello back");
    assert.deepEqual(report.roster, ["Bob", "Slix"]);
    assert.deepEqual(report.participants, ["Bob"]);
    assert.equal(report.bad_request, "bad-request");
    assert.ok(report.steps.includes("destroyed"));
    await bob.close();
    // Destroyed: the room is gone.
    const probe = await connectClient(ts, "bob@localhost", "bob-secret", { presence: true });
    const info = await probe.iq(
      xml("iq", { type: "get", to: room }, xml("query", { xmlns: "http://jabber.org/protocol/disco#info" })),
    );
    assert.equal(info.attrs.type, "error");
    await probe.close();
  });
});
