/**
 * Rooms across restarts: configuration, affiliations and reserved nicks, subject, history, avatar and occupant ids
 * survive; clients come back by sending presence (what bookmark autojoin does); temporary rooms do not survive.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import { connectClient, type TestClient } from "../helpers/client.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { bodies, mamQuery } from "./mam-fixtures.ts";
import {
  admin,
  codes,
  createRoom,
  groupchat,
  isSubject,
  item,
  join,
  joinError,
  list,
  MUC_OWNER,
  presenceFrom,
  receiveUntil,
  roomJid,
  say,
  sendJoin,
} from "./muc-fixtures.ts";
import { getItems, itemsOf, publish } from "./pep-fixtures.ts";

describe("MUC: rooms survive restarts", () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({
      users: ["alice", "bob", "carol", "mallory"].map((u) => [`${u}@localhost`, "pw"]),
    });
  });
  after(() => ts.stop());
  const login = (user: string) => connectClient(ts, `${user}@localhost`, "pw", { presence: true });

  it("keeps configuration, affiliations, subject, history, avatar and occupant ids; clients rejoin by presence", async () => {
    let alice: TestClient = await login("alice");
    let bob: TestClient = await login("bob");
    await createRoom(alice, "family", "Mom", {
      "muc#roomconfig_persistentroom": "1",
      "muc#roomconfig_roomname": "The Family",
      "muc#roomconfig_membersonly": "1",
      "muc#maxhistoryfetch": "3",
    });
    await createRoom(alice, "fleeting", "Mom");
    await admin(alice, "family", "set", xml("item", { jid: "bob@localhost", affiliation: "member", nick: "Kid" }));
    await admin(alice, "family", "set", xml("item", { jid: "carol@localhost", affiliation: "admin" }));
    await admin(alice, "family", "set", xml("item", { jid: "mallory@localhost", affiliation: "outcast" }));
    alice.send(xml("message", { to: roomJid("family"), type: "groupchat" }, xml("subject", null, "Dinner plans")));
    await alice.expect(isSubject("family"));
    await join(bob, "family", "Kid");
    const beforeId = (await alice.expect(presenceFrom(roomJid("family", "Kid")))).getChild(
      "occupant-id",
      "urn:xmpp:occupant-id:0",
    )?.attrs.id;
    for (const body of ["m1", "m2", "m3", "m4"]) {
      say(bob, "family", body);
      await alice.expect(groupchat(body));
    }
    await alice.iq(
      xml(
        "iq",
        { type: "set", to: roomJid("family") },
        xml("vCard", { xmlns: "vcard-temp" }, xml("FN", null, "Family room")),
      ),
    );
    await Promise.all([alice.close(), bob.close()]);

    ts = await ts.restart();
    alice = await login("alice");
    bob = await login("bob");
    // Autojoin after a restart is plain presence: the room is there with its owner, members and bans.
    const self = await join(alice, "family", "Mom");
    assert.equal(item(self)?.attrs.affiliation, "owner");
    assert.ok(!codes(self).includes("201"), "not a new room");
    sendJoin(bob, "family", "Kid");
    const seq = await receiveUntil(bob, isSubject("family"));
    const subject = seq[seq.length - 1];
    assert.equal(subject?.getChildText("subject"), "Dinner plans");
    assert.equal(subject?.attrs.from, roomJid("family", "Mom"));
    const history = seq
      .filter((el) => el.name === "message" && el.getChild("body"))
      .map((el) => el.getChildText("body"));
    assert.deepEqual(history, ["m2", "m3", "m4"], "the last history length messages, restored from the archive");
    const again = await alice.expect(presenceFrom(roomJid("family", "Kid")));
    assert.equal(again.getChild("occupant-id", "urn:xmpp:occupant-id:0")?.attrs.id, beforeId);
    assert.equal(item(again)?.attrs.affiliation, "member");

    const mallory = await login("mallory");
    assert.equal(await joinError(mallory, "family", "M"), "forbidden");
    const carol = await login("carol");
    assert.equal(item(await join(carol, "family", "Aunt"))?.attrs.affiliation, "admin");
    // The reserved nick still belongs to Bob.
    assert.deepEqual(
      (await list(alice, "family", { affiliation: "member" })).map((i) => [i.attrs.jid, i.attrs.nick]),
      [["bob@localhost", "Kid"]],
    );
    const form = await alice.iq(xml("iq", { type: "get", to: roomJid("family") }, xml("query", { xmlns: MUC_OWNER })));
    const values = new Map(
      (form.getChild("query", MUC_OWNER)?.getChild("x", NS.dataForms)?.getChildren("field") ?? []).map((f) => [
        f.attrs.var,
        f.getChildText("value"),
      ]),
    );
    assert.equal(values.get("muc#roomconfig_roomname"), "The Family");
    assert.equal(values.get("muc#roomconfig_membersonly"), "1");
    const vcard = await bob.iq(
      xml("iq", { type: "get", to: roomJid("family") }, xml("vCard", { xmlns: "vcard-temp" })),
    );
    assert.equal(vcard.getChild("vCard", "vcard-temp")?.getChildText("FN"), "Family room");
    const archive = await mamQuery(bob, { to: roomJid("family") });
    assert.deepEqual(bodies(archive), ["m1", "m2", "m3", "m4"]);

    // The temporary room is gone: entering creates a new one.
    const fresh = await join(carol, "fleeting", "Carol");
    assert.ok(codes(fresh).includes("201"));
    await Promise.all([alice.close(), bob.close(), carol.close(), mallory.close()]);
  });

  it("autojoins the rooms of XEP-0402 bookmarks after a restart", async () => {
    const BM2 = "urn:xmpp:bookmarks:1";
    let alice = await login("alice");
    await createRoom(alice, "bookclub", "Alice", { "muc#roomconfig_persistentroom": "1" });
    const r = await publish(
      alice,
      BM2,
      xml("conference", { xmlns: BM2, name: "Book club", autojoin: "true" }, xml("nick", null, "Reader")),
      {
        id: roomJid("bookclub"),
        options: { "pubsub#persist_items": "true", "pubsub#max_items": "max", "pubsub#access_model": "whitelist" },
      },
    );
    assert.equal(r.attrs.type, "result", `${r}`);
    say(alice, "bookclub", "Chapter 3 tonight");
    await alice.expect(groupchat("Chapter 3 tonight"));
    await alice.close();
    ts = await ts.restart();

    // What a client does on login: read the bookmarks, send presence to every autojoin room.
    alice = await login("alice");
    const items = itemsOf(await getItems(alice, BM2));
    const autojoin = items.filter((i) => i.getChild("conference", BM2)?.attrs.autojoin === "true");
    assert.deepEqual(
      autojoin.map((i) => i.attrs.id),
      [roomJid("bookclub")],
    );
    const nick = autojoin[0]?.getChild("conference", BM2)?.getChildText("nick") ?? "";
    sendJoin(alice, "bookclub", nick);
    const seq = await receiveUntil(alice, isSubject("bookclub"));
    const self = seq.find((el) => presenceFrom(roomJid("bookclub", "Reader"))(el) && codes(el).includes("110"));
    assert.equal(item(self!)?.attrs.affiliation, "owner");
    assert.ok(seq.some((el) => el.getChildText("body") === "Chapter 3 tonight"));
    await alice.close();
  });

  it("drops a deleted account's affiliations and reserved nick", async () => {
    const alice = await login("alice");
    await createRoom(alice, "members-club", "Alice", { "muc#roomconfig_persistentroom": "1" });
    await admin(
      alice,
      "members-club",
      "set",
      xml("item", { jid: "carol@localhost", affiliation: "member", nick: "Caz" }),
    );
    const carol = await login("carol");
    // XEP-0077 §3.2: Carol deletes her account from her client.
    const removed = await carol.iq(
      xml("iq", { type: "set" }, xml("query", { xmlns: "jabber:iq:register" }, xml("remove"))),
    );
    assert.equal(removed.attrs.type, "result", `${removed}`);
    assert.deepEqual(await list(alice, "members-club", { affiliation: "member" }), []);
    const stored = await ts.server.core.storage.muc.affiliations("conference.localhost", "members-club");
    assert.deepEqual(
      stored.map((a) => a.jid),
      ["alice@localhost"],
    );
    carol.conn.destroy();
    await alice.close();
  });

  it("forgets a room that stops being persistent", async () => {
    let alice = await login("alice");
    await createRoom(alice, "phase", "Alice", { "muc#roomconfig_persistentroom": "1" });
    const r = await alice.iq(
      xml(
        "iq",
        { type: "set", to: roomJid("phase") },
        xml(
          "query",
          { xmlns: MUC_OWNER },
          xml(
            "x",
            { xmlns: NS.dataForms, type: "submit" },
            xml("field", { var: "muc#roomconfig_persistentroom" }, xml("value", null, "0")),
          ),
        ),
      ),
    );
    assert.equal(r.attrs.type, "result");
    await alice.close();
    ts = await ts.restart();
    alice = await login("alice");
    const self = await join(alice, "phase", "Alice");
    assert.ok(codes(self).includes("201"));
    await alice.close();
  });
});
