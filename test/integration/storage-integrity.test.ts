/**
 * "Nothing acknowledged is ever lost": whatever the server acknowledged — an iq result, a XEP-0198 `<a h/>` — is in
 * storage before the acknowledgement leaves, and a shutdown waits for the stanzas it is processing before it closes
 * storage. Each test acknowledges, restarts the server at once, and looks.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { type XmlElement, xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import { connectClient, type TestClient } from "../helpers/client.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { canLogin } from "./accounts-fixtures.ts";
import { rosterGet, withBody } from "./im-fixtures.ts";
import { mamQuery, rsmOf } from "./mam-fixtures.ts";
import { getItems, itemIds, publish } from "./pep-fixtures.ts";

const SM = "urn:xmpp:sm:3";

type LogRecord = { level: number; msg?: string; [k: string]: unknown };

describe("storage integrity", () => {
  let ts: TestServer;
  const logs: LogRecord[] = [];
  const open: TestClient[] = [];
  const login = async (user: string, opts: Parameters<typeof connectClient>[3] = {}) => {
    const c = await connectClient(ts, `${user}@localhost`, "pw", opts);
    open.push(c);
    return c;
  };
  after(async () => {
    await Promise.all(open.map((c) => c.close()));
    await ts?.stop();
  });

  it("keeps every result a client got, through an immediate restart (roster, private XML, vCard, PEP, blocklist, MAM prefs)", async () => {
    ts = await startTestServer({
      users: ["alice", "bob"].map((u) => [`${u}@localhost`, "pw"]),
      logDestination: { write: (l: string) => logs.push(JSON.parse(l) as LogRecord) },
      // Room for the whole burst below in offline storage, so that no message bounces for being one too many.
      config: { log: { level: "warn", format: "json" }, limits: { offline_max_per_user: 10_000 } },
    });
    const alice = await login("alice");
    const ok = async (el: XmlElement) => {
      const r = await alice.iq(el);
      assert.equal(r.attrs.type, "result", `${r}`);
    };
    await ok(
      xml(
        "iq",
        { type: "set" },
        xml("query", { xmlns: NS.roster }, xml("item", { jid: "bob@localhost", name: "Bob" })),
      ),
    );
    await ok(
      xml("iq", { type: "set" }, xml("query", { xmlns: "jabber:iq:private" }, xml("n", { xmlns: "urn:x" }, "kept"))),
    );
    await ok(xml("iq", { type: "set" }, xml("vCard", { xmlns: "vcard-temp" }, xml("FN", null, "Alice Kept"))));
    assert.equal(
      (await publish(alice, "urn:x:node", xml("p", { xmlns: "urn:x:node" }, "kept"), { id: "i1" })).attrs.type,
      "result",
    );
    await ok(
      xml(
        "iq",
        { type: "set" },
        xml("block", { xmlns: "urn:xmpp:blocking" }, xml("item", { jid: "spam@example.net" })),
      ),
    );
    await ok(xml("iq", { type: "set" }, xml("prefs", { xmlns: "urn:xmpp:mam:2", default: "roster" })));
    // No pause: the restart follows the last result at once.
    ts = await ts.restart();
    const again = await login("alice");
    const roster = await rosterGet(again);
    assert.equal(roster.getChild("query", NS.roster)?.getChild("item")?.attrs.name, "Bob");
    const priv = await again.iq(
      xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:private" }, xml("n", { xmlns: "urn:x" }))),
    );
    assert.equal(priv.getChild("query", "jabber:iq:private")?.getChildText("n", "urn:x"), "kept");
    const vcard = await again.iq(xml("iq", { type: "get" }, xml("vCard", { xmlns: "vcard-temp" })));
    assert.equal(vcard.getChild("vCard", "vcard-temp")?.getChildText("FN"), "Alice Kept");
    assert.deepEqual(itemIds(await getItems(again, "urn:x:node")), ["i1"]);
    const blocked = await again.iq(xml("iq", { type: "get" }, xml("blocklist", { xmlns: "urn:xmpp:blocking" })));
    assert.ok(blocked.toString().includes("spam@example.net"));
    const prefs = await again.iq(xml("iq", { type: "get" }, xml("prefs", { xmlns: "urn:xmpp:mam:2" })));
    assert.equal(prefs.getChild("prefs", "urn:xmpp:mam:2")?.attrs.default, "roster");
  });

  it("keeps every message acknowledged with XEP-0198 when the server stops in the middle of a burst", async () => {
    const alice = await login("alice", { resource: "burst" });
    alice.send(xml("enable", { xmlns: SM }));
    await alice.expect((el) => el.name === "enabled" && el.attrs.xmlns === SM);
    let acked = 0;
    alice.conn.socket.on("data", () => {
      for (const r of alice.conn.received) {
        if (r.kind === "element" && r.el.name === "a" && r.el.attrs.xmlns === SM)
          acked = Math.max(acked, Number(r.el.attrs.h));
      }
    });
    // Bob is offline: every message goes to the archive and to offline storage, several writes each.
    const total = 3000;
    for (let i = 1; i <= total; i++) {
      alice.send(xml("message", { to: "bob@localhost", type: "chat", id: `m${i}` }, xml("body", null, `burst ${i}`)));
      alice.send(xml("r", { xmlns: SM }));
    }
    while (acked < 50) await new Promise((r) => setTimeout(r, 1));
    const stopping = ts.restart();
    ts = await stopping;
    assert.ok(acked > 0 && acked < total, `the restart came in the middle of the burst (acked ${acked})`);

    const bob = await login("bob", { presence: true });
    await bob.expect(withBody(`burst ${acked}`), 10_000);
    const delivered = new Set(
      bob.conn.received.flatMap((r) => (r.kind === "element" ? [r.el.getChildText("body") ?? ""] : [])),
    );
    delivered.add(`burst ${acked}`);
    const lost = [];
    for (let i = 1; i <= acked; i++) if (!delivered.has(`burst ${i}`)) lost.push(i);
    assert.deepEqual(lost, [], `acknowledged messages lost (acked ${acked})`);
    const archived = rsmOf(await mamQuery(await login("alice", { resource: "after" }), { max: 0 }));
    assert.ok(Number(archived.count) >= acked, `archived ${archived.count} of ${acked} acknowledged`);
  });

  it("finishes the request it is processing before closing storage at shutdown", async () => {
    // Slow key derivation (XEP-0077 password change): the shutdown begins while the change is being computed.
    const slow = await startTestServer({
      users: [["carol@localhost", "pw"]],
      config: { auth: { scram_iterations: 400_000 }, log: { level: "warn", format: "json" } },
      logDestination: { write: (l: string) => logs.push(JSON.parse(l) as LogRecord) },
    });
    let restarted: TestServer | null = null;
    try {
      const carol = await connectClient(slow, "carol@localhost", "pw");
      carol.send(
        xml(
          "iq",
          { type: "set", id: "pw" },
          xml("query", { xmlns: NS.register }, xml("username", null, "carol"), xml("password", null, "new-pw")),
        ),
      );
      await new Promise((r) => setTimeout(r, 20));
      restarted = await slow.restart();
      assert.ok(await canLogin(restarted, "carol", "new-pw"), "the change that was under way is stored");
    } finally {
      await (restarted ?? slow).stop();
    }
  });

  it("logs no failed handler while it shuts down under load", async () => {
    const problems = logs.filter((r) => r.level >= 50 || /failed/.test(String(r.msg ?? "")));
    assert.deepEqual(problems, []);
  });
});
