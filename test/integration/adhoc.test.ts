import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { XmlElement } from "../../src/xml/element.ts";
import { xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import { connectClient, type TestClient } from "../helpers/client.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { canLogin, command, fieldValues, submit } from "./accounts-fixtures.ts";
import { errorCondition, withBody } from "./im-fixtures.ts";

const ADMIN = "http://jabber.org/protocol/admin";
const node = (name: string) => `${ADMIN}#${name}`;

function commandOf(iq: XmlElement): XmlElement {
  const c = iq.getChild("command", NS.commands);
  assert.ok(c, `a command element in ${iq}`);
  return c;
}

/** The XEP-0050 condition next to the RFC 6120 one. */
function commandCondition(iq: XmlElement): string | undefined {
  return iq
    .getChild("error")
    ?.elements()
    .find((e) => e.attrs.xmlns === NS.commands)?.name;
}

async function commandList(c: TestClient): Promise<string[]> {
  const r = await c.iq(
    xml("iq", { type: "get", to: "localhost" }, xml("query", { xmlns: NS.discoItems, node: NS.commands })),
  );
  assert.equal(r.attrs.type, "result");
  return (r.getChild("query", NS.discoItems)?.getChildren("item") ?? []).map((i) => i.attrs.node as string);
}

/** Runs a one-form command: execute, then complete with the fields. Returns the final answer. */
async function runForm(c: TestClient, name: string, fields: Record<string, string | string[]>): Promise<XmlElement> {
  const first = await command(c, node(name));
  const cmd = commandOf(first);
  assert.equal(cmd.attrs.status, "executing");
  return command(c, node(name), { action: "complete", sessionid: cmd.attrs.sessionid, form: submit(fields, ADMIN) });
}

const note = (iq: XmlElement) => commandOf(iq).getChildText("note") ?? "";

describe("ad-hoc commands (XEP-0050) and admin commands (XEP-0133)", () => {
  let ts: TestServer;
  let admin: TestClient;
  let alice: TestClient;
  before(async () => {
    ts = await startTestServer({
      users: [
        ["admin@localhost", "admin-pw"],
        ["alice@localhost", "alice-pw"],
        ["bob@localhost", "bob-pw"],
      ],
      config: { admins: ["admin@localhost"] },
    });
    admin = await connectClient(ts, "admin@localhost", "admin-pw", { resource: "console", presence: true });
    alice = await connectClient(ts, "alice@localhost", "alice-pw", { resource: "phone", presence: true });
  });
  after(async () => {
    await admin.close();
    await alice.close();
    await ts.stop();
  });

  it("advertises the commands feature and lists only what the requester may run", async () => {
    const info = await alice.iq(xml("iq", { type: "get", to: "localhost" }, xml("query", { xmlns: NS.discoInfo })));
    const features =
      info
        .getChild("query")
        ?.getChildren("feature")
        .map((f) => f.attrs.var) ?? [];
    assert.ok(features.includes(NS.commands));

    const forAlice = await commandList(alice);
    assert.ok(forAlice.includes("urn:xmpp:invite#invite"), "users may invite contacts");
    assert.equal(forAlice.filter((n) => n.startsWith(ADMIN)).length, 0, "a non-admin sees no admin commands");
    const forAdmin = await commandList(admin);
    for (const name of ["add-user", "delete-user", "change-user-password", "get-online-users-list", "announce"]) {
      assert.ok(forAdmin.includes(node(name)), name);
    }
    assert.ok(forAdmin.includes("urn:xmpp:invite#create-account"));

    // §2.3: a command node describes itself.
    const nodeInfo = await admin.iq(
      xml("iq", { type: "get", to: "localhost" }, xml("query", { xmlns: NS.discoInfo, node: node("add-user") })),
    );
    const id = nodeInfo.getChild("query")?.getChild("identity");
    assert.equal(id?.attrs.category, "automation");
    assert.equal(id?.attrs.type, "command-node");
    const hidden = await alice.iq(
      xml("iq", { type: "get", to: "localhost" }, xml("query", { xmlns: NS.discoInfo, node: node("add-user") })),
    );
    assert.equal(errorCondition(hidden), "item-not-found", "non-admins learn nothing about admin nodes");
  });

  it("refuses admin commands to a non-admin and unknown nodes to anyone", async () => {
    assert.equal(errorCondition(await command(alice, node("add-user"))), "forbidden");
    assert.equal(errorCondition(await command(alice, node("announce"))), "forbidden");
    assert.equal(errorCondition(await command(admin, "urn:example:nope")), "item-not-found");
  });

  it("adds a user with a form in a session; a taken name is a conflict; mismatched passwords are refused", async () => {
    const first = await command(admin, node("add-user"));
    const cmd = commandOf(first);
    assert.equal(cmd.attrs.status, "executing");
    assert.ok(cmd.attrs.sessionid);
    assert.equal(cmd.getChild("actions")?.attrs.execute, "complete");
    assert.deepEqual(fieldValues(cmd, "FORM_TYPE"), [ADMIN]);
    const done = await command(admin, node("add-user"), {
      action: "complete",
      sessionid: cmd.attrs.sessionid,
      form: submit({ accountjid: "carol@localhost", password: "carol-pw", "password-verify": "carol-pw" }, ADMIN),
    });
    assert.equal(commandOf(done).attrs.status, "completed");
    assert.equal(commandOf(done).attrs.sessionid, cmd.attrs.sessionid);
    assert.ok(await canLogin(ts, "carol", "carol-pw"));

    const dup = await runForm(admin, "add-user", {
      accountjid: "carol@localhost",
      password: "x",
      "password-verify": "x",
    });
    assert.equal(errorCondition(dup), "conflict");
    const mismatch = await runForm(admin, "add-user", {
      accountjid: "dave@localhost",
      password: "a",
      "password-verify": "b",
    });
    assert.equal(errorCondition(mismatch), "bad-request");
    const elsewhere = await runForm(admin, "add-user", {
      accountjid: "dave@example.org",
      password: "a",
      "password-verify": "a",
    });
    assert.equal(errorCondition(elsewhere), "bad-request", "only accounts of this host");
    assert.equal(await canLogin(ts, "dave", "a"), false);
  });

  it("keeps sessions to their owner and follows the actions the last step allowed", async () => {
    const first = commandOf(await command(admin, node("change-user-password")));
    const sessionid = first.attrs.sessionid as string;
    // Another resource, even of the same account, cannot continue it.
    const other = await connectClient(ts, "admin@localhost", "admin-pw", { resource: "other" });
    const stolen = await command(other, node("change-user-password"), { sessionid, action: "complete" });
    assert.equal(commandCondition(stolen), "bad-sessionid");
    await other.close();
    assert.equal(
      commandCondition(await command(admin, node("change-user-password"), { sessionid: "nope" })),
      "bad-sessionid",
    );
    // Only "complete" was offered.
    const next = await command(admin, node("change-user-password"), { sessionid, action: "next" });
    assert.equal(commandCondition(next), "bad-action");
    assert.equal(
      commandCondition(await command(admin, node("announce"), { action: "frobnicate" })),
      "malformed-action",
    );
    // Cancel ends the session.
    const canceled = await command(admin, node("change-user-password"), { sessionid, action: "cancel" });
    assert.equal(commandOf(canceled).attrs.status, "canceled");
    assert.equal(commandCondition(await command(admin, node("change-user-password"), { sessionid })), "bad-sessionid");

    // "execute" in a session means the default action (complete here).
    const again = commandOf(await command(admin, node("change-user-password")));
    const done = await command(admin, node("change-user-password"), {
      sessionid: again.attrs.sessionid,
      form: submit({ accountjid: "carol@localhost", password: "carol-new" }, ADMIN),
    });
    assert.equal(commandOf(done).attrs.status, "completed", done.toString());
    assert.equal(await canLogin(ts, "carol", "carol-pw"), false);
    assert.ok(await canLogin(ts, "carol", "carol-new"));
    const missing = await runForm(admin, "change-user-password", { accountjid: "nobody@localhost", password: "x" });
    assert.equal(errorCondition(missing), "item-not-found");
  });

  it("lists and counts online users", async () => {
    const laptop = await connectClient(ts, "alice@localhost", "alice-pw", { resource: "laptop" });
    const list = await command(admin, node("get-online-users-list"));
    assert.equal(commandOf(list).attrs.status, "completed");
    assert.deepEqual(fieldValues(commandOf(list), "onlineuserjids"), ["admin@localhost", "alice@localhost"]);
    const num = await command(admin, node("get-online-users-num"));
    assert.deepEqual(fieldValues(commandOf(num), "onlineusersnum"), ["2"]);
    const registered = await command(admin, node("get-registered-users-num"));
    assert.deepEqual(fieldValues(commandOf(registered), "registeredusersnum"), ["4"]);
    await laptop.close();
  });

  it("announces to every online session and to nobody offline", async () => {
    const laptop = await connectClient(ts, "alice@localhost", "alice-pw", { resource: "laptop" });
    const r = await runForm(admin, "announce", { announcement: ["Maintenance at 22:00.", "Back soon."] });
    assert.equal(commandOf(r).attrs.status, "completed", r.toString());
    assert.match(note(r), /3 sessions/);
    const text = "Maintenance at 22:00.\nBack soon.";
    for (const c of [alice, laptop, admin]) {
      const m = await c.expect(withBody(text));
      assert.equal(m.attrs.from, "localhost");
    }
    await laptop.close();
    // Bob was offline: nothing waits for him.
    const bob = await connectClient(ts, "bob@localhost", "bob-pw", { presence: true });
    await bob.nothing(300, withBody(text));
    await bob.close();
    assert.equal(await ts.server.core.storage.offline.count("localhost", "bob"), 0);
    const empty = await runForm(admin, "announce", { announcement: "" });
    assert.equal(errorCondition(empty), "bad-request");
  });

  it("deletes users: their sessions end and their accounts are gone; not oneself, not the unknown", async () => {
    const carol = await connectClient(ts, "carol@localhost", "carol-new", { presence: true });
    const r = await runForm(admin, "delete-user", { accountjids: ["carol@localhost"] });
    assert.equal(commandOf(r).attrs.status, "completed", r.toString());
    assert.equal(await carol.conn.streamError(), "not-authorized");
    carol.conn.destroy();
    assert.equal(await canLogin(ts, "carol", "carol-new"), false);
    assert.equal(await ts.server.core.storage.accounts.exists("localhost", "carol"), false);
    assert.equal(
      errorCondition(await runForm(admin, "delete-user", { accountjids: ["carol@localhost"] })),
      "item-not-found",
    );
    assert.equal(
      errorCondition(await runForm(admin, "delete-user", { accountjids: ["admin@localhost"] })),
      "not-allowed",
    );
    assert.equal(
      errorCondition(await runForm(admin, "delete-user", { accountjids: ["not a jid@@"] })),
      "jid-malformed",
    );
    assert.ok(await canLogin(ts, "admin", "admin-pw"));
  });
});
