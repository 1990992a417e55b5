import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import { connectClient } from "../helpers/client.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { befriend, errorCondition, items, message, presence, rosterGet, withBody } from "./im-fixtures.ts";

const CHATSTATES = "http://jabber.org/protocol/chatstates";
const HINTS = "urn:xmpp:hints";

describe("offline messages (XEP-0160, XEP-0203)", () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({
      users: ["alice", "bob", "carol", "dave"].map((u) => [`${u}@localhost`, "pw"]),
      config: { limits: { offline_max_per_user: 3 } },
    });
  });
  after(() => ts.stop());

  it("advertises msgoffline on the server's disco#info", async () => {
    const alice = await connectClient(ts, "alice@localhost", "pw");
    const info = await alice.iq(
      xml("iq", { type: "get", to: "localhost" }, xml("query", { xmlns: "http://jabber.org/protocol/disco#info" })),
    );
    const features = info
      .getChild("query")
      ?.getChildren("feature")
      .map((f) => f.attrs.var);
    assert.ok(features?.includes("msgoffline"), `features: ${features}`);
    await alice.close();
  });

  it("stores messages for an offline account and delivers them in order, stamped, once, on available presence", async () => {
    const alice = await connectClient(ts, "alice@localhost", "pw", { resource: "desk" });
    alice.send(message("bob@localhost", "first", "chat", "o1"));
    alice.send(message("bob@localhost", "second", "normal", "o2"));
    // Not worth keeping: a bare chat state, a headline, a <no-store/> hint (XEP-0334).
    alice.send(xml("message", { to: "bob@localhost", type: "chat" }, xml("composing", { xmlns: CHATSTATES })));
    alice.send(message("bob@localhost", "news", "headline"));
    alice.send(
      xml(
        "message",
        { to: "bob@localhost", type: "chat" },
        xml("body", null, "ephemeral"),
        xml("no-store", { xmlns: HINTS }),
      ),
    );
    alice.send(message("bob@localhost/laptop", "third", "chat", "o3"));
    await alice.nothing(300, (el) => el.name === "message");
    assert.equal(await ts.server.core.storage.offline.count("localhost", "bob"), 3);

    // Bound but not available, then available with a negative priority: nothing yet (XEP-0160 §4).
    const bob = await connectClient(ts, "bob@localhost", "pw", { resource: "phone" });
    await bob.nothing(200, (el) => el.name === "message");
    bob.send(xml("presence", null, xml("priority", null, "-1")));
    await bob.expect(presence("", bob.jid));
    await bob.nothing(200, (el) => el.name === "message");

    bob.send(xml("presence", null, xml("priority", null, "0")));
    const got = [
      await bob.expectStanza("message"),
      await bob.expectStanza("message"),
      await bob.expectStanza("message"),
    ];
    assert.deepEqual(
      got.map((m) => m.getChildText("body")),
      ["first", "second", "third"],
    );
    const before = Date.now();
    for (const m of got) {
      assert.equal(m.attrs.from, "alice@localhost/desk");
      const delay = m.getChild("delay", NS.delay);
      assert.equal(delay?.attrs.from, "localhost");
      const stamp = Date.parse(delay?.attrs.stamp ?? "");
      assert.ok(stamp <= before && stamp > before - 30_000, `stamp ${delay?.attrs.stamp}`);
    }
    assert.equal(got[0]?.attrs.id, "o1");
    await bob.nothing(200, (el) => el.name === "message");
    assert.equal(await ts.server.core.storage.offline.count("localhost", "bob"), 0, "removed once delivered");

    // Only once: another login gets nothing.
    await bob.close();
    const again = await connectClient(ts, "bob@localhost", "pw", { presence: true });
    await again.nothing(300, (el) => el.name === "message");
    await Promise.all([alice.close(), again.close()]);
  });

  it("stores a chat state when a <store/> hint asks for it (XEP-0334)", async () => {
    const alice = await connectClient(ts, "alice@localhost", "pw");
    alice.send(
      xml(
        "message",
        { to: "dave@localhost", type: "chat" },
        xml("gone", { xmlns: CHATSTATES }),
        xml("store", { xmlns: HINTS }),
      ),
    );
    await alice.nothing(200);
    assert.equal(await ts.server.core.storage.offline.count("localhost", "dave"), 1);
    const dave = await connectClient(ts, "dave@localhost", "pw", { presence: true });
    const m = await dave.expectStanza("message");
    assert.ok(m.getChild("gone", CHATSTATES));
    await Promise.all([alice.close(), dave.close()]);
  });

  it("bounces messages beyond the per-user limit with resource-constraint", async () => {
    const alice = await connectClient(ts, "alice@localhost", "pw");
    for (let i = 1; i <= 3; i++) alice.send(message("carol@localhost", `m${i}`));
    alice.send(message("carol@localhost", "m4", "chat", "over"));
    const err = await alice.expect((el) => el.name === "message" && el.attrs.id === "over");
    assert.equal(err.attrs.type, "error");
    assert.equal(err.getChild("error")?.attrs.type, "wait");
    assert.equal(errorCondition(err), "resource-constraint");
    assert.equal(await ts.server.core.storage.offline.count("localhost", "carol"), 3);

    const carol = await connectClient(ts, "carol@localhost", "pw", { presence: true });
    for (const body of ["m1", "m2", "m3"]) await carol.expect(withBody(body));
    await Promise.all([alice.close(), carol.close()]);
  });
});

describe("persistence across a restart", () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({ users: ["alice", "bob"].map((u) => [`${u}@localhost`, "pw"]) });
  });
  after(() => ts.stop());

  it("keeps rosters and offline messages", async () => {
    const alice = await connectClient(ts, "alice@localhost", "pw", { roster: true, presence: true });
    let bob = await connectClient(ts, "bob@localhost", "pw", { roster: true, presence: true });
    await befriend(alice, bob);
    await bob.close();
    await alice.expect(presence("unavailable", bob.jid));
    alice.send(message("bob@localhost", "while you were away"));
    await alice.nothing(200, (el) => el.name === "message");
    await alice.close();

    ts = await ts.restart();

    bob = await connectClient(ts, "bob@localhost", "pw", { roster: true, presence: true });
    const m = await bob.expect(withBody("while you were away"));
    assert.ok(m.getChild("delay", NS.delay));
    const roster = items(await rosterGet(bob));
    assert.deepEqual(
      roster.map((i) => [i.attrs.jid, i.attrs.subscription]),
      [["alice@localhost", "both"]],
    );
    // The subscription still works: Alice's login reaches Bob.
    const alice2 = await connectClient(ts, "alice@localhost", "pw", { presence: true });
    await bob.expect(presence("", alice2.jid));
    await Promise.all([bob.close(), alice2.close()]);
  });
});
