import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { xml } from "../../src/xml/element.ts";
import { connectClient } from "../helpers/client.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { befriend } from "../integration/im-fixtures.ts";
import { event, getItems, itemsOf, notify, publish, pubsubCondition, sendCaps } from "../integration/pep-fixtures.ts";

const PYTHON = "/usr/bin/python3";
const SCRIPT = join(import.meta.dirname, "slixmpp_pep.py");
const NICK = "http://jabber.org/protocol/nick";
const METADATA = "urn:xmpp:avatar:metadata";
/** The avatar bytes the script publishes. */
const AVATAR = Buffer.from("\x89PNG\r\n\x1a\n slixmpp interop avatar", "latin1");

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const PLUGINS = ["xep_0163", "xep_0084", "xep_0048", "xep_0223", "xep_0172", "xep_0054"];
const hasSlixmpp =
  existsSync(PYTHON) &&
  (await run(PYTHON, ["-c", PLUGINS.map((p) => `import slixmpp.plugins.${p}`).join("; ")])).code === 0;

/** Skip when python3-slixmpp is missing locally; CI sets HEARTH_REQUIRE_INTEROP=1 and must not skip. */
function skipReason(): string | false {
  if (hasSlixmpp) return false;
  if (process.env.HEARTH_REQUIRE_INTEROP === "1") {
    throw new Error("python3-slixmpp is required (HEARTH_REQUIRE_INTEROP=1)");
  }
  return "python3-slixmpp is not installed (apt-get install python3-slixmpp to run this test)";
}

interface Report {
  connected: boolean;
  error: string | null;
  identities: string[];
  features: string[];
  nicks: { from: string; nick: string }[];
  avatar_id: string;
  vcard_photo_matches: boolean;
  bookmarks: { jid: string; name: string; nick: string; autojoin: boolean }[];
  bookmark_urls: string[];
  private_pep: string;
}

describe("interop: slixmpp's PEP (XEP-0163), avatar (XEP-0084), nick (XEP-0172), bookmarks (XEP-0048) and XEP-0223 plugins", () => {
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

  it("gets PEP notifications, publishes an avatar and bookmarks the server converts, and stores private data", {
    skip: skipReason(),
  }, async () => {
    const desk = await connectClient(ts, "alice@localhost", "alice-secret", {
      resource: "desk",
      roster: true,
      presence: true,
    });
    const bob = await connectClient(ts, "bob@localhost", "bob-secret", {
      resource: "phone",
      roster: true,
      presence: true,
    });
    await befriend(desk, bob);
    await sendCaps(bob, notify(METADATA));
    await publish(bob, NICK, xml("nick", { xmlns: NICK }, "Bob before"));

    const slix = run(PYTHON, [SCRIPT, "alice@localhost/slix", "alice-secret", String(ts.c2sPort), "bob@localhost"]);
    // While waiting for slixmpp's steps, fail at once with its report if it fails.
    const ended = slix.then((r) => {
      if (r.code !== 0) throw new Error(`slixmpp failed (${r.code}): ${r.stdout} ${r.stderr.slice(-2000)}`);
      return new Promise<never>(() => {}); // finished fine: what it sent is still on its way
    });
    ended.catch(() => {});
    const step = <T>(p: Promise<T>) => Promise.race([p, ended]);
    await step(bob.expect((el) => el.getChildText("body") === "ready", 30_000));
    await publish(bob, NICK, xml("nick", { xmlns: NICK }, "Bob live"));

    // Alice's avatar, published by slixmpp, reaches Bob as metadata.
    const hash = createHash("sha1").update(AVATAR).digest("hex");
    const meta = await step(
      bob.expect((el) => event(METADATA, "alice@localhost")(el) && itemsOf(el).length > 0, 30_000),
    );
    assert.equal(itemsOf(meta)[0]?.getChild("metadata", METADATA)?.getChild("info")?.attrs.id, hash);

    const result = await slix;
    const report = JSON.parse(result.stdout.trim().split("\n").pop() || "{}") as Report;
    assert.equal(result.code, 0, `slixmpp failed: ${result.stdout} ${result.stderr.slice(-2000)}`);
    assert.equal(report.connected, true);
    assert.ok(report.identities.includes("pubsub/pep"));
    for (const f of ["http://jabber.org/protocol/pubsub#publish-options", "urn:xmpp:bookmarks:1#compat"]) {
      assert.ok(report.features.includes(f), f);
    }
    assert.deepEqual(report.nicks, [
      { from: "bob@localhost", nick: "Bob before" },
      { from: "bob@localhost", nick: "Bob live" },
    ]);
    assert.equal(report.avatar_id, hash);
    assert.equal(report.vcard_photo_matches, true, "the vCard PHOTO is the PEP avatar");
    assert.deepEqual(report.bookmarks, [
      { jid: "tea@conference.localhost", name: "Tea party", nick: "slix", autojoin: true },
    ]);
    assert.deepEqual(report.bookmark_urls, ["https://hearth.example/"]);
    assert.equal(report.private_pep, "kept private");

    // What the server made of it, as other clients see it: XEP-0402 items, and a private node.
    const bookmarks = await getItems(desk, "urn:xmpp:bookmarks:1");
    const item = itemsOf(bookmarks)[0];
    assert.equal(item?.attrs.id, "tea@conference.localhost");
    assert.equal(item?.getChild("conference", "urn:xmpp:bookmarks:1")?.attrs.autojoin, "true");
    assert.equal(item?.getChild("conference", "urn:xmpp:bookmarks:1")?.getChildText("nick"), "slix");
    const peek = await getItems(bob, "urn:example:slix:private", { to: "alice@localhost" });
    assert.equal(pubsubCondition(peek), "closed-node");
    await Promise.all([desk.close(), bob.close()]);
  });
});
