/**
 * XEP-0045 §7.4 (groupchat), §7.5 (private messages), §7.8 (invitations, and XEP-0249 direct ones), §7.13 and
 * §8.6 (voice requests), §8.1 (subject), §6.6 / iq to occupants, XEP-0410 self-ping, XEP-0421 occupant ids,
 * removal on delivery errors (333).
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { type XmlElement, xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import { connectClient, type TestClient } from "../helpers/client.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import {
  admin,
  codes,
  configure,
  createRoom,
  errorCondition,
  groupchat,
  isSubject,
  item,
  join,
  joinError,
  MUC_USER,
  presenceFrom,
  roomJid,
  say,
  sendJoin,
} from "./muc-fixtures.ts";

const USERS = ["alice", "bob", "carol", "dave", "mallory"];
const OCCUPANT_ID = "urn:xmpp:occupant-id:0";

function occupantId(el: XmlElement): string | undefined {
  return el.getChild("occupant-id", OCCUPANT_ID)?.attrs.id;
}

describe("MUC: messages, private messages, invitations, voice (XEP-0045 §7.4-§7.13, §8.1)", () => {
  let ts: TestServer;
  const open: TestClient[] = [];
  const login = async (user: string, resource?: string) => {
    const c = await connectClient(ts, `${user}@localhost`, "pw", { resource, presence: true });
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

  it("reflects groupchat to every occupant with the sender's id, a room stanza-id and occupant-id (§7.4, XEP-0359, XEP-0421)", async () => {
    const [alice, bob, carol] = await Promise.all([login("alice"), login("bob"), login("carol")]);
    await createRoom(alice, "talk", "Alice");
    await join(bob, "talk", "Bob");
    await join(carol, "talk", "Carol");
    // A forged stanza-id in the room's name and a forged occupant id are removed.
    say(
      bob,
      "talk",
      "hi all",
      [
        xml("stanza-id", { xmlns: "urn:xmpp:sid:0", id: "forged", by: roomJid("talk") }),
        xml("occupant-id", { xmlns: OCCUPANT_ID, id: "forged" }),
      ],
      "msg-1",
    );
    const atAlice = await alice.expect(groupchat("hi all"));
    const atCarol = await carol.expect(groupchat("hi all"));
    const echo = await bob.expect(groupchat("hi all"));
    for (const m of [atAlice, atCarol, echo]) {
      assert.equal(m.attrs.from, roomJid("talk", "Bob"));
      assert.equal(m.attrs.id, "msg-1", "muc#stable_id: the sender's id is kept");
      const ids = m.getChildren("stanza-id", "urn:xmpp:sid:0");
      assert.equal(ids.length, 1);
      assert.equal(ids[0]?.attrs.by, roomJid("talk"));
      assert.notEqual(ids[0]?.attrs.id, "forged");
      assert.equal(m.getChildren("occupant-id", OCCUPANT_ID).length, 1);
    }
    assert.equal(
      atAlice.getChild("stanza-id", "urn:xmpp:sid:0")?.attrs.id,
      echo.getChild("stanza-id", "urn:xmpp:sid:0")?.attrs.id,
    );
    assert.notEqual(occupantId(atAlice), "forged");
    assert.equal(occupantId(atAlice), occupantId(atCarol));
    // The occupant id is stable for the same user across rejoin and nick changes (XEP-0421 §3).
    bob.send(xml("presence", { to: roomJid("talk", "Bobby") }));
    const renamed = await alice.expect(presenceFrom(roomJid("talk", "Bobby")));
    assert.equal(occupantId(renamed), occupantId(atAlice));
  });

  it("refuses groupchat from non-occupants (not-acceptable) and from visitors of a moderated room (forbidden)", async () => {
    const [alice, bob, mallory] = await Promise.all([login("alice"), login("bob"), login("mallory")]);
    await createRoom(alice, "quiet", "Alice", { "muc#roomconfig_moderatedroom": "1" });
    say(mallory, "quiet", "let me in");
    const outsider = await mallory.expect((el) => el.name === "message" && el.attrs.type === "error");
    assert.equal(errorCondition(outsider), "not-acceptable");
    const self = await join(bob, "quiet", "Bob");
    assert.equal(item(self)?.attrs.role, "visitor");
    say(bob, "quiet", "can I talk?");
    const muted = await bob.expect((el) => el.name === "message" && el.attrs.type === "error");
    assert.equal(errorCondition(muted), "forbidden");
    await alice.nothing(200, groupchat("can I talk?"));
    // A message to a room that does not exist.
    mallory.send(xml("message", { to: roomJid("nowhere"), type: "groupchat" }, xml("body", null, "?")));
    const none = await mallory.expect((el) => el.name === "message" && el.attrs.type === "error");
    assert.equal(errorCondition(none), "item-not-found");
  });

  it("lets moderators (and, if allowed, participants) change the subject, sent to newcomers (§8.1, §7.2.16)", async () => {
    const [alice, bob, carol] = await Promise.all([login("alice"), login("bob"), login("carol")]);
    await createRoom(alice, "topic", "Alice");
    await join(bob, "topic", "Bob");
    bob.send(xml("message", { to: roomJid("topic"), type: "groupchat" }, xml("subject", null, "bob's topic")));
    const refused = await bob.expect((el) => el.name === "message" && el.attrs.type === "error");
    assert.equal(errorCondition(refused), "forbidden");
    alice.send(xml("message", { to: roomJid("topic"), type: "groupchat" }, xml("subject", null, "Welcome")));
    const changed = await bob.expect(isSubject("topic"));
    assert.equal(changed.getChildText("subject"), "Welcome");
    assert.equal(changed.attrs.from, roomJid("topic", "Alice"));
    // A newcomer gets it at the end of its join.
    sendJoin(carol, "topic", "Carol");
    const subject = await carol.expect(isSubject("topic"));
    assert.equal(subject.getChildText("subject"), "Welcome");
    await configure(alice, "topic", { "muc#roomconfig_changesubject": "1" });
    bob.send(xml("message", { to: roomJid("topic"), type: "groupchat" }, xml("subject", null, "Bob's now")));
    const byBob = await carol.expect((el) => isSubject("topic")(el) && el.getChildText("subject") === "Bob's now");
    assert.equal(byBob.attrs.from, roomJid("topic", "Bob"));
  });

  it("relays private messages between occupants, with the muc#user marker, under the room's rules (§7.5)", async () => {
    const [alice, bob, mallory] = await Promise.all([login("alice"), login("bob"), login("mallory")]);
    await createRoom(alice, "pm", "Alice");
    await join(bob, "pm", "Bob");
    bob.send(xml("message", { to: roomJid("pm", "Alice"), type: "chat", id: "pm1" }, xml("body", null, "psst")));
    const pm = await alice.expect((el) => el.getChildText("body") === "psst");
    assert.equal(pm.attrs.from, roomJid("pm", "Bob"));
    assert.equal(pm.attrs.type, "chat");
    assert.ok(pm.getChild("x", MUC_USER));
    assert.ok(occupantId(pm));
    // To a nick nobody has.
    bob.send(xml("message", { to: roomJid("pm", "Nobody"), type: "chat" }, xml("body", null, "?")));
    assert.equal(errorCondition(await bob.expect((el) => el.attrs.type === "error")), "item-not-found");
    // groupchat to an occupant JID.
    bob.send(xml("message", { to: roomJid("pm", "Alice"), type: "groupchat" }, xml("body", null, "?")));
    assert.equal(errorCondition(await bob.expect((el) => el.attrs.type === "error")), "bad-request");
    // From outside the room.
    mallory.send(xml("message", { to: roomJid("pm", "Alice"), type: "chat" }, xml("body", null, "spam")));
    assert.equal(errorCondition(await mallory.expect((el) => el.attrs.type === "error")), "not-acceptable");
    await alice.nothing(200, (el) => el.getChildText("body") === "spam");
    // Private messages turned off.
    await configure(alice, "pm", { "muc#roomconfig_allowpm": "none" });
    bob.send(xml("message", { to: roomJid("pm", "Alice"), type: "chat" }, xml("body", null, "again")));
    assert.equal(errorCondition(await bob.expect((el) => el.attrs.type === "error")), "not-allowed");
  });

  it("passes on mediated invitations and declines (§7.8.2, §7.8.3); members-only invitations make members", async () => {
    const [alice, bob, carol] = await Promise.all([login("alice"), login("bob"), login("carol")]);
    await createRoom(alice, "party", "Alice", { "muc#roomconfig_membersonly": "1" });
    alice.send(
      xml(
        "message",
        { to: roomJid("party") },
        xml(
          "x",
          { xmlns: MUC_USER },
          xml("invite", { to: "bob@localhost" }, xml("reason", null, "Come!"), xml("continue", { thread: "t-1" })),
        ),
      ),
    );
    const inv = await bob.expect(
      (el) => el.name === "message" && el.getChild("x", MUC_USER)?.getChild("invite") !== undefined,
    );
    assert.equal(inv.attrs.from, roomJid("party"));
    const invite = inv.getChild("x", MUC_USER)?.getChild("invite");
    assert.equal(invite?.attrs.from, alice.jid);
    assert.equal(invite?.getChildText("reason"), "Come!");
    // §7.9: an invitation that turns a one-to-one chat into a room carries the thread on.
    assert.equal(invite?.getChild("continue")?.attrs.thread, "t-1");
    // Invited to a members-only room: Bob is a member now and can enter.
    await join(bob, "party", "Bob");
    // Nobody invited Carol: a decline from her is not relayed (the room is no relay to arbitrary addresses).
    carol.send(
      xml(
        "message",
        { to: roomJid("party") },
        xml("x", { xmlns: MUC_USER }, xml("decline", { to: "alice@localhost" }, xml("reason", null, "Spam"))),
      ),
    );
    assert.equal(errorCondition(await carol.expect((el) => el.attrs.type === "error")), "item-not-found");
    // Alice invites Carol, Carol declines; Alice hears about it.
    alice.send(
      xml("message", { to: roomJid("party") }, xml("x", { xmlns: MUC_USER }, xml("invite", { to: "carol@localhost" }))),
    );
    await carol.expect((el) => el.name === "message" && el.getChild("x", MUC_USER)?.getChild("invite") !== undefined);
    carol.send(
      xml(
        "message",
        { to: roomJid("party") },
        xml("x", { xmlns: MUC_USER }, xml("decline", { to: "alice@localhost" }, xml("reason", null, "Busy"))),
      ),
    );
    const dec = await alice.expect((el) => el.getChild("x", MUC_USER)?.getChild("decline") !== undefined);
    assert.equal(dec.attrs.from, roomJid("party"));
    assert.equal(dec.getChild("x", MUC_USER)?.getChild("decline")?.attrs.from, "carol@localhost");
    // Occupants who are not moderators may not invite unless the room allows it.
    bob.send(
      xml("message", { to: roomJid("party") }, xml("x", { xmlns: MUC_USER }, xml("invite", { to: "carol@localhost" }))),
    );
    assert.equal(errorCondition(await bob.expect((el) => el.attrs.type === "error")), "forbidden");
  });

  it("delivers XEP-0249 direct invitations, after which the invitee can enter", async () => {
    const [alice, bob] = await Promise.all([login("alice"), login("bob")]);
    await createRoom(alice, "direct", "Alice");
    alice.send(
      xml(
        "message",
        { to: "bob@localhost" },
        xml("x", { xmlns: "jabber:x:conference", jid: roomJid("direct"), reason: "Join us" }),
      ),
    );
    const inv = await bob.expect((el) => el.getChild("x", "jabber:x:conference") !== undefined);
    const room = inv.getChild("x", "jabber:x:conference")?.attrs.jid as string;
    assert.equal(room, roomJid("direct"));
    await join(bob, "direct", "Bob");
  });

  it("forwards a visitor's voice request to moderators and grants voice on approval (§7.13, §8.6)", async () => {
    const [alice, bob] = await Promise.all([login("alice"), login("bob")]);
    await createRoom(alice, "stage", "Alice", { "muc#roomconfig_moderatedroom": "1" });
    await join(bob, "stage", "Bob");
    const form = (fields: Record<string, string>, type = "submit") =>
      xml(
        "x",
        { xmlns: NS.dataForms, type },
        xml("field", { var: "FORM_TYPE" }, xml("value", null, "http://jabber.org/protocol/muc#request")),
        ...Object.entries(fields).map(([k, v]) => xml("field", { var: k }, xml("value", null, v))),
      );
    bob.send(xml("message", { to: roomJid("stage") }, form({ "muc#role": "participant" })));
    const request = await alice.expect((el) => el.name === "message" && el.getChild("x", NS.dataForms) !== undefined);
    assert.equal(request.attrs.from, roomJid("stage"));
    const fields = new Map(
      request
        .getChild("x", NS.dataForms)
        ?.getChildren("field")
        .map((f) => [f.attrs.var, f.getChildText("value")]),
    );
    assert.equal(fields.get("muc#roomnick"), "Bob");
    assert.equal(fields.get("muc#jid"), bob.jid);
    assert.equal(fields.get("muc#request_allow"), "false");
    // Only moderators approve.
    bob.send(
      xml(
        "message",
        { to: roomJid("stage") },
        form({ "muc#role": "participant", "muc#roomnick": "Bob", "muc#request_allow": "true" }),
      ),
    );
    assert.equal(
      errorCondition(await bob.expect((el) => el.name === "message" && el.attrs.type === "error")),
      "forbidden",
    );
    alice.send(
      xml(
        "message",
        { to: roomJid("stage") },
        form({ "muc#role": "participant", "muc#roomnick": "Bob", "muc#request_allow": "true" }),
      ),
    );
    const voiced = await bob.expect((el) => presenceFrom(roomJid("stage", "Bob"))(el) && codes(el).includes("110"));
    assert.equal(item(voiced)?.attrs.role, "participant");
    say(bob, "stage", "thanks");
    await alice.expect(groupchat("thanks"));
  });

  it("answers self-pings itself (XEP-0410) and forwards other iq to occupants, hiding real JIDs (§6.6)", async () => {
    const [alice, bob, mallory] = await Promise.all([login("alice"), login("bob"), login("mallory")]);
    await createRoom(alice, "ping", "Alice");
    await join(bob, "ping", "Bob");
    const ping = (c: TestClient, nick: string) =>
      c.iq(xml("iq", { type: "get", to: roomJid("ping", nick) }, xml("ping", { xmlns: NS.ping })));
    const joined = await ping(bob, "Bob");
    assert.equal(joined.attrs.type, "result");
    assert.equal(joined.attrs.from, roomJid("ping", "Bob"));
    const notJoined = await ping(mallory, "Mallory");
    assert.equal(errorCondition(notJoined), "not-acceptable");

    // Bob asks Alice's client for its version through the room: Alice sees the request from Bob's room JID.
    const asked = bob.iq(xml("iq", { type: "get", to: roomJid("ping", "Alice") }, xml("query", { xmlns: NS.version })));
    const req = await alice.expect(
      (el) => el.name === "iq" && el.attrs.type === "get" && el.getChild("query", NS.version) !== undefined,
    );
    assert.equal(req.attrs.from, roomJid("ping", "Bob"));
    alice.send(
      xml(
        "iq",
        { type: "result", id: req.attrs.id, to: req.attrs.from },
        xml("query", { xmlns: NS.version }, xml("name", null, "AliceClient")),
      ),
    );
    const answer = await asked;
    assert.equal(answer.attrs.type, "result");
    assert.equal(answer.attrs.from, roomJid("ping", "Alice"));
    assert.equal(answer.getChild("query", NS.version)?.getChildText("name"), "AliceClient");
    // An iq to a nick nobody has.
    const missing = await bob.iq(
      xml("iq", { type: "get", to: roomJid("ping", "Ghost") }, xml("query", { xmlns: NS.version })),
    );
    assert.equal(errorCondition(missing), "item-not-found");

    // After being kicked, the self-ping says Bob is no longer joined.
    await admin(alice, "ping", "set", xml("item", { nick: "Bob", role: "none" }));
    await bob.expect(presenceFrom(roomJid("ping", "Bob"), "unavailable"));
    assert.equal(errorCondition(await ping(bob, "Bob")), "not-acceptable");
  });

  it("fetches an occupant's vCard from the occupant's account (occupant avatars)", async () => {
    const [alice, bob] = await Promise.all([login("alice"), login("bob")]);
    const photo = xml("vCard", { xmlns: "vcard-temp" }, xml("FN", null, "Alice A."));
    const set = await alice.iq(xml("iq", { type: "set" }, photo));
    assert.equal(set.attrs.type, "result", `vCard module: ${set}`);
    await createRoom(alice, "faces", "Alice");
    await join(bob, "faces", "Bob");
    const got = await bob.iq(
      xml("iq", { type: "get", to: roomJid("faces", "Alice") }, xml("vCard", { xmlns: "vcard-temp" })),
    );
    assert.equal(got.attrs.type, "result", `${got}`);
    assert.equal(got.attrs.from, roomJid("faces", "Alice"));
    assert.equal(got.getChild("vCard", "vcard-temp")?.getChildText("FN"), "Alice A.");
  });

  it("removes an occupant whose delivery bounces, with status 333", async () => {
    const [alice, bob] = await Promise.all([login("alice"), login("bob")]);
    await createRoom(alice, "bounce", "Alice");
    await join(bob, "bounce", "Bob");
    await alice.expect(presenceFrom(roomJid("bounce", "Bob")));
    // What Bob's server would send if his session were gone.
    bob.send(
      xml(
        "message",
        { to: roomJid("bounce", "Alice"), type: "error" },
        xml("error", { type: "cancel" }, xml("service-unavailable", { xmlns: NS.stanzaErrors })),
      ),
    );
    const gone = await alice.expect(presenceFrom(roomJid("bounce", "Bob"), "unavailable"));
    assert.ok(codes(gone).includes("333"));
    // A harmless error (e.g. a client refusing a chat state) does not remove anyone.
    alice.send(
      xml(
        "message",
        { to: roomJid("bounce"), type: "error" },
        xml("error", { type: "modify" }, xml("bad-request", { xmlns: NS.stanzaErrors })),
      ),
    );
    say(alice, "bounce", "still in");
    await alice.expect(groupchat("still in"));
  });

  it("refuses entry to banned users (§7.2.8)", async () => {
    const [alice, mallory] = await Promise.all([login("alice"), login("mallory")]);
    await createRoom(alice, "nomallory", "Alice");
    const r = await admin(alice, "nomallory", "set", xml("item", { jid: "mallory@localhost", affiliation: "outcast" }));
    assert.equal(r.attrs.type, "result");
    assert.equal(await joinError(mallory, "nomallory", "M"), "forbidden");
  });
});
