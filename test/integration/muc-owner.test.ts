/**
 * XEP-0045 §10.1-§10.2 (configuration), §10.2.1 (notices), §10.9 (destruction), §10.1.4 (unique names), §7.10
 * and §7.12 (registration, reserved nicks), room avatars (vCard).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, afterEach, before, describe, it } from "node:test";
import { type XmlElement, xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import { connectClient, type TestClient } from "../helpers/client.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import {
  codes,
  configure,
  createRoom,
  errorCondition,
  item,
  join,
  joinError,
  MUC_OWNER,
  MUC_USER,
  presenceFrom,
  ROOMCONFIG,
  roomJid,
  SERVICE,
} from "./muc-fixtures.ts";

const USERS = ["alice", "bob", "carol"];
const REGISTER = "jabber:iq:register";

function formValues(x: XmlElement | undefined): Map<string, string[]> {
  return new Map(
    (x?.getChildren("field") ?? []).map((f) => [f.attrs.var ?? "", f.getChildren("value").map((v) => v.text())]),
  );
}

describe("MUC: owners configure and destroy rooms (XEP-0045 §10), registration (§7.10)", () => {
  let ts: TestServer;
  const open: TestClient[] = [];
  const login = async (user: string) => {
    const c = await connectClient(ts, `${user}@localhost`, "pw", { presence: true });
    open.push(c);
    return c;
  };
  const getConfig = (c: TestClient, room: string) =>
    c.iq(xml("iq", { type: "get", to: roomJid(room) }, xml("query", { xmlns: MUC_OWNER })));
  before(async () => {
    ts = await startTestServer({ users: USERS.map((u) => [`${u}@localhost`, "pw"]) });
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });
  after(() => ts.stop());

  it("creates a reserved room through the configuration form (§10.1.3)", async () => {
    const [alice, bob] = await Promise.all([login("alice"), login("bob")]);
    await join(alice, "reserved", "Alice");
    const form = await getConfig(alice, "reserved");
    assert.equal(form.attrs.type, "result");
    const x = form.getChild("query", MUC_OWNER)?.getChild("x", NS.dataForms);
    assert.equal(x?.attrs.type, "form");
    const values = formValues(x);
    assert.deepEqual(values.get("FORM_TYPE"), [ROOMCONFIG]);
    for (const field of [
      "muc#roomconfig_roomname",
      "muc#roomconfig_roomdesc",
      "muc#roomconfig_persistentroom",
      "muc#roomconfig_publicroom",
      "muc#roomconfig_membersonly",
      "muc#roomconfig_moderatedroom",
      "muc#roomconfig_passwordprotectedroom",
      "muc#roomconfig_roomsecret",
      "muc#roomconfig_maxusers",
      "muc#roomconfig_whois",
      "muc#maxhistoryfetch",
      "muc#roomconfig_allowpm",
      "muc#roomconfig_allowinvites",
      "muc#roomconfig_changesubject",
      "muc#roomconfig_enablearchiving",
    ]) {
      assert.ok(values.has(field), `form has ${field}`);
    }
    // Still locked while being configured.
    assert.equal(await joinError(bob, "reserved", "Bob"), "item-not-found");
    const r = await configure(alice, "reserved", {
      "muc#roomconfig_roomname": "The Reserve",
      "muc#roomconfig_maxusers": "10",
      "muc#maxhistoryfetch": "5",
    });
    assert.equal(r.attrs.type, "result");
    const after = formValues(
      (await getConfig(alice, "reserved")).getChild("query", MUC_OWNER)?.getChild("x", NS.dataForms),
    );
    assert.deepEqual(after.get("muc#roomconfig_roomname"), ["The Reserve"]);
    assert.deepEqual(after.get("muc#roomconfig_maxusers"), ["10"]);
    assert.deepEqual(after.get("muc#maxhistoryfetch"), ["5"]);
    await join(bob, "reserved", "Bob");
    // Only owners see or change the configuration.
    assert.equal(errorCondition(await getConfig(bob, "reserved")), "forbidden");
    assert.equal(errorCondition(await configure(bob, "reserved", {})), "forbidden");
  });

  it("refuses unacceptable values (§10.2: not-acceptable)", async () => {
    const [alice] = await Promise.all([login("alice")]);
    await createRoom(alice, "strict", "Alice");
    assert.equal(
      errorCondition(await configure(alice, "strict", { "muc#roomconfig_maxusers": "1000000" })),
      "not-acceptable",
    );
    assert.equal(
      errorCondition(await configure(alice, "strict", { "muc#roomconfig_whois": "everyone" })),
      "not-acceptable",
    );
    assert.equal(
      errorCondition(await configure(alice, "strict", { "muc#roomconfig_passwordprotectedroom": "1" })),
      "not-acceptable",
    );
    assert.equal(
      errorCondition(await configure(alice, "strict", { "muc#roomconfig_membersonly": "maybe" })),
      "not-acceptable",
    );
  });

  it("destroys the room when the initial configuration is cancelled (§10.1.3)", async () => {
    const [alice] = await Promise.all([login("alice")]);
    await join(alice, "cancelled", "Alice");
    const cancel = await alice.iq(
      xml(
        "iq",
        { type: "set", to: roomJid("cancelled") },
        xml("query", { xmlns: MUC_OWNER }, xml("x", { xmlns: NS.dataForms, type: "cancel" })),
      ),
    );
    assert.equal(cancel.attrs.type, "result");
    const gone = await alice.expect(presenceFrom(roomJid("cancelled", "Alice"), "unavailable"));
    assert.ok(gone.getChild("x", MUC_USER)?.getChild("destroy"));
  });

  it("tells occupants about configuration changes with 104 and privacy codes, and applies them (§10.2.1)", async () => {
    const [alice, bob, carol] = await Promise.all([login("alice"), login("bob"), login("carol")]);
    await createRoom(alice, "changes", "Alice");
    await join(bob, "changes", "Bob");
    await join(carol, "changes", "Carol");
    await bob.expect(presenceFrom(roomJid("changes", "Alice")));
    await configure(alice, "changes", { "muc#roomconfig_whois": "anyone", "muc#roomconfig_enablearchiving": "0" });
    const notice = await bob.expect(
      (el) => el.name === "message" && el.attrs.from === roomJid("changes") && codes(el).length > 0,
    );
    assert.deepEqual(codes(notice).sort(), ["104", "171", "172"]);
    // Non-anonymous now: Bob learns the real JIDs.
    const revealed = await bob.expect(
      (el) => presenceFrom(roomJid("changes", "Carol"))(el) && item(el)?.attrs.jid !== undefined,
    );
    assert.equal(item(revealed)?.attrs.jid, carol.jid);
    // Members-only now: non-members leave with 322.
    await configure(alice, "changes", { "muc#roomconfig_membersonly": "1" });
    const out = await bob.expect(presenceFrom(roomJid("changes", "Bob"), "unavailable"));
    assert.deepEqual(codes(out).sort(), ["110", "322"]);
    await carol.expect(presenceFrom(roomJid("changes", "Carol"), "unavailable"));
  });

  it("destroys a room with an alternate venue and reason (§10.9)", async () => {
    const [alice, bob] = await Promise.all([login("alice"), login("bob")]);
    await createRoom(alice, "doomed", "Alice", { "muc#roomconfig_persistentroom": "1" });
    await join(bob, "doomed", "Bob");
    assert.equal(
      errorCondition(
        await bob.iq(
          xml("iq", { type: "set", to: roomJid("doomed") }, xml("query", { xmlns: MUC_OWNER }, xml("destroy"))),
        ),
      ),
      "forbidden",
    );
    const r = await alice.iq(
      xml(
        "iq",
        { type: "set", to: roomJid("doomed") },
        xml("query", { xmlns: MUC_OWNER }, xml("destroy", { jid: roomJid("newplace") }, xml("reason", null, "Moved"))),
      ),
    );
    assert.equal(r.attrs.type, "result");
    const p = await bob.expect(presenceFrom(roomJid("doomed", "Bob"), "unavailable"));
    const destroy = p.getChild("x", MUC_USER)?.getChild("destroy");
    assert.equal(destroy?.attrs.jid, roomJid("newplace"));
    assert.equal(destroy?.getChildText("reason"), "Moved");
    assert.equal(item(p)?.attrs.role, "none");
    // Gone, also from storage: joining creates a new room.
    const again = await join(bob, "doomed", "Bob");
    assert.ok(codes(again).includes("201"));
  });

  it("suggests a unique room name (§10.1.4)", async () => {
    const alice = await login("alice");
    const r = await alice.iq(
      xml("iq", { type: "get", to: SERVICE }, xml("unique", { xmlns: "http://jabber.org/protocol/muc#unique" })),
    );
    const name = r.getChild("unique", "http://jabber.org/protocol/muc#unique")?.text();
    assert.match(name ?? "", /^[0-9a-f]{12}$/);
  });

  it("registers a nick with a room: membership, reserved nick, discoverable (§7.10, §7.12)", async () => {
    const [alice, bob, carol] = await Promise.all([login("alice"), login("bob"), login("carol")]);
    await createRoom(alice, "reg", "Alice");
    const form = await bob.iq(xml("iq", { type: "get", to: roomJid("reg") }, xml("query", { xmlns: REGISTER })));
    const x = form.getChild("query", REGISTER)?.getChild("x", NS.dataForms);
    assert.deepEqual(formValues(x).get("FORM_TYPE"), ["http://jabber.org/protocol/muc#register"]);
    const submit = (c: TestClient, nick: string) =>
      c.iq(
        xml(
          "iq",
          { type: "set", to: roomJid("reg") },
          xml(
            "query",
            { xmlns: REGISTER },
            xml(
              "x",
              { xmlns: NS.dataForms, type: "submit" },
              xml("field", { var: "FORM_TYPE" }, xml("value", null, "http://jabber.org/protocol/muc#register")),
              xml("field", { var: "muc#register_roomnick" }, xml("value", null, nick)),
            ),
          ),
        ),
      );
    assert.equal((await submit(bob, "Bobby")).attrs.type, "result");
    assert.equal(errorCondition(await submit(carol, "Bobby")), "conflict");
    const registered = await bob.iq(xml("iq", { type: "get", to: roomJid("reg") }, xml("query", { xmlns: REGISTER })));
    assert.ok(registered.getChild("query", REGISTER)?.getChild("registered"));
    assert.equal(registered.getChild("query", REGISTER)?.getChildText("username"), "Bobby");
    // §7.12: Bob's client discovers the reserved nick.
    const info = await bob.iq(
      xml("iq", { type: "get", to: roomJid("reg") }, xml("query", { xmlns: NS.discoInfo, node: "x-roomuser-item" })),
    );
    assert.equal(info.getChild("query", NS.discoInfo)?.getChild("identity")?.attrs.name, "Bobby");
    // Carol cannot enter as Bobby; Bob enters as a member.
    assert.equal(await joinError(carol, "reg", "Bobby"), "conflict");
    const self = await join(bob, "reg", "Bobby");
    assert.equal(item(self)?.attrs.affiliation, "member");
  });

  it("keeps a room vCard set by owners and announces its avatar hash (XEP-0054, XEP-0486)", async () => {
    const [alice, bob] = await Promise.all([login("alice"), login("bob")]);
    await createRoom(alice, "pretty", "Alice");
    await join(bob, "pretty", "Bob");
    const png = Buffer.from("not really a png").toString("base64");
    const vcard = xml(
      "vCard",
      { xmlns: "vcard-temp" },
      xml("PHOTO", null, xml("TYPE", null, "image/png"), xml("BINVAL", null, png)),
    );
    assert.equal(
      errorCondition(await bob.iq(xml("iq", { type: "set", to: roomJid("pretty") }, vcard.clone()))),
      "forbidden",
    );
    const set = await alice.iq(xml("iq", { type: "set", to: roomJid("pretty") }, vcard));
    assert.equal(set.attrs.type, "result");
    const hash = createHash("sha1").update(Buffer.from(png, "base64")).digest("hex");
    const update = await bob.expect((el) => el.name === "presence" && el.attrs.from === roomJid("pretty"));
    assert.equal(update.getChild("x", "vcard-temp:x:update")?.getChildText("photo"), hash);
    const got = await bob.iq(xml("iq", { type: "get", to: roomJid("pretty") }, xml("vCard", { xmlns: "vcard-temp" })));
    assert.equal(got.getChild("vCard", "vcard-temp")?.getChild("PHOTO")?.getChildText("BINVAL"), png);
    const info = await bob.iq(xml("iq", { type: "get", to: roomJid("pretty") }, xml("query", { xmlns: NS.discoInfo })));
    const roominfo = formValues(info.getChild("query", NS.discoInfo)?.getChild("x", NS.dataForms));
    assert.deepEqual(roominfo.get("muc#roominfo_avatarhash"), [hash]);
  });
});
