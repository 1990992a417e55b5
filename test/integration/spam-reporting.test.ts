import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { SpamReport } from "../../src/modules/spam-reporting.ts";
import { xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import { connectClient } from "../helpers/client.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { errorCondition, message, withBody } from "./im-fixtures.ts";
import { SID } from "./mam-fixtures.ts";

const BLOCKING = "urn:xmpp:blocking";
const REPORTING = "urn:xmpp:reporting:1";

async function reports(ts: TestServer): Promise<SpamReport[]> {
  const kv = ts.server.core.storage.kv;
  const out: SpamReport[] = [];
  for (const key of await kv.keys("localhost", "", "spam-reports")) {
    out.push(JSON.parse((await kv.get("localhost", "", "spam-reports", key)) ?? "null") as SpamReport);
  }
  return out;
}

describe("spam reporting (XEP-0377)", () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({ users: ["alice", "bob", "spammer", "troll"].map((u) => [`${u}@localhost`, "pw"]) });
  });
  after(() => ts.stop());

  it("blocks the reported JID, logs and stores the report with the reported messages from the archive", async () => {
    const alice = await connectClient(ts, "alice@localhost", "pw", { resource: "phone", presence: true });
    const spammer = await connectClient(ts, "spammer@localhost", "pw", { presence: true });
    const info = await alice.iq(xml("iq", { type: "get", to: "localhost" }, xml("query", { xmlns: NS.discoInfo })));
    assert.ok(
      info
        .getChild("query")
        ?.getChildren("feature")
        .some((f) => f.attrs.var === REPORTING),
    );

    spammer.send(message("alice@localhost", "cheap pills"));
    const spam = await alice.expect(withBody("cheap pills"));
    const stanzaId = spam.getChild("stanza-id", SID);
    assert.ok(stanzaId);

    const before = Date.now();
    const r = await alice.iq(
      xml(
        "iq",
        { type: "set" },
        xml(
          "block",
          { xmlns: BLOCKING },
          xml(
            "item",
            { jid: "spammer@localhost" },
            xml(
              "report",
              { xmlns: REPORTING, reason: "urn:xmpp:reporting:spam" },
              xml("stanza-id", { xmlns: SID, by: stanzaId.attrs.by, id: stanzaId.attrs.id }),
              xml("text", { "xml:lang": "en" }, "  Never came trouble to my house like this.  "),
              xml("third-party"),
            ),
          ),
        ),
      ),
    );
    assert.equal(r.attrs.type, "result");

    // The block took effect like any other (XEP-0377 §6).
    spammer.send(message("alice@localhost", "more pills", "chat", "s2"));
    assert.equal(errorCondition(await spammer.expect((el) => el.attrs.id === "s2")), "service-unavailable");

    const [report, ...rest] = await reports(ts);
    assert.equal(rest.length, 0);
    assert.equal(report?.reporter, "alice@localhost");
    assert.equal(report?.jid, "spammer@localhost");
    assert.equal(report?.reason, "urn:xmpp:reporting:spam");
    assert.equal(report?.text, "Never came trouble to my house like this.");
    assert.deepEqual(report?.stanzaIds, [stanzaId.attrs.id]);
    assert.equal(report?.messages.length, 1);
    assert.match(report?.messages[0] ?? "", /cheap pills/);
    assert.deepEqual(report?.optIn, ["third-party"]);
    assert.ok((report?.at ?? 0) >= before);
    await Promise.all([alice.close(), spammer.close()]);
  });

  it("accepts the older report forms, files nothing for a plain block, and keeps reports across a restart", async () => {
    const bob = await connectClient(ts, "bob@localhost", "pw");
    await bob.iq(
      xml(
        "iq",
        { type: "set" },
        xml(
          "block",
          { xmlns: BLOCKING },
          xml("item", { jid: "troll@localhost" }, xml("abuse", { xmlns: "urn:xmpp:reporting:0" })),
          xml("item", { jid: "nobody@localhost" }),
        ),
      ),
    );
    const list = await bob.iq(xml("iq", { type: "get" }, xml("blocklist", { xmlns: BLOCKING })));
    assert.deepEqual(
      list
        .getChild("blocklist", BLOCKING)
        ?.getChildren("item")
        .map((i) => i.attrs.jid),
      ["nobody@localhost", "troll@localhost"],
    );
    await bob.close();

    ts = await ts.restart();
    const all = await reports(ts);
    assert.deepEqual(
      all.map((r) => [r.reporter, r.jid, r.reason]),
      [
        ["alice@localhost", "spammer@localhost", "urn:xmpp:reporting:spam"],
        ["bob@localhost", "troll@localhost", "urn:xmpp:reporting:abuse"],
      ],
    );
  });
});
