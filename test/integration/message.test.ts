import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Element as XmppElement, client as xmppClient, xml as xmppXml } from "@xmpp/client";
import { type XmlElement, xml } from "../../src/xml/element.ts";
import { connectClient, type TestClient } from "../helpers/client.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { errorCondition, message, presence, withBody } from "./im-fixtures.ts";

const USERS = ["alice", "bob", "carol"];

describe("message delivery (RFC 6121 §8.5)", () => {
  let ts: TestServer;
  let alice: TestClient;
  /** Bob's resources by name, each available with the priority in its name. */
  const bob: Record<string, TestClient> = {};

  /** Logs Bob in with a resource that becomes available at `priority`, and waits until it is. */
  async function bobAt(resource: string, priority: number): Promise<TestClient> {
    const c = await connectClient(ts, "bob@localhost", "pw", {
      resource,
      presence: xml("presence", null, xml("priority", null, String(priority))),
    });
    await c.expect(presence("", c.jid));
    bob[resource] = c;
    return c;
  }

  /** Sends from Alice, then checks which of Bob's resources got it. */
  async function receivers(stanza: XmlElement, body: string): Promise<string[]> {
    alice.send(stanza);
    await new Promise((r) => setTimeout(r, 250));
    const got: string[] = [];
    for (const [name, c] of Object.entries(bob)) {
      const i = c.conn.received.findIndex((r) => r.kind === "element" && withBody(body)(r.el));
      if (i >= 0) {
        c.conn.received.splice(i, 1);
        got.push(name);
      }
    }
    return got.sort();
  }

  before(async () => {
    ts = await startTestServer({ users: USERS.map((u) => [`${u}@localhost`, "pw"]) });
    alice = await connectClient(ts, "alice@localhost", "pw", { resource: "desk", presence: true });
    await bobAt("five", 5);
    await bobAt("one", 1);
    await bobAt("minus", -1);
  });
  after(async () => {
    await Promise.all([alice, ...Object.values(bob)].map((c) => c.close()));
    await ts.stop();
  });

  it("sends chat and normal messages for a bare JID to the highest non-negative priority only (§8.5.2.1.1)", async () => {
    assert.deepEqual(await receivers(message("bob@localhost", "c1"), "c1"), ["five"]);
    assert.deepEqual(await receivers(message("bob@localhost", "n1", "normal"), "n1"), ["five"]);
    assert.deepEqual(await receivers(xml("message", { to: "bob@localhost" }, xml("body", null, "u1")), "u1"), ["five"]);
    // Hearth policy: every resource sharing the highest priority gets it.
    await bobAt("five-b", 5);
    assert.deepEqual(await receivers(message("bob@localhost", "c2"), "c2"), ["five", "five-b"]);
    // Headlines go to every non-negative resource.
    assert.deepEqual(await receivers(message("bob@localhost", "h1", "headline"), "h1"), ["five", "five-b", "one"]);
  });

  it("delivers to a full JID whatever its priority (§8.5.3.1)", async () => {
    assert.deepEqual(await receivers(message("bob@localhost/one", "f1"), "f1"), ["one"]);
    assert.deepEqual(await receivers(message("bob@localhost/minus", "f2"), "f2"), ["minus"]);
  });

  it("handles a full JID whose resource is gone by type (§8.5.3.2.1)", async () => {
    assert.deepEqual(await receivers(message("bob@localhost/gone", "g1"), "g1"), ["five", "five-b"]);
    assert.deepEqual(await receivers(message("bob@localhost/gone", "g2", "headline"), "g2"), []);
    const refused = alice.expect(
      (el) => el.name === "message" && el.attrs.type === "error" && el.getChildText("body") === "g4",
    );
    assert.deepEqual(await receivers(message("bob@localhost/gone", "g4", "normal"), "g4"), []);
    assert.equal(errorCondition(await refused), "service-unavailable");
    const bounce = alice.expect(
      (el) => el.name === "message" && el.attrs.type === "error" && el.getChildText("body") === "g3",
    );
    assert.deepEqual(await receivers(message("bob@localhost/gone", "g3", "groupchat"), "g3"), []);
    assert.equal(errorCondition(await bounce), "service-unavailable");
  });

  it("refuses groupchat to a bare JID (§8.5.2.1.1)", async () => {
    alice.send(message("bob@localhost", "gc", "groupchat", "gc-1"));
    const err = await alice.expect((el) => el.name === "message" && el.attrs.id === "gc-1");
    assert.equal(err.attrs.type, "error");
    assert.equal(errorCondition(err), "service-unavailable");
  });

  it("bounces messages to a missing account with service-unavailable (§8.5.1)", async () => {
    alice.send(message("nobody@localhost", "anyone?", "chat", "m-404"));
    const err = await alice.expect((el) => el.name === "message" && el.attrs.id === "m-404");
    assert.equal(err.attrs.type, "error");
    assert.equal(err.attrs.from, "nobody@localhost");
    assert.equal(err.attrs.to, alice.jid);
    assert.equal(err.getChildText("body"), "anyone?", "the original body comes back");
    assert.equal(errorCondition(err), "service-unavailable");
    // Nothing is stored for a missing account.
    assert.equal(await ts.server.core.storage.offline.count("localhost", "nobody"), 0);
  });

  it("answers an iq for an account's bare JID that nothing handles with service-unavailable", async () => {
    const res = await alice.iq(
      xml("iq", { type: "get", to: "bob@localhost" }, xml("query", { xmlns: "urn:example:unknown" })),
    );
    assert.equal(res.attrs.type, "error");
    assert.equal(errorCondition(res), "service-unavailable");
  });

  it("exchanges messages with a real client library (@xmpp/client over STARTTLS)", async () => {
    // The test server's certificate is self-signed.
    const previous = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
    const carol = xmppClient({
      service: `xmpp://127.0.0.1:${ts.c2sPort}`,
      domain: "localhost",
      username: "carol",
      password: "pw",
      resource: "lib",
    });
    carol.on("error", () => {});
    const seen = (pred: (s: XmppElement) => boolean) =>
      new Promise<XmppElement>((resolve) => {
        carol.on("stanza", (s: XmppElement) => {
          if (pred(s)) resolve(s);
        });
      });
    const ownPresence = seen((s) => s.is("presence") && s.attrs.from === "carol@localhost/lib");
    const hello = seen((s) => s.is("message") && s.getChildText("body") === "hello carol");
    try {
      const address = await carol.start();
      assert.equal(address.toString(), "carol@localhost/lib");
      await carol.send(xmppXml("presence"));
      // The server echoes initial presence to the account's own resources (RFC 6121 §4.2.2): Carol is available.
      await ownPresence;
      await carol.send(
        xmppXml("message", { to: "alice@localhost/desk", type: "chat" }, xmppXml("body", {}, "hi alice")),
      );
      const fromLib = await alice.expect(withBody("hi alice"));
      assert.equal(fromLib.attrs.from, "carol@localhost/lib");
      alice.send(message("carol@localhost", "hello carol"));
      assert.equal((await hello).attrs.from, alice.jid);
    } finally {
      await carol.stop().catch(() => {});
      if (previous === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = previous;
    }
  });
});
