import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type XmlElement, xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import { connectClient, type TestClient } from "../helpers/client.ts";
import { connectComponent, type TestComponent } from "../helpers/component.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { errorCondition, message, withBody } from "./im-fixtures.ts";

const PUSH = "urn:xmpp:push:0";
const PUBSUB = "http://jabber.org/protocol/pubsub";
const APP = "push.localhost";
const SECRET = "app-secret";
const components = { [APP]: { secret: SECRET } };

function publishOptions(secret: string): XmlElement {
  return xml(
    "x",
    { xmlns: NS.dataForms, type: "submit" },
    xml("field", { var: "FORM_TYPE" }, xml("value", null, "http://jabber.org/protocol/pubsub#publish-options")),
    xml("field", { var: "secret" }, xml("value", null, secret)),
  );
}

function enablePush(c: TestClient, node: string, secret = "device-secret", jid = APP): Promise<XmlElement> {
  return c.iq(xml("iq", { type: "set" }, xml("enable", { xmlns: PUSH, jid, node }, publishOptions(secret))));
}

function disablePush(c: TestClient, node?: string): Promise<XmlElement> {
  return c.iq(xml("iq", { type: "set" }, xml("disable", { xmlns: PUSH, jid: APP, node })));
}

/** A notification the app server received, decoded. */
interface Notification {
  iq: XmlElement;
  node: string;
  fields: Record<string, string>;
  options: Record<string, string>;
}

function formFields(form: XmlElement | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of form?.getChildren("field") ?? []) out[f.attrs.var ?? ""] = f.getChildText("value") ?? "";
  return out;
}

async function nextNotification(app: TestComponent, timeout = 2000): Promise<Notification> {
  const iq = await app.expect((el) => el.name === "iq" && el.getChild("pubsub", PUBSUB) !== undefined, timeout);
  const pubsub = iq.getChild("pubsub", PUBSUB) as XmlElement;
  const publish = pubsub.getChild("publish");
  const form = publish?.getChild("item")?.getChild("notification", PUSH)?.getChild("x", NS.dataForms);
  return {
    iq,
    node: publish?.attrs.node ?? "",
    fields: formFields(form),
    options: formFields(pubsub.getChild("publish-options")?.getChild("x", NS.dataForms)),
  };
}

/** The app server's answer to a notification. */
function answer(app: TestComponent, n: Notification, error?: XmlElement): void {
  app.send(xml("iq", { type: error ? "error" : "result", id: n.iq.attrs.id, from: APP, to: n.iq.attrs.from }, error));
}

const noPush = (app: TestComponent, ms = 300) => app.nothing(ms);

describe("push notifications (XEP-0357)", () => {
  let ts: TestServer;
  let app: TestComponent;
  let bob: TestClient;
  before(async () => {
    ts = await startTestServer({
      users: ["alice", "bob", "carol", "dave"].map((u) => [`${u}@localhost`, "pw"]),
      config: { components, c2s: { sm_resume_timeout: 5 } },
    });
    app = await connectComponent(ts, APP, SECRET);
    bob = await connectClient(ts, "bob@localhost", "pw", { resource: "b" });
  });
  after(async () => {
    await bob.close();
    app.close();
    await ts.stop();
  });

  it("is advertised on the account and validates requests", async () => {
    const alice = await connectClient(ts, "alice@localhost", "pw");
    const info = await alice.iq(
      xml("iq", { type: "get", to: "alice@localhost" }, xml("query", { xmlns: NS.discoInfo })),
    );
    assert.ok(
      info
        .getChild("query")
        ?.getChildren("feature")
        .some((f) => f.attrs.var === PUSH),
    );
    const noNode = await alice.iq(xml("iq", { type: "set" }, xml("enable", { xmlns: PUSH, jid: APP })));
    assert.equal(errorCondition(noNode), "bad-request");
    const badForm = await alice.iq(
      xml(
        "iq",
        { type: "set" },
        xml("enable", { xmlns: PUSH, jid: APP, node: "n" }, xml("x", { xmlns: NS.dataForms, type: "submit" })),
      ),
    );
    assert.equal(errorCondition(badForm), "bad-request");
    const foreign = await alice.iq(
      xml("iq", { type: "set", to: "bob@localhost" }, xml("enable", { xmlns: PUSH, jid: APP, node: "n" })),
    );
    assert.equal(errorCondition(foreign), "forbidden");
    await alice.close();
  });

  it("notifies the app server about a message for an offline user, without the body by default", async () => {
    const alice = await connectClient(ts, "alice@localhost", "pw", { presence: true });
    assert.equal((await enablePush(alice, "node-a")).attrs.type, "result");
    // Online: nothing to notify.
    bob.send(message("alice@localhost", "you are here"));
    await alice.expect(withBody("you are here"));
    await noPush(app);
    await alice.close();

    bob.send(message("alice@localhost", "secret text", "chat", "m1"));
    const n = await nextNotification(app);
    assert.equal(n.iq.attrs.type, "set");
    assert.equal(n.iq.attrs.from, "alice@localhost");
    assert.equal(n.iq.attrs.to, APP);
    assert.equal(n.node, "node-a");
    assert.equal(n.fields.FORM_TYPE, "urn:xmpp:push:summary");
    assert.equal(n.fields["message-count"], "1");
    assert.equal(n.fields["last-message-sender"], bob.jid);
    assert.equal(n.fields["last-message-body"], undefined, "privacy: no body unless configured");
    assert.equal(n.options.secret, "device-secret");
    answer(app, n);

    bob.send(message("alice@localhost", "again"));
    const second = await nextNotification(app);
    assert.equal(second.fields["message-count"], "2", "counts messages since the user was last online");
    answer(app, second);
    // No body, no notification (a chat state).
    bob.send(
      xml(
        "message",
        { to: "alice@localhost", type: "chat" },
        xml("composing", { xmlns: "http://jabber.org/protocol/chatstates" }),
      ),
    );
    await noPush(app);
    assert.equal(await ts.server.core.storage.offline.count("localhost", "alice"), 2);
  });

  it("notifies when the user's only session hibernates (XEP-0198), for queued and unacked messages", async () => {
    const carol = await connectClient(ts, "carol@localhost", "pw", { resource: "phone", presence: true });
    assert.equal((await enablePush(carol, "node-c")).attrs.type, "result");
    carol.send(xml("enable", { xmlns: "urn:xmpp:sm:3", resume: "true" }));
    await carol.expect((el) => el.name === "enabled");
    // Delivered to the socket but never acknowledged, then the network goes away.
    bob.send(message(carol.jid, "did you get this?"));
    await carol.expect(withBody("did you get this?"));
    await noPush(app, 200);
    carol.conn.destroy();
    const unacked = await nextNotification(app);
    assert.equal(unacked.node, "node-c");
    assert.equal(unacked.fields["message-count"], "1");
    answer(app, unacked);
    // While hibernating, each new message notifies.
    bob.send(message(carol.jid, "still there?"));
    const queued = await nextNotification(app);
    assert.equal(queued.fields["message-count"], "2");
    answer(app, queued);
  });

  it("keeps registrations across a restart", async () => {
    ts = await ts.restart();
    app = await connectComponent(ts, APP, SECRET);
    await bob.close();
    bob = await connectClient(ts, "bob@localhost", "pw", { resource: "b" });
    bob.send(message("alice@localhost", "after restart"));
    const n = await nextNotification(app);
    assert.equal(n.node, "node-a");
    assert.equal(n.options.secret, "device-secret");
    answer(app, n);
  });

  it("notifies every registered device, and stops after disable", async () => {
    const alice = await connectClient(ts, "alice@localhost", "pw");
    assert.equal((await enablePush(alice, "node-a2", "second")).attrs.type, "result");
    await alice.close();
    bob.send(message("alice@localhost", "two devices"));
    const a = await nextNotification(app);
    const b = await nextNotification(app);
    assert.deepEqual([a.node, b.node].sort(), ["node-a", "node-a2"]);
    answer(app, a);
    answer(app, b);

    const again = await connectClient(ts, "alice@localhost", "pw");
    assert.equal((await disablePush(again, "node-a2")).attrs.type, "result");
    await again.close();
    bob.send(message("alice@localhost", "one device"));
    const only = await nextNotification(app);
    assert.equal(only.node, "node-a");
    answer(app, only);
    await noPush(app);
  });

  it("drops a registration the app server refuses for good, keeps it on a passing error", async () => {
    const dave = await connectClient(ts, "dave@localhost", "pw");
    await enablePush(dave, "node-d");
    await dave.close();
    bob.send(message("dave@localhost", "first"));
    const wait = await nextNotification(app);
    answer(app, wait, xml("error", { type: "wait" }, xml("resource-constraint", { xmlns: NS.stanzaErrors })));
    bob.send(message("dave@localhost", "second"));
    const gone = await nextNotification(app);
    answer(app, gone, xml("error", { type: "cancel" }, xml("item-not-found", { xmlns: NS.stanzaErrors })));
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(await ts.server.core.storage.kv.keys("localhost", "dave", "push"), []);
    bob.send(message("dave@localhost", "third"));
    await noPush(app);
  });
});

describe("push notifications with message bodies", () => {
  it("includes the body when [push] include_body is on", async () => {
    const ts = await startTestServer({
      users: ["alice", "bob"].map((u) => [`${u}@localhost`, "pw"]),
      config: { components, push: { include_body: true, include_sender: false } },
    });
    const app = await connectComponent(ts, APP, SECRET);
    const alice = await connectClient(ts, "alice@localhost", "pw");
    await enablePush(alice, "n");
    await alice.close();
    const bob = await connectClient(ts, "bob@localhost", "pw");
    bob.send(message("alice@localhost", "hello there"));
    const n = await nextNotification(app);
    assert.equal(n.fields["last-message-body"], "hello there");
    assert.equal(n.fields["last-message-sender"], undefined);
    await bob.close();
    app.close();
    await ts.stop();
  });
});
