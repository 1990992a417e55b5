import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { capsVer } from "../../src/modules/caps.ts";
import { xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import { authenticate, connectClient, RawConnection } from "../helpers/client.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

describe("server information: disco, caps, version, time, last activity, contact addresses", () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({
      users: [
        ["alice@localhost", "pw"],
        ["bob@localhost", "pw"],
      ],
      config: {
        contact: { admin: ["xmpp:admin@localhost", "mailto:admin@example.org"], abuse: ["mailto:abuse@example.org"] },
      },
    });
  });
  after(() => ts.stop());

  const get = (ns: string, to = "localhost", attrs: Record<string, string> = {}) =>
    xml("iq", { type: "get", to }, xml("query", { xmlns: ns, ...attrs }));

  it("lists the server identity and the features of loaded modules in disco#info (XEP-0030)", async () => {
    const c = await connectClient(ts, "alice@localhost", "pw");
    const r = await c.iq(get(NS.discoInfo));
    const q = r.getChild("query", NS.discoInfo);
    assert.ok(q);
    const id = q.getChild("identity");
    assert.deepEqual([id?.attrs.category, id?.attrs.type], ["server", "im"]);
    const features = q.getChildren("feature").map((f) => f.attrs.var);
    for (const f of [NS.discoInfo, NS.discoItems, NS.ping, NS.version, NS.time, NS.last, "msgoffline"]) {
      assert.ok(features.includes(f), `feature ${f} advertised`);
    }
    assert.deepEqual(features, [...features].sort(), "features are sorted");
    await c.close();
  });

  it("publishes configured contact addresses as a XEP-0128 form (XEP-0157)", async () => {
    const c = await connectClient(ts, "alice@localhost", "pw");
    const q = (await c.iq(get(NS.discoInfo))).getChild("query", NS.discoInfo);
    const form = q?.getChild("x", NS.dataForms);
    assert.ok(form, "extended info form present");
    const field = (name: string) =>
      form
        .getChildren("field")
        .find((f) => f.attrs.var === name)
        ?.getChildren("value")
        .map((v) => v.text());
    assert.deepEqual(field("FORM_TYPE"), [NS.serverInfo]);
    assert.deepEqual(field("admin-addresses"), ["xmpp:admin@localhost", "mailto:admin@example.org"]);
    assert.deepEqual(field("abuse-addresses"), ["mailto:abuse@example.org"]);
    assert.equal(field("sales-addresses"), undefined, "unconfigured kinds are left out");
    await c.close();
  });

  it("answers disco#info on an account with account/registered, and refuses unknown accounts", async () => {
    const c = await connectClient(ts, "alice@localhost", "pw");
    const r = await c.iq(get(NS.discoInfo, "bob@localhost"));
    const id = r.getChild("query", NS.discoInfo)?.getChild("identity");
    assert.deepEqual([id?.attrs.category, id?.attrs.type], ["account", "registered"]);
    const none = await c.iq(get(NS.discoInfo, "nobody@localhost"));
    assert.equal(none.attrs.type, "error");
    await c.close();
  });

  it("advertises server caps (XEP-0115) whose hash matches its disco#info on the caps node", async () => {
    const conn = await RawConnection.open(ts.tlsPort, { tls: true });
    conn.openStream("localhost");
    await conn.streamOpen();
    await conn.element("stream:features");
    await authenticate(conn, "alice", "pw", "PLAIN");
    conn.resetParser();
    conn.openStream("localhost");
    await conn.streamOpen();
    const features = await conn.element("stream:features");
    const c = features.getChild("c", NS.caps);
    assert.ok(c, "caps in stream features");
    assert.equal(c.attrs.hash, "sha-1");
    conn.destroy();

    const client = await connectClient(ts, "alice@localhost", "pw");
    const r = await client.iq(get(NS.discoInfo, "localhost", { node: `${c.attrs.node}#${c.attrs.ver}` }));
    const q = r.getChild("query", NS.discoInfo);
    assert.ok(q);
    assert.equal(q.attrs.node, `${c.attrs.node}#${c.attrs.ver}`);
    assert.equal(capsVer(q), c.attrs.ver, "ver is the XEP-0115 hash of what disco#info says");
    const bad = await client.iq(get(NS.discoInfo, "localhost", { node: "urn:example:nope" }));
    assert.equal(bad.attrs.type, "error");
    await client.close();
  });

  it("computes the XEP-0115 §5.3 example verification string", () => {
    const info = xml(
      "query",
      { xmlns: NS.discoInfo },
      xml("identity", { category: "client", type: "pc", name: "Exodus 0.9.1" }),
      xml("feature", { var: "http://jabber.org/protocol/disco#info" }),
      xml("feature", { var: "http://jabber.org/protocol/disco#items" }),
      xml("feature", { var: "http://jabber.org/protocol/muc" }),
      xml("feature", { var: "http://jabber.org/protocol/caps" }),
    );
    assert.equal(capsVer(info), "QgayPKawpkPSDYmwT/WM94uAlu0=");
  });

  it("answers software version (XEP-0092) and entity time (XEP-0202)", async () => {
    const c = await connectClient(ts, "alice@localhost", "pw");
    const v = (await c.iq(get(NS.version))).getChild("query", NS.version);
    assert.equal(v?.getChildText("name"), "Hearth");
    assert.match(v?.getChildText("version") ?? "", /^\d+\.\d+\.\d+/);
    assert.equal(v?.getChild("os"), undefined, "the OS is not disclosed");
    const t = await c.iq(xml("iq", { type: "get", to: "localhost" }, xml("time", { xmlns: NS.time })));
    const utc = t.getChild("time", NS.time)?.getChildText("utc") ?? "";
    assert.ok(Math.abs(Date.parse(utc) - Date.now()) < 5000, `utc ${utc} is now`);
    await c.close();
  });

  it("reports server uptime and a contact's last activity only to those allowed (XEP-0012)", async () => {
    const alice = await connectClient(ts, "alice@localhost", "pw");
    const up = await alice.iq(get(NS.last));
    assert.match(up.getChild("query", NS.last)?.attrs.seconds ?? "", /^\d+$/);

    // Bob has been online and left; alice is not subscribed to bob's presence.
    const bob = await connectClient(ts, "bob@localhost", "pw", { presence: true });
    await bob.close();
    const denied = await alice.iq(get(NS.last, "bob@localhost"));
    assert.equal(denied.attrs.type, "error");
    assert.ok(denied.getChild("error")?.getChild("forbidden", NS.stanzaErrors));

    // Asking about oneself is always allowed; while online the answer is 0.
    const self = await alice.iq(get(NS.last, "alice@localhost"));
    assert.equal(self.getChild("query", NS.last)?.attrs.seconds, "0");
    await alice.close();
  });

  it("lists nothing extra in disco#items by default", async () => {
    const c = await connectClient(ts, "alice@localhost", "pw");
    const r = await c.iq(xml("iq", { type: "get", to: "localhost" }, xml("query", { xmlns: NS.discoItems })));
    assert.equal(r.attrs.type, "result");
    await c.close();
  });
});

describe("IP-literal and bare-hostname domains (intranet use)", () => {
  for (const domain of ["192.0.2.10", "[::1]", "chatserver"]) {
    it(`serves ${domain}`, async () => {
      const ts = await startTestServer({ hosts: [domain], users: [[`alice@${domain}`, "pw"]] });
      try {
        const c = await connectClient(ts, `alice@${domain}`, "pw", { resource: "r" });
        assert.equal(c.jid, `alice@${domain}/r`);
        const r = await c.iq(xml("iq", { type: "get", to: domain }, xml("ping", { xmlns: NS.ping })));
        assert.equal(r.attrs.type, "result");
        assert.equal(r.attrs.from, domain);
        await c.close();
      } finally {
        await ts.stop();
      }
    });
  }
});

describe("several virtual hosts", () => {
  it("keeps accounts apart and routes between hosts", async () => {
    const ts = await startTestServer({
      hosts: ["a.test", "b.test"],
      users: [
        ["alice@a.test", "pw"],
        ["bob@b.test", "pw"],
      ],
    });
    try {
      const alice = await connectClient(ts, "alice@a.test", "pw", { presence: true });
      const bob = await connectClient(ts, "bob@b.test", "pw", { presence: true });
      alice.send(xml("message", { to: "bob@b.test", type: "chat" }, xml("body", null, "across hosts")));
      const m = await bob.expect((el) => el.name === "message" && el.getChildText("body") === "across hosts");
      assert.match(m.attrs.from ?? "", /^alice@a\.test\//);
      // alice has no account on b.test
      await assert.rejects(connectClient(ts, "alice@b.test", "pw"), /not-authorized/);
      await alice.close();
      await bob.close();
    } finally {
      await ts.stop();
    }
  });
});
