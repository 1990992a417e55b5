/**
 * Authorization in group chats (XEP-0045, XEP-0313 on rooms, XEP-0425): one test per rule, each "Mallory cannot …".
 * Olive owns the rooms, Adam is an admin, Mia a member; Mallory is an ordinary account of the same server, and in
 * some tests an outcast, a participant or a member given the moderator role.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type XmlElement, xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import { connectClient, type TestClient } from "../helpers/client.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { withBody } from "./im-fixtures.ts";
import { MAM2, mamQuery } from "./mam-fixtures.ts";
import {
  admin,
  createRoom,
  errorCondition,
  groupchat,
  isSubject,
  item,
  join,
  joinError,
  MUC_OWNER,
  MUC_USER,
  presenceFrom,
  roomJid,
  say,
} from "./muc-fixtures.ts";

const MODERATE = "urn:xmpp:message-moderate:1";
const RETRACT = "urn:xmpp:message-retract:1";

function refused(reply: XmlElement, condition: string | string[]): XmlElement {
  assert.equal(reply.attrs.type, "error", `expected an error, got ${reply}`);
  const wanted = Array.isArray(condition) ? condition : [condition];
  assert.ok(wanted.includes(errorCondition(reply) ?? ""), `expected ${wanted.join("|")}, got ${reply}`);
  return reply;
}

/** Sets an affiliation (as an admin or owner) and checks it worked. */
async function affiliate(c: TestClient, room: string, jid: string, affiliation: string): Promise<void> {
  const r = await admin(c, room, "set", xml("item", { jid, affiliation }));
  assert.equal(r.attrs.type, "result", `${r}`);
}

/** Real JIDs of others than Mallory (the recipient) anywhere in a stanza (muc#user items, forwarded messages...). */
function realJids(el: XmlElement): string[] {
  return [...el.toString().matchAll(/[a-z]+@localhost(?:\/[\w-]+)?/g)]
    .map((m) => m[0])
    .filter((j) => !j.startsWith("mallory@"));
}

describe("authorization: group chat", () => {
  let ts: TestServer;
  const open: TestClient[] = [];
  const login = async (user: string, resource?: string) => {
    const c = await connectClient(ts, `${user}@localhost`, "pw", { presence: true, resource });
    open.push(c);
    return c;
  };
  let olive: TestClient;
  let adam: TestClient;
  let mia: TestClient;
  let mallory: TestClient;

  before(async () => {
    ts = await startTestServer({
      users: ["olive", "adam", "mia", "mallory"].map((u) => [`${u}@localhost`, "pw"]),
      config: { muc: { message_rate: 1000, message_burst: 1000 } },
    });
    [olive, adam, mia, mallory] = await Promise.all([login("olive"), login("adam"), login("mia"), login("mallory")]);
  });
  after(async () => {
    await Promise.all(open.map((c) => c.close()));
    await ts.stop();
  });

  // ---- members-only rooms -------------------------------------------------------------------------------

  describe("a members-only room", () => {
    const room = "club";
    before(async () => {
      await createRoom(olive, room, "Olive", { "muc#roomconfig_membersonly": "1", "muc#roomconfig_publicroom": "0" });
      await affiliate(olive, room, "mia@localhost", "member");
      await join(mia, room, "Mia");
      say(olive, room, "members only secret");
      await mia.expect(groupchat("members only secret"));
    });

    it("Mallory cannot enter it (XEP-0045 §7.2.7)", async () => {
      assert.equal(await joinError(mallory, room, "Mallory"), "registration-required");
    });

    it("Mallory cannot read its history through MAM (XEP-0313 §5.1.2)", async () => {
      const out = await mamQuery(mallory, { to: roomJid(room) });
      refused(out.iq, "forbidden");
      assert.equal(out.results.length, 0);
      refused(
        await mallory.iq(xml("iq", { type: "get", to: roomJid(room) }, xml("metadata", { xmlns: MAM2 }))),
        "forbidden",
      );
      const forMia = await mamQuery(mia, { to: roomJid(room) });
      assert.ok(
        forMia.results.some((m) => m.toString().includes("members only secret")),
        "members read it",
      );
    });

    it("Mallory cannot list its occupants through disco#items (XEP-0045 §6.5)", async () => {
      const r = await mallory.iq(xml("iq", { type: "get", to: roomJid(room) }, xml("query", { xmlns: NS.discoItems })));
      assert.equal(r.attrs.type, "result");
      assert.equal(r.getChild("query", NS.discoItems)?.elements().length, 0, `${r}`);
      const list = await mallory.iq(
        xml("iq", { type: "get", to: "conference.localhost" }, xml("query", { xmlns: NS.discoItems })),
      );
      assert.ok(!list.toString().includes(roomJid(room)), "a hidden room is not in the directory");
    });

    it("Mallory cannot make herself a member by registering (XEP-0045 §7.10)", async () => {
      const form = xml(
        "x",
        { xmlns: NS.dataForms, type: "submit" },
        xml("field", { var: "FORM_TYPE" }, xml("value", null, "http://jabber.org/protocol/muc#register")),
        xml("field", { var: "muc#register_roomnick" }, xml("value", null, "Mallory")),
      );
      const r = await mallory.iq(
        xml("iq", { type: "set", to: roomJid(room) }, xml("query", { xmlns: NS.register }, form)),
      );
      refused(r, "not-allowed");
      assert.equal(await joinError(mallory, room, "Mallory"), "registration-required");
    });

    it("Mallory cannot read its member, admin or owner lists (XEP-0045 §9.5, §10.5, §10.8)", async () => {
      for (const affiliation of ["member", "admin", "owner", "outcast"]) {
        refused(await admin(mallory, room, "get", xml("item", { affiliation })), "forbidden");
      }
    });

    it("Mallory cannot send it messages, private messages or iq from outside (XEP-0045 §7.4, §7.5)", async () => {
      const gc = await sendAndBounce(
        mallory,
        xml("message", { to: roomJid(room), type: "groupchat", id: "g1" }, xml("body", null, "spam")),
      );
      refused(gc, "not-acceptable");
      const pm = await sendAndBounce(
        mallory,
        xml("message", { to: roomJid(room, "Mia"), type: "chat", id: "p1" }, xml("body", null, "psst")),
      );
      refused(pm, "not-acceptable");
      refused(
        await mallory.iq(xml("iq", { type: "get", to: roomJid(room, "Mia") }, xml("query", { xmlns: NS.version }))),
        "not-acceptable",
      );
      await mia.nothing(
        300,
        (el) => el.toString().includes("spam") || el.toString().includes("psst") || el.name === "iq",
      );
    });
  });

  // ---- password-protected rooms ----------------------------------------------------------------------------

  describe("a password-protected room", () => {
    const room = "vault";
    before(async () => {
      await createRoom(olive, room, "Olive", {
        "muc#roomconfig_passwordprotectedroom": "1",
        "muc#roomconfig_roomsecret": "s3cret",
      });
      say(olive, room, "behind the password");
      await olive.expect(groupchat("behind the password"));
    });

    it("Mallory cannot enter it without the password (XEP-0045 §7.2.6)", async () => {
      assert.equal(await joinError(mallory, room, "Mallory"), "not-authorized");
    });

    it("Mallory cannot read its archive, not even after registering with it (XEP-0313 §5.1.2)", async () => {
      const form = xml(
        "x",
        { xmlns: NS.dataForms, type: "submit" },
        xml("field", { var: "FORM_TYPE" }, xml("value", null, "http://jabber.org/protocol/muc#register")),
        xml("field", { var: "muc#register_roomnick" }, xml("value", null, "Mallory")),
      );
      // Membership must not be a way around the password: registering would make her a member.
      const r = await mallory.iq(
        xml("iq", { type: "set", to: roomJid(room) }, xml("query", { xmlns: NS.register }, form)),
      );
      refused(r, "not-authorized");
      // Someone who entered with the password may register.
      await join(mia, room, "Mia", { password: "s3cret" });
      const ok = await mia.iq(
        xml("iq", { type: "set", to: roomJid(room) }, xml("query", { xmlns: NS.register }, form.clone())),
      );
      assert.equal(ok.attrs.type, "result", `${ok}`);
      const out = await mamQuery(mallory, { to: roomJid(room) });
      refused(out.iq, "forbidden");
      assert.equal(out.results.length, 0);
    });
  });

  // ---- outcasts ------------------------------------------------------------------------------------------

  describe("an outcast", () => {
    const room = "lobby";
    before(async () => {
      await createRoom(olive, room, "Olive");
      say(olive, room, "public talk");
      await olive.expect(groupchat("public talk"));
      await affiliate(olive, room, "mallory@localhost", "outcast");
    });

    it("Mallory, banned, cannot enter (XEP-0045 §7.2.8)", async () => {
      assert.equal(await joinError(mallory, room, "Mallory"), "forbidden");
    });

    it("Mallory, banned, cannot read the archive (XEP-0313 §5.1.2)", async () => {
      const out = await mamQuery(mallory, { to: roomJid(room) });
      refused(out.iq, "forbidden");
      assert.equal(out.results.length, 0);
    });

    it("Mallory, banned, cannot register with the room or relay declines through it (XEP-0045 §7.10, §7.8.3)", async () => {
      refused(
        await mallory.iq(xml("iq", { type: "get", to: roomJid(room) }, xml("query", { xmlns: NS.register }))),
        "forbidden",
      );
      const decline = await sendAndBounce(
        mallory,
        xml(
          "message",
          { to: roomJid(room), id: "d1" },
          xml("x", { xmlns: MUC_USER }, xml("decline", { to: "mia@localhost" }, xml("reason", null, "spam"))),
        ),
      );
      refused(decline, "forbidden");
      await mia.nothing(300, (el) => el.getChild("x", MUC_USER)?.getChild("decline") !== undefined);
    });
  });

  // ---- ranks: moderators, admins ---------------------------------------------------------------------------

  describe("ranks", () => {
    const room = "ranks";
    let modMallory: TestClient;
    before(async () => {
      await createRoom(olive, room, "Olive");
      await affiliate(olive, room, "adam@localhost", "admin");
      await affiliate(olive, room, "mallory@localhost", "member");
      await join(adam, room, "Adam");
      await join(mia, room, "Mia");
      modMallory = await login("mallory", "ranks");
      await join(modMallory, room, "Mallory");
      // Adam (admin) makes Mallory (a member) a moderator (§9.6).
      const r = await admin(adam, room, "set", xml("item", { nick: "Mallory", role: "moderator" }));
      assert.equal(r.attrs.type, "result", `${r}`);
    });

    it("Mallory, a moderator, cannot kick an admin (XEP-0045 §8.2)", async () => {
      refused(await admin(modMallory, room, "set", xml("item", { nick: "Adam", role: "none" })), "not-allowed");
      refused(await admin(modMallory, room, "set", xml("item", { nick: "Olive", role: "none" })), "not-allowed");
    });

    it("Mallory, a moderator, cannot mute an admin or hand out moderator status (XEP-0045 §8.4, §9.6)", async () => {
      refused(await admin(modMallory, room, "set", xml("item", { nick: "Adam", role: "visitor" })), "not-allowed");
      refused(await admin(modMallory, room, "set", xml("item", { nick: "Mia", role: "moderator" })), "forbidden");
    });

    it("Mallory, a moderator with member affiliation, cannot ban, grant membership or raise herself (XEP-0045 §9.1, §10.3)", async () => {
      refused(
        await admin(modMallory, room, "set", xml("item", { jid: "mia@localhost", affiliation: "outcast" })),
        "forbidden",
      );
      refused(
        await admin(modMallory, room, "set", xml("item", { jid: "mia@localhost", affiliation: "member" })),
        "forbidden",
      );
      for (const affiliation of ["admin", "owner"]) {
        refused(
          await admin(modMallory, room, "set", xml("item", { jid: "mallory@localhost", affiliation })),
          "forbidden",
        );
      }
    });

    it("Mallory cannot apply a batch that hides one forbidden change among allowed ones (XEP-0045 §9)", async () => {
      const r = await admin(
        modMallory,
        room,
        "set",
        xml("item", { nick: "Mia", role: "visitor" }),
        xml("item", { nick: "Adam", role: "none" }),
      );
      refused(r, "not-allowed");
      await mia.nothing(300, (el) => el.name === "presence" && item(el)?.attrs.role === "visitor");
    });

    it("Mallory, a moderator, cannot configure, destroy or change the room's vCard (XEP-0045 §10.1, §10.9)", async () => {
      refused(
        await modMallory.iq(xml("iq", { type: "get", to: roomJid(room) }, xml("query", { xmlns: MUC_OWNER }))),
        "forbidden",
      );
      refused(
        await modMallory.iq(
          xml("iq", { type: "set", to: roomJid(room) }, xml("query", { xmlns: MUC_OWNER }, xml("destroy"))),
        ),
        "forbidden",
      );
      refused(
        await modMallory.iq(xml("iq", { type: "set", to: roomJid(room) }, xml("vCard", { xmlns: "vcard-temp" }))),
        "forbidden",
      );
    });

    it("Adam, an admin, cannot ban or demote an owner, nor make owners or admins (XEP-0045 §9.1, §10.3, §10.6)", async () => {
      refused(
        await admin(adam, room, "set", xml("item", { jid: "olive@localhost", affiliation: "outcast" })),
        "not-allowed",
      );
      refused(
        await admin(adam, room, "set", xml("item", { jid: "olive@localhost", affiliation: "member" })),
        "not-allowed",
      );
      refused(await admin(adam, room, "set", xml("item", { jid: "mia@localhost", affiliation: "owner" })), "forbidden");
      refused(await admin(adam, room, "set", xml("item", { jid: "mia@localhost", affiliation: "admin" })), "forbidden");
    });

    it("Mia, a participant, cannot kick, mute or moderate messages (XEP-0045 §8, XEP-0425)", async () => {
      refused(await admin(mia, room, "set", xml("item", { nick: "Mallory", role: "none" })), "forbidden");
      refused(await admin(mia, room, "set", xml("item", { nick: "Mallory", role: "visitor" })), "forbidden");
      refused(await admin(mia, room, "get", xml("item", { role: "participant" })), "forbidden");
      say(olive, room, "owner's words", [], "ow-1");
      const seen = await mia.expect(groupchat("owner's words"));
      const id = seen.getChild("stanza-id", "urn:xmpp:sid:0")?.attrs.id ?? "";
      const moderation = xml("moderate", { xmlns: MODERATE, id }, xml("retract", { xmlns: RETRACT }));
      refused(await mia.iq(xml("iq", { type: "set", to: roomJid(room) }, moderation)), "forbidden");
      // Retracting someone else's message as its "author" is refused too (XEP-0424).
      const bounce = await sendAndBounce(
        mia,
        xml("message", { to: roomJid(room), type: "groupchat", id: "r1" }, xml("retract", { xmlns: RETRACT, id })),
      );
      refused(bounce, "forbidden");
    });
  });

  // ---- semi-anonymous rooms: real JIDs stay hidden ---------------------------------------------------------

  describe("a semi-anonymous room", () => {
    const room = "masks";
    let seen: XmlElement[] = [];
    let masked: TestClient;
    before(async () => {
      await createRoom(olive, room, "Olive", { "muc#roomconfig_whois": "moderators" });
      await join(mia, room, "Mia");
      say(mia, room, "words of Mia");
      await olive.expect(groupchat("words of Mia"));
      masked = await login("mallory", "masks");
      masked.send(
        xml("presence", { to: roomJid(room, "Mallory") }, xml("x", { xmlns: "http://jabber.org/protocol/muc" })),
      );
      await masked.expect(isSubject(room));
      seen = masked.conn.received.flatMap((r) => (r.kind === "element" ? [r.el] : []));
    });

    it("Mallory, a participant, sees no real JID in occupants' presence (XEP-0045 §4.1, §7.2.3)", async () => {
      const presences = seen.filter((el) => el.name === "presence" && (el.attrs.from ?? "").startsWith(roomJid(room)));
      assert.ok(presences.length >= 3, `presence of Olive, Mia and herself: ${presences.join(" | ")}`);
      for (const p of presences) {
        if (p.attrs.from === roomJid(room, "Mallory")) continue;
        assert.equal(item(p)?.attrs.jid, undefined, `real JID leaked: ${p}`);
        assert.deepEqual(realJids(p), [], `${p}`);
      }
      // A later presence change of Mia stays anonymous too.
      mia.send(xml("presence", { to: roomJid(room, "Mia") }, xml("show", null, "away")));
      const update = await masked.expect(presenceFrom(roomJid(room, "Mia")));
      assert.deepEqual(realJids(update), []);
    });

    it("Mallory, a participant, sees no real JID in the history or the archive (XEP-0313 §5.1.2)", async () => {
      const history = seen.filter((el) => el.name === "message" && el.getChildText("body") === "words of Mia");
      assert.equal(history.length, 1);
      assert.deepEqual(realJids(history[0] as XmlElement), []);
      const out = await mamQuery(masked, { to: roomJid(room) });
      assert.equal(out.iq.attrs.type, "result", `${out.iq}`);
      assert.ok(out.results.length > 0);
      for (const r of out.results) assert.deepEqual(realJids(r), [], `${r}`);
    });

    it("Mallory, a participant, cannot search the archive by real JID (XEP-0313 §5.1.2)", async () => {
      const out = await mamQuery(masked, { to: roomJid(room), fields: { with: "mia@localhost" } });
      refused(out.iq, "not-allowed");
      assert.equal(out.results.length, 0);
    });

    it("Mallory, a participant, cannot read the voice list with its real JIDs (XEP-0045 §8.5)", async () => {
      refused(await admin(masked, room, "get", xml("item", { role: "participant" })), "forbidden");
    });

    it("Mallory's private messages and forwarded iq carry room JIDs only (XEP-0045 §7.5, §6.6)", async () => {
      masked.send(xml("message", { to: roomJid(room, "Mia"), type: "chat" }, xml("body", null, "hi Mia")));
      const pm = await mia.expect(withBody("hi Mia"));
      assert.equal(pm.attrs.from, roomJid(room, "Mallory"));
      masked.send(xml("iq", { type: "get", to: roomJid(room, "Mia"), id: "v1" }, xml("query", { xmlns: NS.version })));
      const fwd = await mia.expect((el) => el.name === "iq" && el.getChild("query", NS.version) !== undefined);
      assert.equal(fwd.attrs.from, roomJid(room, "Mallory"));
      mia.send(
        xml(
          "iq",
          { type: "result", id: fwd.attrs.id, to: fwd.attrs.from },
          xml("query", { xmlns: NS.version }, xml("name", null, "MiaClient")),
        ),
      );
      const answer = await masked.expect((el) => el.name === "iq" && el.attrs.id === "v1");
      assert.equal(answer.attrs.from, roomJid(room, "Mia"));
      assert.deepEqual(realJids(answer), []);
    });

    it("Mallory cannot send a private message to a nick that is not in the room (XEP-0045 §7.5)", async () => {
      const r = await sendAndBounce(
        masked,
        xml("message", { to: roomJid(room, "Nobody"), type: "chat", id: "pm-nobody" }, xml("body", null, "hello?")),
      );
      refused(r, "item-not-found");
    });

    it("Mallory cannot answer an iq the room forwarded to someone else (XEP-0045 §6.6)", async () => {
      olive.send(xml("iq", { type: "get", to: roomJid(room, "Mia"), id: "v2" }, xml("query", { xmlns: NS.version })));
      const fwd = await mia.expect(
        (el) => el.name === "iq" && el.attrs.type === "get" && el.getChild("query", NS.version) !== undefined,
      );
      // Mallory guesses the forwarded id and answers from her own address: the room ignores it.
      masked.send(
        xml(
          "iq",
          { type: "result", id: fwd.attrs.id, to: roomJid(room, "Olive") },
          xml("query", { xmlns: NS.version }, xml("name", null, "forged")),
        ),
      );
      await olive.nothing(300, (el) => el.name === "iq" && el.attrs.id === "v2");
      mia.send(
        xml(
          "iq",
          { type: "result", id: fwd.attrs.id, to: fwd.attrs.from },
          xml("query", { xmlns: NS.version }, xml("name", null, "real")),
        ),
      );
      const answer = await olive.expect((el) => el.name === "iq" && el.attrs.id === "v2");
      assert.ok(answer.toString().includes("real"));
    });
  });

  // ---- locked rooms and room settings -----------------------------------------------------------------------

  it("Mallory cannot enter, inspect or read a room its owner has not configured yet (XEP-0045 §10.1.1)", async () => {
    const room = "draft";
    await join(olive, room, "Olive");
    assert.equal(await joinError(mallory, room, "Mallory"), "item-not-found");
    refused(
      await mallory.iq(xml("iq", { type: "get", to: roomJid(room) }, xml("query", { xmlns: NS.discoInfo }))),
      "item-not-found",
    );
    refused((await mamQuery(mallory, { to: roomJid(room) })).iq, "item-not-found");
  });

  it("Mallory cannot change the subject where only moderators may (XEP-0045 §8.1)", async () => {
    const room = "topic";
    await createRoom(olive, room, "Olive");
    await join(mallory, room, "Mallory");
    const r = await sendAndBounce(
      mallory,
      xml("message", { to: roomJid(room), type: "groupchat", id: "s1" }, xml("subject", null, "owned")),
    );
    refused(r, "forbidden");
    await olive.nothing(300, (el) => el.getChildText("subject") === "owned");
  });

  it("Mallory cannot take a nick someone reserved (XEP-0045 §7.10, §7.2.9)", async () => {
    const room = "names";
    await createRoom(olive, room, "Olive");
    const r = await admin(
      olive,
      room,
      "set",
      xml("item", { jid: "mia@localhost", affiliation: "member", nick: "Mia" }),
    );
    assert.equal(r.attrs.type, "result");
    assert.equal(await joinError(mallory, room, "Mia"), "conflict");
  });

  /** Sends a stanza with an id and waits for its error bounce. */
  async function sendAndBounce(c: TestClient, stanza: XmlElement): Promise<XmlElement> {
    c.send(stanza);
    return c.expect((el) => el.name === stanza.name && el.attrs.id === stanza.attrs.id && el.attrs.type === "error");
  }
});
