import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import { connectClient, RawConnection } from "../helpers/client.ts";
import { connectComponent } from "../helpers/component.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

describe("external components (XEP-0114)", () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({
      users: [["alice@localhost", "pw"]],
      config: { components: { "gateway.localhost": { secret: "s3cret" } } },
    });
  });
  after(() => ts.stop());

  it("routes stanzas for its domain to the component and its replies back to the user", async () => {
    const gw = await connectComponent(ts, "gateway.localhost", "s3cret");
    const alice = await connectClient(ts, "alice@localhost", "pw", { resource: "pc" });
    alice.send(xml("message", { to: "someone@gateway.localhost", type: "chat" }, xml("body", null, "to the bridge")));
    const got = await gw.expect((el) => el.name === "message");
    assert.equal(got.attrs.from, "alice@localhost/pc");
    assert.equal(got.attrs.to, "someone@gateway.localhost");
    assert.equal(got.getChildText("body"), "to the bridge");

    gw.send(
      xml(
        "message",
        { from: "someone@gateway.localhost", to: "alice@localhost/pc", type: "chat" },
        xml("body", null, "from the bridge"),
      ),
    );
    const back = await alice.expectStanza("message", "chat");
    assert.equal(back.attrs.from, "someone@gateway.localhost");
    assert.equal(back.getChildText("body"), "from the bridge");

    // An iq from the user to the component's domain is answered by the component.
    const iq = alice.iq(xml("iq", { type: "get", to: "gateway.localhost" }, xml("query", { xmlns: NS.discoInfo })));
    const req = await gw.expect((el) => el.name === "iq");
    gw.send(
      xml(
        "iq",
        { type: "result", id: req.attrs.id, from: "gateway.localhost", to: req.attrs.from },
        xml("query", { xmlns: NS.discoInfo }, xml("identity", { category: "gateway", type: "irc" })),
      ),
    );
    const answer = await iq;
    assert.equal(answer.attrs.type, "result");
    assert.equal(answer.getChild("query", NS.discoInfo)?.getChild("identity")?.attrs.type, "irc");
    await alice.close();
    gw.close();
  });

  it("refuses a wrong secret with not-authorized", async () => {
    await assert.rejects(connectComponent(ts, "gateway.localhost", "wrong"), /not-authorized/);
  });

  it("refuses an unconfigured domain with host-unknown", async () => {
    const conn = await RawConnection.open(ts.componentPort);
    conn.openStream("other.localhost", {}, NS.componentAccept);
    assert.equal(await conn.streamError(), "host-unknown");
  });

  it("closes a component that sends from outside its domain with invalid-from", async () => {
    const gw = await connectComponent(ts, "gateway.localhost", "s3cret");
    gw.send("<message from='alice@localhost' to='alice@localhost'><body>spoof</body></message>");
    assert.equal(await gw.conn.streamError(), "invalid-from");
  });

  it("bounces stanzas to a configured but disconnected component with service-unavailable", async () => {
    const alice = await connectClient(ts, "alice@localhost", "pw");
    const r = await alice.iq(xml("iq", { type: "get", to: "gateway.localhost" }, xml("ping", { xmlns: NS.ping })));
    assert.equal(r.attrs.type, "error");
    assert.ok(r.getChild("error")?.getChild("service-unavailable", NS.stanzaErrors));
    await alice.close();
  });

  it("replaces an older connection of the same component", async () => {
    const first = await connectComponent(ts, "gateway.localhost", "s3cret");
    const second = await connectComponent(ts, "gateway.localhost", "s3cret");
    assert.equal(await first.conn.streamError(), "conflict");
    second.close();
  });
});

describe("remote domains without federation", () => {
  it("bounces stanzas to other domains with remote-server-not-found", async () => {
    const ts = await startTestServer({ users: [["alice@localhost", "pw"]] });
    try {
      const alice = await connectClient(ts, "alice@localhost", "pw");
      alice.send(xml("message", { to: "bob@example.org", type: "chat", id: "m1" }, xml("body", null, "hi")));
      const err = await alice.expectStanza("message", "error");
      assert.equal(err.attrs.id, "m1");
      assert.equal(err.attrs.from, "bob@example.org");
      assert.ok(err.getChild("error")?.getChild("remote-server-not-found", NS.stanzaErrors));
      await alice.close();
    } finally {
      await ts.stop();
    }
  });
});
