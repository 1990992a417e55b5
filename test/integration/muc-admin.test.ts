/**
 * XEP-0045 §8 (moderator use cases), §9 (admin use cases), §10.3-§10.8 (owner and admin lists): who may do what,
 * what the room says about it, and the errors for those who may not.
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { xml } from "../../src/xml/element.ts";
import { connectClient, type TestClient } from "../helpers/client.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import {
  admin,
  codes,
  createRoom,
  errorCondition,
  groupchat,
  item,
  join,
  joinError,
  list,
  presenceFrom,
  roomJid,
  say,
} from "./muc-fixtures.ts";

const USERS = ["alice", "bob", "carol", "dave", "erin"];

describe("MUC: moderators, admins and owners (XEP-0045 §8, §9, §10.3-§10.8)", () => {
  let ts: TestServer;
  const open: TestClient[] = [];
  const login = async (user: string) => {
    const c = await connectClient(ts, `${user}@localhost`, "pw", { presence: true });
    open.push(c);
    return c;
  };
  /** Alice owns `room`, Bob and Carol are in it; Alice has seen both arrive. */
  const setup = async (room: string, fields: Record<string, string> = {}) => {
    const [alice, bob, carol] = await Promise.all([login("alice"), login("bob"), login("carol")]);
    await createRoom(alice, room, "Alice", fields);
    await join(bob, room, "Bob");
    await join(carol, room, "Carol");
    // Everyone has seen everyone arrive: later expectations only match later presence.
    await alice.expect(presenceFrom(roomJid(room, "Bob")));
    await alice.expect(presenceFrom(roomJid(room, "Carol")));
    await bob.expect(presenceFrom(roomJid(room, "Alice")));
    await bob.expect(presenceFrom(roomJid(room, "Carol")));
    await carol.expect(presenceFrom(roomJid(room, "Alice")));
    await carol.expect(presenceFrom(roomJid(room, "Bob")));
    return { alice, bob, carol };
  };
  before(async () => {
    ts = await startTestServer({ users: USERS.map((u) => [`${u}@localhost`, "pw"]) });
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });
  after(() => ts.stop());

  it("kicks an occupant: 307 with actor and reason to everyone, 110 to the kicked (§8.2)", async () => {
    const { alice, bob, carol } = await setup("kick");
    const r = await admin(
      alice,
      "kick",
      "set",
      xml("item", { nick: "Bob", role: "none" }, xml("reason", null, "Be nice")),
    );
    assert.equal(r.attrs.type, "result");
    const self = await bob.expect(presenceFrom(roomJid("kick", "Bob"), "unavailable"));
    assert.deepEqual(codes(self).sort(), ["110", "307"]);
    assert.equal(item(self)?.attrs.role, "none");
    assert.equal(item(self)?.getChild("actor")?.attrs.nick, "Alice");
    assert.equal(item(self)?.getChildText("reason"), "Be nice");
    const seen = await carol.expect(presenceFrom(roomJid("kick", "Bob"), "unavailable"));
    assert.deepEqual(codes(seen), ["307"]);
    // Kicked is not banned: Bob may come back.
    await join(bob, "kick", "Bob");
    // A participant may not kick (forbidden); nobody can be kicked who is not there (item-not-found).
    const byCarol = await admin(carol, "kick", "set", xml("item", { nick: "Bob", role: "none" }));
    assert.equal(errorCondition(byCarol), "forbidden");
    const ghost = await admin(alice, "kick", "set", xml("item", { nick: "Ghost", role: "none" }));
    assert.equal(errorCondition(ghost), "item-not-found");
  });

  it("grants and revokes voice in a moderated room, and lists voiced occupants (§8.3, §8.4, §8.5)", async () => {
    const { alice, bob, carol } = await setup("voice", { "muc#roomconfig_moderatedroom": "1" });
    say(bob, "voice", "hello?");
    assert.equal(errorCondition(await bob.expect((el) => el.attrs.type === "error")), "forbidden");
    await admin(alice, "voice", "set", xml("item", { nick: "Bob", role: "participant" }));
    const voiced = await carol.expect(presenceFrom(roomJid("voice", "Bob")));
    assert.equal(item(voiced)?.attrs.role, "participant");
    await bob.expect((el) => presenceFrom(roomJid("voice", "Bob"))(el) && codes(el).includes("110"));
    say(bob, "voice", "now I can");
    await carol.expect(groupchat("now I can"));
    const voiceList = await list(alice, "voice", { role: "participant" });
    assert.deepEqual(
      voiceList.map((i) => i.attrs.nick),
      ["Bob"],
    );
    // Participants may not read it.
    const denied = await admin(bob, "voice", "get", xml("item", { role: "participant" }));
    assert.equal(errorCondition(denied), "forbidden");
    await admin(alice, "voice", "set", xml("item", { nick: "Bob", role: "visitor" }));
    const muted = await carol.expect(presenceFrom(roomJid("voice", "Bob")));
    assert.equal(item(muted)?.attrs.role, "visitor");
  });

  it("bans by JID (301), keeps the ban list and lifts a ban (§9.1, §9.2)", async () => {
    const { alice, bob, carol } = await setup("ban");
    const r = await admin(
      alice,
      "ban",
      "set",
      xml("item", { jid: "bob@localhost", affiliation: "outcast" }, xml("reason", null, "Spam")),
    );
    assert.equal(r.attrs.type, "result");
    const self = await bob.expect(presenceFrom(roomJid("ban", "Bob"), "unavailable"));
    assert.deepEqual(codes(self).sort(), ["110", "301"]);
    assert.equal(item(self)?.attrs.affiliation, "outcast");
    const seen = await carol.expect(presenceFrom(roomJid("ban", "Bob"), "unavailable"));
    assert.deepEqual(codes(seen), ["301"]);
    assert.equal(await joinError(bob, "ban", "Bob"), "forbidden");
    const bans = await list(alice, "ban", { affiliation: "outcast" });
    assert.deepEqual(
      bans.map((i) => [i.attrs.jid, i.getChildText("reason")]),
      [["bob@localhost", "Spam"]],
    );
    // Participants may neither ban nor read the list.
    assert.equal(
      errorCondition(await admin(carol, "ban", "set", xml("item", { jid: "dave@localhost", affiliation: "outcast" }))),
      "forbidden",
    );
    assert.equal(
      errorCondition(await admin(carol, "ban", "get", xml("item", { affiliation: "outcast" }))),
      "forbidden",
    );
    await admin(alice, "ban", "set", xml("item", { jid: "bob@localhost", affiliation: "none" }));
    await join(bob, "ban", "Bob");
  });

  it("grants membership with a reserved nick, lists members, and revoking it in a members-only room removes (321) (§9.3-§9.5)", async () => {
    const [alice, bob, carol] = await Promise.all([login("alice"), login("bob"), login("carol")]);
    await createRoom(alice, "members", "Alice", { "muc#roomconfig_membersonly": "1" });
    await admin(alice, "members", "set", xml("item", { jid: "bob@localhost", affiliation: "member", nick: "Bobby" }));
    // The reserved nick is Bob's: Carol (once a member) cannot take it.
    await admin(alice, "members", "set", xml("item", { jid: "carol@localhost", affiliation: "member" }));
    assert.equal(await joinError(carol, "members", "Bobby"), "conflict");
    const self = await join(bob, "members", "Bobby");
    assert.equal(item(self)?.attrs.affiliation, "member");
    await alice.expect(presenceFrom(roomJid("members", "Bobby")));
    const members = await list(alice, "members", { affiliation: "member" });
    assert.deepEqual(
      members.map((i) => [i.attrs.jid, i.attrs.nick]),
      [
        ["bob@localhost", "Bobby"],
        ["carol@localhost", undefined],
      ],
    );
    // Members of a members-only room may read the member list too.
    assert.equal((await list(bob, "members", { affiliation: "member" })).length, 2);
    await admin(alice, "members", "set", xml("item", { jid: "bob@localhost", affiliation: "none" }));
    const out = await bob.expect(presenceFrom(roomJid("members", "Bobby"), "unavailable"));
    assert.deepEqual(codes(out).sort(), ["110", "321"]);
    assert.equal(await joinError(bob, "members", "Bobby"), "registration-required");
  });

  it("grants and revokes moderator status, admins only, and lists moderators (§9.6-§9.8)", async () => {
    const { alice, bob, carol } = await setup("mods");
    await admin(alice, "mods", "set", xml("item", { nick: "Bob", role: "moderator" }));
    const mod = await carol.expect(presenceFrom(roomJid("mods", "Bob")));
    assert.equal(item(mod)?.attrs.role, "moderator");
    // Bob is a moderator now and sees real JIDs in the semi-anonymous room.
    const selfMod = await bob.expect((el) => presenceFrom(roomJid("mods", "Bob"))(el) && codes(el).includes("110"));
    assert.equal(item(selfMod)?.attrs.role, "moderator");
    const carolRevealed = await bob.expect(
      (el) => presenceFrom(roomJid("mods", "Carol"))(el) && item(el)?.attrs.jid !== undefined,
    );
    assert.equal(item(carolRevealed)?.attrs.jid, carol.jid);
    const mods = await list(alice, "mods", { role: "moderator" });
    assert.deepEqual(mods.map((i) => i.attrs.nick).sort(), ["Alice", "Bob"]);
    // A moderator without admin affiliation may not make moderators, nor mute the owner.
    assert.equal(
      errorCondition(await admin(bob, "mods", "set", xml("item", { nick: "Carol", role: "moderator" }))),
      "forbidden",
    );
    assert.equal(
      errorCondition(await admin(bob, "mods", "set", xml("item", { nick: "Alice", role: "visitor" }))),
      "not-allowed",
    );
    assert.equal(
      errorCondition(await admin(bob, "mods", "set", xml("item", { nick: "Alice", role: "none" }))),
      "not-allowed",
    );
    // ... but may kick a participant.
    await admin(bob, "mods", "set", xml("item", { nick: "Carol", role: "none" }));
    await carol.expect(presenceFrom(roomJid("mods", "Carol"), "unavailable"));
    await admin(alice, "mods", "set", xml("item", { nick: "Bob", role: "participant" }));
    const back = await alice.expect(
      (el) => presenceFrom(roomJid("mods", "Bob"))(el) && item(el)?.attrs.role === "participant",
    );
    assert.ok(back);
  });

  it("owners manage owners and admins, admins do not, and a room keeps an owner (§10.3-§10.8)", async () => {
    const { alice, bob, carol } = await setup("owners");
    await admin(alice, "owners", "set", xml("item", { jid: "bob@localhost", affiliation: "admin" }));
    const asAdmin = await carol.expect(presenceFrom(roomJid("owners", "Bob")));
    assert.equal(item(asAdmin)?.attrs.affiliation, "admin");
    assert.equal(item(asAdmin)?.attrs.role, "moderator");
    // An admin may not create admins or owners, nor touch the owner.
    assert.equal(
      errorCondition(await admin(bob, "owners", "set", xml("item", { jid: "carol@localhost", affiliation: "admin" }))),
      "forbidden",
    );
    assert.equal(
      errorCondition(
        await admin(bob, "owners", "set", xml("item", { jid: "alice@localhost", affiliation: "outcast" })),
      ),
      "not-allowed",
    );
    // ... but bans and members are admin business.
    assert.equal(
      (await admin(bob, "owners", "set", xml("item", { jid: "dave@localhost", affiliation: "member" }))).attrs.type,
      "result",
    );
    // Lists of admins and owners.
    assert.deepEqual(
      (await list(alice, "owners", { affiliation: "admin" })).map((i) => i.attrs.jid),
      ["bob@localhost"],
    );
    assert.deepEqual(
      (await list(alice, "owners", { affiliation: "owner" })).map((i) => i.attrs.jid),
      ["alice@localhost"],
    );
    // The last owner cannot go.
    const last = await admin(alice, "owners", "set", xml("item", { jid: "alice@localhost", affiliation: "admin" }));
    assert.equal(errorCondition(last), "conflict");
    // With a second owner, Alice may step down.
    await admin(alice, "owners", "set", xml("item", { jid: "bob@localhost", affiliation: "owner" }));
    await admin(alice, "owners", "set", xml("item", { jid: "alice@localhost", affiliation: "member" }));
    assert.deepEqual(
      (await list(bob, "owners", { affiliation: "owner" })).map((i) => i.attrs.jid),
      ["bob@localhost"],
    );
    // Carol (no affiliation) may do none of this.
    assert.equal(
      errorCondition(await admin(carol, "owners", "get", xml("item", { affiliation: "owner" }))),
      "forbidden",
    );
  });

  it("applies a batch of changes all or nothing", async () => {
    const { alice, carol } = await setup("batch");
    const r = await admin(
      alice,
      "batch",
      "set",
      xml("item", { jid: "dave@localhost", affiliation: "member" }),
      xml("item", { nick: "Nobody", role: "none" }),
    );
    assert.equal(errorCondition(r), "item-not-found");
    assert.deepEqual(await list(alice, "batch", { affiliation: "member" }), []);
    const bad = await admin(alice, "batch", "set", xml("item", { jid: "dave@localhost", affiliation: "emperor" }));
    assert.equal(errorCondition(bad), "bad-request");
    const both = await admin(
      alice,
      "batch",
      "set",
      xml("item", { nick: "Carol", role: "none", affiliation: "member" }),
    );
    assert.equal(errorCondition(both), "bad-request");
    await carol.nothing(100, presenceFrom(roomJid("batch", "Carol"), "unavailable"));
  });
});
