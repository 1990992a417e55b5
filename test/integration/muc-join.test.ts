/**
 * XEP-0045 §7.2 (entering), §7.6-§7.7 (nick and status changes), §7.14 (exiting), §10.1 (creating rooms),
 * multi-session nicks, creation policy and limits.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { xml } from "../../src/xml/element.ts";
import { connectClient, type TestClient } from "../helpers/client.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import {
  codes,
  configure,
  createRoom,
  errorCondition,
  groupchat,
  isSubject,
  item,
  join,
  joinError,
  leave,
  MUC,
  presenceFrom,
  receiveUntil,
  roomJid,
  say,
  sendJoin,
} from "./muc-fixtures.ts";

const USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "gina", "admin"];

describe("MUC: entering, nicknames, leaving (XEP-0045 §7, §10.1)", () => {
  let ts: TestServer;
  const open: TestClient[] = [];
  const login = async (user: string, resource?: string) => {
    const c = await connectClient(ts, `${user}@localhost`, "pw", { resource, presence: true });
    open.push(c);
    return c;
  };
  before(async () => {
    ts = await startTestServer({
      users: USERS.map((u) => [`${u}@localhost`, "pw"]),
      config: { muc: { message_burst: 5, message_rate: 1 } },
    });
  });
  // Each test logs its users in again: close them after it, so accounts never run out of resources.
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });
  after(async () => {
    await ts.stop();
  });

  it("the host lists the chat service, which answers disco#info as a conference service (§6.1, §6.2)", async () => {
    const alice = await login("alice");
    const items = await alice.iq(
      xml("iq", { type: "get", to: "localhost" }, xml("query", { xmlns: "http://jabber.org/protocol/disco#items" })),
    );
    assert.ok(
      items
        .getChild("query")
        ?.getChildren("item")
        .some((i) => i.attrs.jid === "conference.localhost"),
    );
    const info = await alice.iq(
      xml(
        "iq",
        { type: "get", to: "conference.localhost" },
        xml("query", { xmlns: "http://jabber.org/protocol/disco#info" }),
      ),
    );
    const q = info.getChild("query");
    assert.equal(q?.getChild("identity")?.attrs.category, "conference");
    assert.equal(q?.getChild("identity")?.attrs.type, "text");
    const features = q?.getChildren("feature").map((f) => f.attrs.var);
    assert.ok(features?.includes(MUC));
    assert.ok(features?.includes("http://jabber.org/protocol/muc#unique"));
  });

  it("creates a room locked until configured (201), refuses others meanwhile, and unlocks on an instant-room form (§10.1.1, §10.1.2, §7.2.11)", async () => {
    const [alice, bob] = await Promise.all([login("alice"), login("bob")]);
    const self = await join(alice, "locked", "Alice");
    assert.deepEqual(codes(self).sort(), ["110", "170", "201"]);
    assert.equal(item(self)?.attrs.affiliation, "owner");
    assert.equal(item(self)?.attrs.role, "moderator");
    assert.equal(item(self)?.attrs.jid, alice.jid);
    // §7.2.11: nobody else can enter a locked room.
    assert.equal(await joinError(bob, "locked", "Bob"), "item-not-found");
    const r = await configure(alice, "locked");
    assert.equal(r.attrs.type, "result");
    await join(bob, "locked", "Bob");
  });

  it("gives a client without the MUC extension an instant room at once (§10.1.1, groupchat 1.0)", async () => {
    const [alice, bob] = await Promise.all([login("alice"), login("bob")]);
    sendJoin(alice, "gc10", "Alice", { bare: true });
    const self = await alice.expect((el) => presenceFrom(roomJid("gc10", "Alice"))(el) && codes(el).includes("110"));
    assert.ok(codes(self).includes("201"));
    await join(bob, "gc10", "Bob");
  });

  it("sends the occupants, then the new occupant's own presence (110), then history, then the subject (§7.2.3, §7.2.14, §7.2.16)", async () => {
    const [alice, bob, carol] = await Promise.all([login("alice"), login("bob"), login("carol")]);
    await createRoom(alice, "order", "Alice");
    await join(bob, "order", "Bob");
    await alice.expect(presenceFrom(roomJid("order", "Bob")));
    say(alice, "order", "before carol");
    await bob.expect(groupchat("before carol"));
    await alice.expect(groupchat("before carol"));

    sendJoin(carol, "order", "Carol");
    const seq = (await receiveUntil(carol, isSubject("order"))).filter((el) =>
      (el.attrs.from ?? "").startsWith(roomJid("order")),
    );
    const kinds = seq.map((el) => {
      if (el.name === "presence")
        return `presence:${el.attrs.from?.split("/")[1]}${codes(el).includes("110") ? ":self" : ""}`;
      if (el.getChild("subject")) return "subject";
      return `message:${el.getChildText("body")}`;
    });
    assert.deepEqual(kinds.slice(0, 2).sort(), ["presence:Alice", "presence:Bob"]);
    assert.deepEqual(kinds.slice(2), ["presence:Carol:self", "message:before carol", "subject"]);
    // History carries XEP-0203 delay from the room and the original stanza-id.
    const history = seq.find((el) => el.getChildText("body") === "before carol");
    assert.equal(history?.getChild("delay", "urn:xmpp:delay")?.attrs.from, roomJid("order"));
    assert.ok(history?.getChild("stanza-id", "urn:xmpp:sid:0"));
    // Semi-anonymous room: Carol (a participant) does not see real JIDs; Alice (moderator) does.
    const alicePresence = seq.find((el) => el.attrs.from === roomJid("order", "Alice"));
    assert.equal(item(alicePresence!)?.attrs.jid, undefined);
    assert.equal(item(alicePresence!)?.attrs.affiliation, "owner");
    const seenByAlice = await alice.expect(presenceFrom(roomJid("order", "Carol")));
    assert.equal(item(seenByAlice)?.attrs.jid, carol.jid);
    const seenByBob = await bob.expect(presenceFrom(roomJid("order", "Carol")));
    assert.equal(item(seenByBob)?.attrs.jid, undefined);
    // Both see the same occupant id (XEP-0421), and it is Carol's in her own presence too.
    const own = seq.find((el) => codes(el).includes("110"));
    const id = own?.getChild("occupant-id", "urn:xmpp:occupant-id:0")?.attrs.id;
    assert.ok(id);
    assert.equal(seenByBob.getChild("occupant-id", "urn:xmpp:occupant-id:0")?.attrs.id, id);
  });

  it("warns about a non-anonymous room with status 100 and shows real JIDs to everyone (§7.2.4)", async () => {
    const [alice, bob] = await Promise.all([login("alice"), login("bob")]);
    await createRoom(alice, "open-book", "Alice", { "muc#roomconfig_whois": "anyone" });
    const self = await join(bob, "open-book", "Bob");
    assert.ok(codes(self).includes("100"));
    const p = await bob.expect((el) => presenceFrom(roomJid("open-book", "Alice"))(el));
    // Bob already consumed Alice's presence in join(); it was sent before his own. Check it carried her JID.
    assert.equal(item(p)?.attrs.jid, alice.jid);
  });

  it("history requests: maxstanzas, maxchars, seconds and since (§7.2.15)", async () => {
    const [alice, bob] = await Promise.all([login("alice"), login("bob")]);
    await createRoom(alice, "hist", "Alice");
    for (const n of [1, 2, 3]) {
      say(alice, "hist", `m${n}`);
      await alice.expect(groupchat(`m${n}`));
    }
    const bodies = async (history: Record<string, string>) => {
      sendJoin(bob, "hist", "Bob", { history });
      const seq = await receiveUntil(bob, isSubject("hist"));
      bob.send(xml("presence", { to: roomJid("hist", "Bob"), type: "unavailable" }));
      await bob.expect((el) => presenceFrom(roomJid("hist", "Bob"), "unavailable")(el));
      return seq.filter((el) => el.name === "message" && el.getChild("body")).map((el) => el.getChildText("body"));
    };
    assert.deepEqual(await bodies({}), ["m1", "m2", "m3"]);
    assert.deepEqual(await bodies({ maxstanzas: "2" }), ["m2", "m3"]);
    assert.deepEqual(await bodies({ maxstanzas: "0" }), []);
    assert.deepEqual(await bodies({ maxchars: "0" }), []);
    assert.deepEqual(await bodies({ maxchars: "1" }), []);
    assert.deepEqual(await bodies({ maxchars: "100000" }), ["m1", "m2", "m3"]);
    assert.deepEqual(await bodies({ seconds: "3600" }), ["m1", "m2", "m3"]);
    assert.deepEqual(await bodies({ since: new Date(Date.now() + 60_000).toISOString() }), []);
    assert.deepEqual(await bodies({ since: "1970-01-01T00:00:00Z", maxstanzas: "1" }), ["m3"]);
  });

  it("refuses a taken nick (conflict), an empty or invalid nick (jid-malformed), and entering without a nick (§7.2.9, §7.2)", async () => {
    const [alice, bob] = await Promise.all([login("alice"), login("bob")]);
    await createRoom(alice, "nicks", "Alice");
    assert.equal(await joinError(bob, "nicks", "Alice"), "conflict");
    assert.equal(await joinError(bob, "nicks", "   "), "jid-malformed");
    // No nick at all: presence to the bare room JID.
    bob.send(xml("presence", { to: roomJid("nicks") }, xml("x", { xmlns: MUC })));
    const noNick = await bob.expect(presenceFrom(roomJid("nicks"), "error"));
    assert.equal(errorCondition(noNick), "jid-malformed");
    // A nick that is no valid resourcepart (RFC 7622 / PRECIS): refused before it reaches the room.
    bob.send(`<presence to='nicks@conference.localhost/bad&#x2028;nick' id='bad1'><x xmlns='${MUC}'/></presence>`);
    const invalid = await bob.expect((el) => el.name === "presence" && el.attrs.id === "bad1");
    assert.equal(invalid.attrs.type, "error");
    assert.equal(errorCondition(invalid), "jid-malformed");
    // Nicks are case-sensitive resourceparts: "alice" is another nick.
    await join(bob, "nicks", "alice");
  });

  it("lets one user join under one nick from several devices (§7.2.9)", async () => {
    const alice = await login("alice");
    const bob1 = await login("bob", "phone");
    const bob2 = await login("bob", "laptop");
    await createRoom(alice, "multi", "Alice");
    await join(bob1, "multi", "Bob");
    await alice.expect(presenceFrom(roomJid("multi", "Bob")));
    await join(bob2, "multi", "Bob");
    // The first device sees its own occupant updated (self-presence), Alice an update, not a second Bob.
    await bob1.expect((el) => presenceFrom(roomJid("multi", "Bob"))(el) && codes(el).includes("110"));
    await alice.expect(presenceFrom(roomJid("multi", "Bob")));
    say(alice, "multi", "to both devices");
    await bob1.expect(groupchat("to both devices"));
    await bob2.expect(groupchat("to both devices"));
    // A private message reaches both devices too.
    alice.send(xml("message", { to: roomJid("multi", "Bob"), type: "chat" }, xml("body", null, "pm both")));
    await bob1.expect((el) => el.getChildText("body") === "pm both");
    await bob2.expect((el) => el.getChildText("body") === "pm both");
    // One device leaves: only it gets unavailable, the room still has Bob.
    await leave(bob2, "multi", "Bob");
    await alice.nothing(200, presenceFrom(roomJid("multi", "Bob"), "unavailable"));
    say(alice, "multi", "still here?");
    await bob1.expect(groupchat("still here?"));
    // The other device may not change the shared nick away while both are in; alone it may.
    await leave(bob1, "multi", "Bob");
    await alice.expect(presenceFrom(roomJid("multi", "Bob"), "unavailable"));
  });

  it("changes nickname with 303 and refuses a taken one (§7.6)", async () => {
    const [alice, bob] = await Promise.all([login("alice"), login("bob")]);
    await createRoom(alice, "rename", "Alice");
    await join(bob, "rename", "Bob");
    await alice.expect(presenceFrom(roomJid("rename", "Bob")));
    bob.send(xml("presence", { to: roomJid("rename", "Alice") }));
    const taken = await bob.expect(presenceFrom(roomJid("rename", "Alice"), "error"));
    assert.equal(errorCondition(taken), "conflict");

    bob.send(xml("presence", { to: roomJid("rename", "Robert") }));
    const gone = await alice.expect(presenceFrom(roomJid("rename", "Bob"), "unavailable"));
    assert.ok(codes(gone).includes("303"));
    assert.equal(item(gone)?.attrs.nick, "Robert");
    await alice.expect(presenceFrom(roomJid("rename", "Robert")));
    const selfGone = await bob.expect(presenceFrom(roomJid("rename", "Bob"), "unavailable"));
    assert.deepEqual(codes(selfGone).sort(), ["110", "303"]);
    const selfNew = await bob.expect(presenceFrom(roomJid("rename", "Robert")));
    assert.ok(codes(selfNew).includes("110"));
    say(bob, "rename", "new name");
    await alice.expect(groupchat("new name", roomJid("rename", "Robert")));
  });

  it("broadcasts status changes and departures, also when a client just disconnects (§7.7, §7.14)", async () => {
    const [alice, bob] = await Promise.all([login("alice"), login("bob")]);
    await createRoom(alice, "status", "Alice");
    await join(bob, "status", "Bob");
    await alice.expect(presenceFrom(roomJid("status", "Bob")));
    bob.send(
      xml("presence", { to: roomJid("status", "Bob") }, xml("show", null, "away"), xml("status", null, "lunch")),
    );
    const away = await alice.expect(presenceFrom(roomJid("status", "Bob")));
    assert.equal(away.getChildText("show"), "away");
    assert.equal(away.getChildText("status"), "lunch");
    await bob.expect((el) => presenceFrom(roomJid("status", "Bob"))(el) && codes(el).includes("110"));

    const self = await leave(bob, "status", "Bob");
    assert.equal(item(self)?.attrs.role, "none");
    await alice.expect(presenceFrom(roomJid("status", "Bob"), "unavailable"));

    const carol = await login("carol");
    await join(carol, "status", "Carol");
    await alice.expect(presenceFrom(roomJid("status", "Carol")));
    carol.conn.destroy(); // No unavailable presence: the server sends it for her (RFC 6121 §4.6.3).
    const left = await alice.expect(presenceFrom(roomJid("status", "Carol"), "unavailable"));
    assert.equal(item(left)?.attrs.role, "none");
  });

  it("a temporary room disappears with its last occupant, a persistent one stays (§10.1.1)", async () => {
    const [alice, bob] = await Promise.all([login("alice"), login("bob")]);
    await createRoom(alice, "tmp", "Alice");
    await leave(alice, "tmp", "Alice");
    // Gone: entering creates it anew (Bob becomes its owner).
    const self = await join(bob, "tmp", "Bob");
    assert.ok(codes(self).includes("201"));
    await createRoom(alice, "keep", "Alice", { "muc#roomconfig_persistentroom": "1" });
    await leave(alice, "keep", "Alice");
    const again = await join(bob, "keep", "Bob");
    assert.ok(!codes(again).includes("201"));
    assert.equal(item(again)?.attrs.affiliation, "none");
  });

  it("asks for the password of a protected room (§7.2.6), keeps members-only rooms to members (§7.2.7)", async () => {
    const [alice, bob] = await Promise.all([login("alice"), login("bob")]);
    await createRoom(alice, "secret", "Alice", {
      "muc#roomconfig_passwordprotectedroom": "1",
      "muc#roomconfig_roomsecret": "s3cret",
    });
    assert.equal(await joinError(bob, "secret", "Bob"), "not-authorized");
    assert.equal(await joinError(bob, "secret", "Bob", { password: "wrong" }), "not-authorized");
    await join(bob, "secret", "Bob", { password: "s3cret" });

    await createRoom(alice, "club", "Alice", { "muc#roomconfig_membersonly": "1" });
    const carol = await login("carol");
    assert.equal(await joinError(carol, "club", "Carol"), "registration-required");
  });

  it("refuses entry beyond the room's maximum, except to owners and admins (§7.2.10)", async () => {
    const [alice, bob, carol] = await Promise.all([login("alice"), login("bob"), login("carol")]);
    await createRoom(alice, "tiny", "Alice", { "muc#roomconfig_maxusers": "2" });
    await join(bob, "tiny", "Bob");
    assert.equal(await joinError(carol, "tiny", "Carol"), "service-unavailable");
    // An owner of a full room still gets in (here: a second owner session under another nick).
    const alice2 = await login("alice", "second");
    await join(alice2, "tiny", "Alice2");
  });

  it("limits how fast one occupant may send (policy-violation, type wait)", async () => {
    const [alice] = await Promise.all([login("alice")]);
    await createRoom(alice, "flood", "Alice");
    for (let i = 0; i < 8; i++) say(alice, "flood", `spam ${i}`);
    const refused = await alice.expect((el) => el.name === "message" && el.attrs.type === "error");
    assert.equal(errorCondition(refused), "policy-violation");
    assert.equal(refused.getChild("error")?.attrs.type, "wait");
  });
});

describe("MUC: who may create rooms (muc.room_creation)", () => {
  it("local (default) lets local users create, admins lets only admins", async () => {
    const ts = await startTestServer({
      users: [
        ["alice@localhost", "pw"],
        ["admin@localhost", "pw"],
      ],
      config: { admins: ["admin@localhost"], muc: { room_creation: "admins" } },
    });
    try {
      const alice = await connectClient(ts, "alice@localhost", "pw", { presence: true });
      const admin = await connectClient(ts, "admin@localhost", "pw", { presence: true });
      assert.equal(await joinError(alice, "mine", "Alice"), "not-allowed");
      await createRoom(admin, "mine", "Admin");
      await join(alice, "mine", "Alice");
      await Promise.all([alice.close(), admin.close()]);
    } finally {
      await ts.stop();
    }
  });
});
