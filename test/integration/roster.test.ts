import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type XmlElement, xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import { authenticate, connectClient, RawConnection } from "../helpers/client.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { befriend, errorCondition, expectPush, items, presence, rosterGet, rosterSet } from "./im-fixtures.ts";

const USERS = ["alice", "bob", "carol", "dave", "erin", "zed"];

/** Logs in by hand up to the post-authentication stream features. */
async function postAuthFeatures(ts: TestServer): Promise<XmlElement> {
  const conn = await RawConnection.open(ts.c2sPort);
  conn.openStream("localhost");
  await conn.streamOpen();
  await conn.element("stream:features");
  conn.send(xml("starttls", { xmlns: NS.tls }));
  await conn.element("proceed", NS.tls);
  await conn.startTls("localhost");
  conn.openStream("localhost");
  await conn.streamOpen();
  await conn.element("stream:features");
  await authenticate(conn, "alice", "pw", "PLAIN");
  conn.resetParser();
  conn.openStream("localhost");
  await conn.streamOpen();
  const features = await conn.element("stream:features");
  conn.destroy();
  return features;
}

const isPush = (el: XmlElement) => el.name === "iq" && el.attrs.type === "set" && items(el).length > 0;

describe("roster (RFC 6121 §2, XEP-0237)", () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({ users: USERS.map((u) => [`${u}@localhost`, "pw"]) });
  });
  after(() => ts.stop());

  it("advertises roster versioning and pre-approval after authentication", async () => {
    const features = await postAuthFeatures(ts);
    assert.ok(features.getChild("ver", NS.rosterVer), "urn:xmpp:features:rosterver");
    assert.ok(features.getChild("sub", NS.preApproval), "urn:xmpp:features:pre-approval");
  });

  it("answers with the full roster and its version, then with an empty result while the version is current", async () => {
    const alice = await connectClient(ts, "alice@localhost", "pw");
    const first = await rosterGet(alice, "");
    assert.equal(first.attrs.type, "result");
    const query = first.getChild("query", NS.roster);
    assert.ok(query, "a query element");
    assert.equal(items(first).length, 0);
    const ver = query.attrs.ver;
    assert.ok(ver !== undefined && ver !== "", "the result carries a version");

    const unchanged = await rosterGet(alice, ver);
    assert.equal(unchanged.attrs.type, "result");
    assert.equal(unchanged.elements().length, 0, "empty result: nothing changed (§2.6.3)");

    const legacy = await rosterGet(alice);
    assert.equal(legacy.getChild("query", NS.roster)?.attrs.ver, undefined, "no version for a client without it");
    await alice.close();
  });

  it("adds and updates items, pushing to every interested resource before the result (§2.3.2, §2.4.2)", async () => {
    const a1 = await connectClient(ts, "alice@localhost", "pw", { resource: "one", roster: true });
    const a2 = await connectClient(ts, "alice@localhost", "pw", { resource: "two", roster: true });
    const a3 = await connectClient(ts, "alice@localhost", "pw", { resource: "quiet" });
    const ver0 = (await rosterGet(a1, "")).getChild("query", NS.roster)?.attrs.ver;

    a1.send(
      xml(
        "iq",
        { type: "set", id: "add-1" },
        xml(
          "query",
          { xmlns: NS.roster },
          xml("item", { jid: "juliet@example.net", name: "Juliet" }, xml("group", null, "Friends")),
        ),
      ),
    );
    const firstIq = await a1.expect((el) => el.name === "iq");
    assert.equal(firstIq.attrs.type, "set", "the push comes before the result");
    const pushed = items(firstIq)[0] as XmlElement;
    assert.equal(
      pushed.toString(),
      '<item jid="juliet@example.net" name="Juliet" subscription="none"><group>Friends</group></item>',
    );
    const pushVer = firstIq.getChild("query", NS.roster)?.attrs.ver;
    assert.ok(pushVer && pushVer !== ver0, "the push carries the new version");
    const result = await a1.expect((el) => el.name === "iq" && el.attrs.id === "add-1");
    assert.equal(result.attrs.type, "result");
    assert.equal((await expectPush(a2, "juliet@example.net")).attrs.name, "Juliet");
    await a3.nothing(200, isPush);

    // An update replaces name and groups as given (§2.4.1).
    assert.equal((await rosterSet(a1, "juliet@example.net", { name: "J", groups: ["A", "B"] })).attrs.type, "result");
    const updated = await expectPush(a2, "juliet@example.net", (i) => i.attrs.name === "J");
    assert.deepEqual(
      updated.getChildren("group").map((g) => g.text()),
      ["A", "B"],
    );
    const full = await rosterGet(a1, ver0);
    assert.equal(items(full).length, 1, "an old version gets the full roster");
    assert.equal(items(full)[0]?.attrs.name, "J");

    // Roster set ignores subscription values other than "remove" (§2.1.2.5).
    await a1.iq(
      xml(
        "iq",
        { type: "set" },
        xml("query", { xmlns: NS.roster }, xml("item", { jid: "romeo@example.net", subscription: "both" })),
      ),
    );
    assert.equal((await expectPush(a2, "romeo@example.net")).attrs.subscription, "none");

    // Removal is pushed too (§2.5.2).
    assert.equal(
      (
        await a1.iq(
          xml(
            "iq",
            { type: "set" },
            xml("query", { xmlns: NS.roster }, xml("item", { jid: "romeo@example.net", subscription: "remove" })),
          ),
        )
      ).attrs.type,
      "result",
    );
    assert.equal(
      (await expectPush(a2, "romeo@example.net", (i) => i.attrs.subscription === "remove")).attrs.jid,
      "romeo@example.net",
    );
    assert.deepEqual(
      items(await rosterGet(a1)).map((i) => i.attrs.jid),
      ["juliet@example.net"],
    );
    await Promise.all([a1.close(), a2.close(), a3.close()]);
  });

  it("rejects malformed roster sets with the errors of §2.3.3 and §2.5.3", async () => {
    const bob = await connectClient(ts, "bob@localhost", "pw");
    const set = async (...children: XmlElement[]) =>
      errorCondition(await bob.iq(xml("iq", { type: "set" }, xml("query", { xmlns: NS.roster }, ...children))));
    assert.equal(await set(xml("item", { jid: "a@x" }), xml("item", { jid: "b@x" })), "bad-request");
    assert.equal(
      await set(xml("item", { jid: "a@x" }, xml("group", null, "G"), xml("group", null, "G"))),
      "bad-request",
    );
    assert.equal(await set(xml("item", { jid: "a@x" }, xml("group"))), "not-acceptable");
    assert.equal(await set(xml("item", { jid: "a@@x" })), "jid-malformed");
    assert.equal(await set(xml("item", { jid: "bob@localhost" })), "not-allowed");
    assert.equal(await set(xml("item", { jid: "nobody@x", subscription: "remove" })), "item-not-found");
    assert.equal(items(await rosterGet(bob)).length, 0, "nothing was stored");

    // Another account's roster is not reachable.
    const other = await bob.iq(xml("iq", { type: "get", to: "alice@localhost" }, xml("query", { xmlns: NS.roster })));
    assert.equal(errorCondition(other), "service-unavailable");
    await bob.close();
  });

  it("cancels both subscriptions when a contact is removed (§2.5.2)", async () => {
    const carol = await connectClient(ts, "carol@localhost", "pw", { roster: true, presence: true });
    const dave = await connectClient(ts, "dave@localhost", "pw", { roster: true, presence: true });
    await befriend(carol, dave);

    await carol.iq(
      xml(
        "iq",
        { type: "set" },
        xml("query", { xmlns: NS.roster }, xml("item", { jid: "dave@localhost", subscription: "remove" })),
      ),
    );
    await expectPush(carol, "dave@localhost", (i) => i.attrs.subscription === "remove");
    await dave.expect(presence("unsubscribe", "carol@localhost"));
    await dave.expect(presence("unsubscribed", "carol@localhost"));
    await dave.expect(presence("unavailable", carol.jid));
    await expectPush(dave, "carol@localhost", (i) => i.attrs.subscription === "none");
    assert.equal(items(await rosterGet(carol)).length, 0);
    const daveItem = items(await rosterGet(dave))[0];
    assert.equal(daveItem?.attrs.subscription, "none");
    assert.equal(daveItem?.attrs.ask, undefined);
    await Promise.all([carol.close(), dave.close()]);
  });

  it("drops a deleted account's roster and offline messages and ends its subscriptions", async () => {
    const erin = await connectClient(ts, "erin@localhost", "pw", { roster: true, presence: true });
    const zed = await connectClient(ts, "zed@localhost", "pw", { roster: true, presence: true });
    await befriend(erin, zed);
    await zed.close();
    await erin.expect(presence("unavailable", zed.jid));
    erin.send(xml("message", { to: "zed@localhost", type: "chat" }, xml("body", null, "still there?")));
    await erin.nothing(200, (el) => el.name === "message");
    const storage = ts.server.core.storage;
    assert.equal(await storage.offline.count("localhost", "zed"), 1);

    await ts.server.core.hosts.get("localhost")?.events.fire("account.deleted", { username: "zed" });
    assert.equal((await storage.roster.get("localhost", "zed")).items.length, 0);
    assert.equal(await storage.offline.count("localhost", "zed"), 0);
    await erin.expect(presence("unsubscribe", "zed@localhost"));
    await erin.expect(presence("unsubscribed", "zed@localhost"));
    await expectPush(erin, "zed@localhost", (i) => i.attrs.subscription === "none");
    await erin.close();
  });
});
