import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { turnCredentials } from "../../src/modules/external-services.ts";
import { type XmlElement, xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import { connectClient, type TestClient } from "../helpers/client.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { errorCondition } from "./im-fixtures.ts";

const SECRET = "north-wind-and-sun";
const TTL = 600;

/** What a TURN server with `use-auth-secret` does with the credentials (draft-uberti-behave-turn-rest §2.3). */
function turnServerAccepts(username: string, password: string, secret: string, now = Date.now()): boolean {
  const expiry = Number(username.split(":")[0]);
  const expected = createHmac("sha1", secret).update(username).digest("base64");
  return expected === password && expiry * 1000 > now;
}

function services(iq: XmlElement, name = "services"): XmlElement[] {
  return iq.getChild(name, NS.extdisco)?.getChildren("service") ?? [];
}

const describeService = (s: XmlElement) => `${s.attrs.type} ${s.attrs.host}:${s.attrs.port}/${s.attrs.transport}`;

describe("external service discovery (XEP-0215) with TURN REST credentials", () => {
  let ts: TestServer;
  let alice: TestClient;
  before(async () => {
    ts = await startTestServer({
      hosts: ["localhost", "example.net"],
      users: [
        ["alice@localhost", "pw"],
        ["olga@example.net", "pw"],
      ],
      config: {
        turn: {
          secret: SECRET,
          host: "turn.example.org",
          port: 3478,
          tls_port: 5349,
          transports: ["udp", "tcp"],
          ttl: TTL,
          stun: ["stun.example.net:19302", "[2001:db8::1]"],
        },
      },
    });
    alice = await connectClient(ts, "alice@localhost", "pw");
  });
  after(async () => {
    await alice.close();
    await ts.stop();
  });

  it("advertises the feature and lists STUN and TURN services; TURN ones carry working, expiring credentials", async () => {
    const info = await alice.iq(xml("iq", { type: "get", to: "localhost" }, xml("query", { xmlns: NS.discoInfo })));
    assert.ok(
      info
        .getChild("query")
        ?.getChildren("feature")
        .some((f) => f.attrs.var === NS.extdisco),
    );

    const before = Date.now();
    const r = await alice.iq(xml("iq", { type: "get", to: "localhost" }, xml("services", { xmlns: NS.extdisco })));
    assert.equal(r.attrs.type, "result");
    const all = services(r);
    assert.deepEqual(all.map(describeService), [
      "stun stun.example.net:19302/udp",
      "stun 2001:db8::1:3478/udp",
      "stun turn.example.org:3478/udp",
      "turn turn.example.org:3478/udp",
      "turn turn.example.org:3478/tcp",
      "turns turn.example.org:5349/tcp",
    ]);
    for (const s of all) {
      if (s.attrs.type === "stun") {
        assert.equal(s.attrs.username, undefined, "STUN needs no credentials");
        continue;
      }
      const { username = "", password = "", expires = "" } = s.attrs;
      assert.match(username, /^\d+:alice@localhost$/);
      assert.equal(s.attrs.restricted, "1");
      assert.ok(turnServerAccepts(username, password, SECRET), "the TURN server accepts them now");
      assert.equal(turnServerAccepts(username, password, "another secret"), false);
      const expiry = Number(username.split(":")[0]) * 1000;
      assert.equal(Date.parse(expires), expiry, "expires matches the timestamp in the username");
      assert.ok(expiry >= Math.floor(before / 1000) * 1000 + TTL * 1000 && expiry <= Date.now() + TTL * 1000);
      assert.equal(turnServerAccepts(username, password, SECRET, expiry + 1000), false, "and refuses them after");
    }
  });

  it("narrows the list by type and answers a credentials request (§3.3)", async () => {
    const turn = await alice.iq(
      xml("iq", { type: "get", to: "localhost" }, xml("services", { xmlns: NS.extdisco, type: "turn" })),
    );
    assert.deepEqual(services(turn).map(describeService), [
      "turn turn.example.org:3478/udp",
      "turn turn.example.org:3478/tcp",
    ]);
    const creds = await alice.iq(
      xml(
        "iq",
        { type: "get", to: "localhost" },
        xml("credentials", { xmlns: NS.extdisco }, xml("service", { host: "turn.example.org", type: "turns" })),
      ),
    );
    const got = services(creds, "credentials");
    assert.deepEqual(got.map(describeService), ["turns turn.example.org:5349/tcp"]);
    assert.ok(turnServerAccepts(got[0]?.attrs.username ?? "", got[0]?.attrs.password ?? "", SECRET));
    const unknown = await alice.iq(
      xml(
        "iq",
        { type: "get", to: "localhost" },
        xml("credentials", { xmlns: NS.extdisco }, xml("service", { host: "elsewhere.example", type: "turn" })),
      ),
    );
    assert.equal(errorCondition(unknown), "item-not-found");
  });

  it("gives relays only to the host's own users", async () => {
    const olga = await connectClient(ts, "olga@example.net", "pw");
    const r = await olga.iq(xml("iq", { type: "get", to: "localhost" }, xml("services", { xmlns: NS.extdisco })));
    assert.equal(errorCondition(r), "forbidden");
    const own = await olga.iq(xml("iq", { type: "get", to: "example.net" }, xml("services", { xmlns: NS.extdisco })));
    assert.match(services(own).find((s) => s.attrs.type === "turn")?.attrs.username ?? "", /:olga@example\.net$/);
    await olga.close();
  });

  it("computes credentials as coturn's use-auth-secret expects (known answer)", () => {
    const c = turnCredentials("secret", "alice@localhost", 3600, 1_700_000_000_000);
    assert.equal(c.username, "1700003600:alice@localhost");
    assert.equal(c.password, createHmac("sha1", "secret").update("1700003600:alice@localhost").digest("base64"));
    assert.equal(c.expires, 1_700_003_600_000);
  });
});

describe("external service discovery without configuration", () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({ users: [["alice@localhost", "pw"]] });
  });
  after(() => ts.stop());

  it("offers nothing: no feature, and the request is not answered as if it worked", async () => {
    const alice = await connectClient(ts, "alice@localhost", "pw");
    const info = await alice.iq(xml("iq", { type: "get", to: "localhost" }, xml("query", { xmlns: NS.discoInfo })));
    assert.equal(
      info
        .getChild("query")
        ?.getChildren("feature")
        .some((f) => f.attrs.var === NS.extdisco),
      false,
    );
    const r = await alice.iq(xml("iq", { type: "get", to: "localhost" }, xml("services", { xmlns: NS.extdisco })));
    assert.equal(errorCondition(r), "service-unavailable");
    await alice.close();
  });
});
