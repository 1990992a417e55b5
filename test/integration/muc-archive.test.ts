/**
 * Rooms' archives (XEP-0313 on the room JID, XEP-0359 stanza-ids by the room), retraction by the author
 * (XEP-0424) and by moderators (XEP-0425), and room discovery (XEP-0045 §6.3-§6.5, XEP-0128, XEP-0059).
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { type XmlElement, xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import { connectClient, type TestClient } from "../helpers/client.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { bodies, forwardedMessage, MAM2, mamQuery, resultIds, rsmOf } from "./mam-fixtures.ts";
import {
  createRoom,
  errorCondition,
  groupchat,
  isSubject,
  join,
  receiveUntil,
  roomJid,
  SERVICE,
  say,
  sendJoin,
} from "./muc-fixtures.ts";

const USERS = ["alice", "bob", "carol", "mallory"];
const RETRACT = "urn:xmpp:message-retract:1";
const MODERATE = "urn:xmpp:message-moderate:1";

function stanzaId(el: XmlElement): string {
  return el.getChild("stanza-id", "urn:xmpp:sid:0")?.attrs.id ?? "";
}

describe("MUC: room archives, retraction, moderation, discovery", () => {
  let ts: TestServer;
  const open: TestClient[] = [];
  const login = async (user: string) => {
    const c = await connectClient(ts, `${user}@localhost`, "pw", { presence: true });
    open.push(c);
    return c;
  };
  before(async () => {
    ts = await startTestServer({ users: USERS.map((u) => [`${u}@localhost`, "pw"]) });
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });
  after(() => ts.stop());

  it("archives room messages under the room's stanza-ids and answers MAM queries on the room JID", async () => {
    const [alice, bob] = await Promise.all([login("alice"), login("bob")]);
    await createRoom(alice, "log", "Alice");
    await join(bob, "log", "Bob");
    const live: string[] = [];
    for (const body of ["one", "two", "three"]) {
      say(bob, "log", body);
      live.push(stanzaId(await alice.expect(groupchat(body))));
      await bob.expect(groupchat(body));
    }
    // A chat state alone is not archived.
    bob.send(
      xml(
        "message",
        { to: roomJid("log"), type: "groupchat" },
        xml("active", { xmlns: "http://jabber.org/protocol/chatstates" }),
      ),
    );
    await alice.expect((el) => el.getChild("active") !== undefined);
    const out = await mamQuery(alice, { to: roomJid("log") });
    assert.equal(out.iq.attrs.type, "result", `${out.iq}`);
    assert.deepEqual(bodies(out), ["one", "two", "three"]);
    assert.deepEqual(resultIds(out), live);
    const first = forwardedMessage(out.results[0] as XmlElement);
    assert.equal(first.attrs.from, roomJid("log", "Bob"));
    assert.equal(out.results[0]?.attrs.from, roomJid("log"));
    // Paging works as for user archives.
    const page = await mamQuery(alice, { to: roomJid("log"), max: 2, before: "" });
    assert.deepEqual(bodies(page), ["two", "three"]);
    assert.equal(rsmOf(page).count, "3");
    // The room advertises MAM and stanza-ids.
    const info = await bob.iq(xml("iq", { type: "get", to: roomJid("log") }, xml("query", { xmlns: NS.discoInfo })));
    const features = info
      .getChild("query", NS.discoInfo)
      ?.getChildren("feature")
      .map((f) => f.attrs.var);
    assert.ok(features?.includes(MAM2));
    assert.ok(features?.includes("urn:xmpp:sid:0"));
  });

  it("keeps the archive of members-only rooms to members, and author filters to who may see real JIDs", async () => {
    const [alice, bob, mallory] = await Promise.all([login("alice"), login("bob"), login("mallory")]);
    await createRoom(alice, "private-log", "Alice", { "muc#roomconfig_membersonly": "1" });
    say(alice, "private-log", "secret");
    await alice.expect(groupchat("secret"));
    const denied = await mamQuery(mallory, { to: roomJid("private-log") });
    assert.equal(errorCondition(denied.iq), "forbidden");
    assert.equal(denied.results.length, 0);

    await createRoom(alice, "anon-log", "Alice");
    await join(bob, "anon-log", "Bob");
    say(alice, "anon-log", "who wrote this?");
    await bob.expect(groupchat("who wrote this?"));
    const byAuthor = await mamQuery(bob, { to: roomJid("anon-log"), fields: { with: "alice@localhost" } });
    assert.equal(errorCondition(byAuthor.iq), "not-allowed");
    // An empty first value must not hide the author filter the archive applies (it skips empty values).
    const hidden = await mamQuery(bob, { to: roomJid("anon-log"), fields: { with: ["", "alice@localhost"] } });
    assert.equal(errorCondition(hidden.iq), "not-allowed");
    const asModerator = await mamQuery(alice, { to: roomJid("anon-log"), fields: { with: "alice@localhost" } });
    assert.deepEqual(bodies(asModerator), ["who wrote this?"]);
  });

  it("lets an author retract their message (XEP-0424): relayed, tombstoned in the archive and the history", async () => {
    const [alice, bob, carol] = await Promise.all([login("alice"), login("bob"), login("carol")]);
    await createRoom(alice, "oops", "Alice");
    await join(bob, "oops", "Bob");
    say(bob, "oops", "typo");
    const id = stanzaId(await alice.expect(groupchat("typo")));
    await bob.expect(groupchat("typo"));
    // Someone else's message cannot be retracted.
    alice.send(
      xml(
        "message",
        { to: roomJid("oops"), type: "groupchat" },
        xml("retract", { xmlns: RETRACT, id }),
        xml("body", null, "fallback"),
      ),
    );
    assert.equal(errorCondition(await alice.expect((el) => el.attrs.type === "error")), "forbidden");
    bob.send(
      xml(
        "message",
        { to: roomJid("oops"), type: "groupchat" },
        xml("retract", { xmlns: RETRACT, id }),
        xml("fallback", { xmlns: "urn:xmpp:fallback:0", for: RETRACT }),
        xml("body", null, "This person attempted to retract a previous message"),
      ),
    );
    const relayed = await alice.expect((el) => el.getChild("retract", RETRACT) !== undefined);
    assert.equal(relayed.getChild("retract", RETRACT)?.attrs.id, id);
    assert.equal(relayed.attrs.from, roomJid("oops", "Bob"));
    const out = await mamQuery(alice, { to: roomJid("oops") });
    const tomb = out.results
      .map((m) => forwardedMessage(m))
      .find((m) => stanzaId(m) === id || m.getChild("retracted", RETRACT));
    assert.ok(tomb?.getChild("retracted", RETRACT), "the archive has a tombstone");
    assert.equal(tomb?.getChild("body"), undefined);
    // A newcomer's history shows the tombstone, not the text.
    sendJoin(carol, "oops", "Carol");
    const seq = await receiveUntil(carol, isSubject("oops"));
    assert.ok(!seq.some((el) => el.getChildText("body") === "typo"));
    assert.ok(seq.some((el) => el.getChild("retracted", RETRACT) !== undefined));
  });

  it("lets moderators retract any message (XEP-0425), refuses others, accepts the older apply-to request", async () => {
    const [alice, bob] = await Promise.all([login("alice"), login("bob")]);
    await createRoom(alice, "modded", "Alice");
    await join(bob, "modded", "Bob");
    say(bob, "modded", "spam!");
    const id = stanzaId(await alice.expect(groupchat("spam!")));
    await bob.expect(groupchat("spam!"));
    const moderate = (c: TestClient, target: string) =>
      c.iq(
        xml(
          "iq",
          { type: "set", to: roomJid("modded") },
          xml(
            "moderate",
            { xmlns: MODERATE, id: target },
            xml("retract", { xmlns: RETRACT }),
            xml("reason", null, "No spam"),
          ),
        ),
      );
    assert.equal(errorCondition(await moderate(bob, id)), "forbidden");
    assert.equal(errorCondition(await moderate(alice, "no-such-id")), "item-not-found");
    assert.equal((await moderate(alice, id)).attrs.type, "result");
    const notice = await bob.expect((el) => el.getChild("retract", RETRACT) !== undefined);
    assert.equal(notice.attrs.from, roomJid("modded"));
    const retract = notice.getChild("retract", RETRACT);
    assert.equal(retract?.attrs.id, id);
    assert.equal(retract?.getChild("moderated", MODERATE)?.attrs.by, roomJid("modded", "Alice"));
    assert.equal(retract?.getChildText("reason"), "No spam");
    assert.ok(notice.getChild("apply-to", "urn:xmpp:fasten:0"), "older clients get the v0.2 form too");
    const out = await mamQuery(alice, { to: roomJid("modded") });
    const tomb = out.results.map((m) => forwardedMessage(m)).find((m) => m.getChild("retracted", RETRACT));
    assert.equal(
      tomb?.getChild("retracted", RETRACT)?.getChild("moderated", MODERATE)?.attrs.by,
      roomJid("modded", "Alice"),
    );
    assert.ok(!bodies(out).includes("spam!"));

    // XEP-0425 v0.2 request.
    say(bob, "modded", "more spam");
    const id2 = stanzaId(await alice.expect(groupchat("more spam")));
    const legacy = await alice.iq(
      xml(
        "iq",
        { type: "set", to: roomJid("modded") },
        xml(
          "apply-to",
          { xmlns: "urn:xmpp:fasten:0", id: id2 },
          xml(
            "moderate",
            { xmlns: "urn:xmpp:message-moderate:0" },
            xml("retract", { xmlns: "urn:xmpp:message-retract:0" }),
          ),
        ),
      ),
    );
    assert.equal(legacy.attrs.type, "result");
    await bob.expect((el) => el.getChild("retract", RETRACT)?.attrs.id === id2);
  });

  it("lists public rooms with names, paged with RSM (§6.3, XEP-0059)", async () => {
    const alice = await login("alice");
    for (const name of ["dir-a", "dir-b", "dir-c"]) {
      await createRoom(alice, name, "Alice", { "muc#roomconfig_roomname": `Room ${name}` });
    }
    await createRoom(alice, "dir-hidden", "Alice", { "muc#roomconfig_publicroom": "0" });
    await join(alice, "dir-locked", "Alice"); // Locked (never configured): not listed.
    const items = async (set?: XmlElement) => {
      const r = await alice.iq(xml("iq", { type: "get", to: SERVICE }, xml("query", { xmlns: NS.discoItems }, set)));
      const q = r.getChild("query", NS.discoItems);
      return { jids: (q?.getChildren("item") ?? []).filter((i) => i.attrs.jid?.startsWith("dir-")), q };
    };
    const all = await items();
    assert.deepEqual(
      all.jids.map((i) => [i.attrs.jid, i.attrs.name]),
      [
        [roomJid("dir-a"), "Room dir-a"],
        [roomJid("dir-b"), "Room dir-b"],
        [roomJid("dir-c"), "Room dir-c"],
      ],
    );
    const rsm = "http://jabber.org/protocol/rsm";
    const first = await items(xml("set", { xmlns: rsm }, xml("max", null, "1"), xml("after", null, roomJid("dir-"))));
    assert.deepEqual(
      first.jids.map((i) => i.attrs.jid),
      [roomJid("dir-a")],
    );
    assert.equal(first.q?.getChild("set", rsm)?.getChildText("last"), roomJid("dir-a"));
    const next = await items(xml("set", { xmlns: rsm }, xml("max", null, "2"), xml("after", null, roomJid("dir-a"))));
    assert.deepEqual(
      next.jids.map((i) => i.attrs.jid),
      [roomJid("dir-b"), roomJid("dir-c")],
    );
    assert.ok(Number(next.q?.getChild("set", rsm)?.getChildText("count")) >= 3);
  });

  it("describes a room: identity, muc features and the muc#roominfo form (§6.4, XEP-0128)", async () => {
    const [alice, bob] = await Promise.all([login("alice"), login("bob")]);
    await createRoom(alice, "described", "Alice", {
      "muc#roomconfig_roomname": "Described",
      "muc#roomconfig_roomdesc": "A room about rooms",
      "muc#roomconfig_membersonly": "0",
      "muc#roomconfig_passwordprotectedroom": "1",
      "muc#roomconfig_roomsecret": "pw",
    });
    alice.send(xml("message", { to: roomJid("described"), type: "groupchat" }, xml("subject", null, "Today")));
    await alice.expect(isSubject("described"));
    const r = await bob.iq(xml("iq", { type: "get", to: roomJid("described") }, xml("query", { xmlns: NS.discoInfo })));
    const q = r.getChild("query", NS.discoInfo);
    assert.deepEqual(q?.getChild("identity")?.attrs, { category: "conference", type: "text", name: "Described" });
    const features = q?.getChildren("feature").map((f) => f.attrs.var) ?? [];
    for (const f of [
      "http://jabber.org/protocol/muc",
      "muc_passwordprotected",
      "muc_open",
      "muc_semianonymous",
      "muc_temporary",
      "muc_public",
      "muc_unmoderated",
      "urn:xmpp:occupant-id:0",
      "http://jabber.org/protocol/muc#self-ping-optimization",
      "http://jabber.org/protocol/muc#stable_id",
      MODERATE,
    ]) {
      assert.ok(features.includes(f), `feature ${f}`);
    }
    const fields = new Map(
      (q?.getChild("x", NS.dataForms)?.getChildren("field") ?? []).map((f) => [f.attrs.var, f.getChildText("value")]),
    );
    assert.equal(fields.get("FORM_TYPE"), "http://jabber.org/protocol/muc#roominfo");
    assert.equal(fields.get("muc#roominfo_description"), "A room about rooms");
    assert.equal(fields.get("muc#roominfo_subject"), "Today");
    assert.equal(fields.get("muc#roominfo_occupants"), "1");
    // A room that does not exist.
    const none = await bob.iq(
      xml("iq", { type: "get", to: roomJid("no-such-room") }, xml("query", { xmlns: NS.discoInfo })),
    );
    assert.equal(errorCondition(none), "item-not-found");
  });
});
