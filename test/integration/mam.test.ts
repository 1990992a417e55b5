import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import { connectClient, type TestClient } from "../helpers/client.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { errorCondition, message, withBody } from "./im-fixtures.ts";
import {
  bodies,
  FORWARD,
  forwardedMessage,
  MAM0,
  MAM1,
  MAM2,
  mamQuery,
  resultIds,
  resultOf,
  rsmOf,
  SID,
  stanzaIds,
} from "./mam-fixtures.ts";

const USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "gina", "hank"];

/** Sends a chat message and waits until the (online) recipient has it. */
async function chat(from: TestClient, to: TestClient, body: string, toJid = to.bare) {
  from.send(message(toJid, body));
  return to.expect(withBody(body));
}

describe("message archive management (XEP-0313, XEP-0059, XEP-0359)", () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({
      users: USERS.map((u) => [`${u}@localhost`, "pw"]),
      config: { archive: { max_page_size: 10 } },
    });
  });
  after(() => ts.stop());

  it("advertises MAM and stanza ids on the account, and only the owner may use the archive", async () => {
    const alice = await connectClient(ts, "alice@localhost", "pw", { resource: "desk" });
    const info = await alice.iq(
      xml("iq", { type: "get", to: "alice@localhost" }, xml("query", { xmlns: NS.discoInfo })),
    );
    const features =
      info
        .getChild("query")
        ?.getChildren("feature")
        .map((f) => f.attrs.var) ?? [];
    for (const f of [MAM2, `${MAM2}#extended`, MAM1, MAM0, SID]) assert.ok(features.includes(f), `${f} in ${features}`);

    // XEP-0313 §4.1.5: the form, with the extended fields and nothing required.
    const form = await alice.iq(xml("iq", { type: "get" }, xml("query", { xmlns: MAM2 })));
    const x = form.getChild("query", MAM2)?.getChild("x", NS.dataForms);
    assert.equal(x?.attrs.type, "form");
    assert.deepEqual(
      x?.getChildren("field").map((f) => `${f.attrs.var}:${f.attrs.type}`),
      [
        "FORM_TYPE:hidden",
        "with:jid-single",
        "start:text-single",
        "end:text-single",
        "before-id:text-single",
        "after-id:text-single",
        "ids:list-multi",
      ],
    );
    assert.equal(x?.getChildren("field")[0]?.getChildText("value"), MAM2);
    assert.ok(!form.toString().includes("required"));

    // §9.1: another user's archive is forbidden.
    const bob = await connectClient(ts, "bob@localhost", "pw");
    const denied = await mamQuery(bob, { to: "alice@localhost" });
    assert.equal(denied.iq.attrs.type, "error");
    assert.equal(errorCondition(denied.iq), "forbidden");
    assert.equal(denied.results.length, 0);
    await Promise.all([alice.close(), bob.close()]);
  });

  it("archives a chat in both archives once and stamps the recipient's copy with its archive id", async () => {
    const alice = await connectClient(ts, "alice@localhost", "pw", { resource: "desk", presence: true });
    const bob = await connectClient(ts, "bob@localhost", "pw", { resource: "phone", presence: true });
    const toBob = await chat(alice, bob, "hello bob");
    const toAlice = await chat(bob, alice, "hello alice");

    // XEP-0359: one stanza-id, from the recipient's own archive; nothing from the sender's archive leaks.
    assert.equal(toBob.getChildren("stanza-id", SID).length, 1);
    const bobsId = toBob.getChild("stanza-id", SID)?.attrs;
    assert.equal(bobsId?.by, "bob@localhost");
    assert.deepEqual(
      stanzaIds(toAlice).map((s) => s.split(" ")[0]),
      ["alice@localhost"],
    );

    const bobs = await mamQuery(bob);
    assert.equal(bobs.iq.attrs.type, "result");
    assert.deepEqual(bodies(bobs), ["hello bob", "hello alice"]);
    assert.equal(resultIds(bobs)[0], bobsId?.id, "the delivered stanza-id is the archive id");
    const first = bobs.results[0]!;
    assert.equal(first.attrs.from, "bob@localhost", "results come from the archive's JID");
    assert.equal(first.attrs.to, bob.jid);
    const fwd = forwardedMessage(first);
    assert.equal(fwd.attrs.xmlns, NS.client);
    assert.equal(fwd.attrs.from, "alice@localhost/desk");
    assert.equal(fwd.attrs.to, "bob@localhost");
    const stamp = resultOf(first).getChild("forwarded", FORWARD)?.getChild("delay", NS.delay)?.attrs.stamp ?? "";
    assert.ok(Math.abs(Date.parse(stamp) - Date.now()) < 10_000, `delay stamp ${stamp}`);
    assert.equal(bobs.fin?.attrs.complete, "true");
    assert.deepEqual(rsmOf(bobs), { first: resultIds(bobs)[0], index: "0", last: resultIds(bobs)[1], count: "2" });

    // The sender's archive has the same conversation under its own ids.
    const alices = await mamQuery(alice);
    assert.deepEqual(bodies(alices), ["hello bob", "hello alice"]);
    assert.notEqual(resultIds(alices)[0], bobsId?.id);
    assert.equal(resultIds(alices)[1], toAlice.getChild("stanza-id", SID)?.attrs.id);
    await Promise.all([alice.close(), bob.close()]);
  });

  it("replaces a stanza-id forged in the recipient's name (XEP-0359 §3.3)", async () => {
    const carol = await connectClient(ts, "carol@localhost", "pw", { presence: true });
    const dave = await connectClient(ts, "dave@localhost", "pw", { presence: true });
    carol.send(
      xml(
        "message",
        { to: "dave@localhost", type: "chat" },
        xml("body", null, "forged"),
        xml("stanza-id", { xmlns: SID, by: "Dave@LOCALHOST", id: "fake-1" }),
        xml("stanza-id", { xmlns: SID, by: "elsewhere.example", id: "theirs" }),
      ),
    );
    const got = await dave.expect(withBody("forged"));
    const ids = stanzaIds(got);
    assert.equal(ids.length, 2);
    assert.ok(ids.includes("elsewhere.example theirs"), "other entities' ids are kept");
    assert.ok(!ids.some((s) => s.includes("fake-1")));
    const [, real] = (ids.find((s) => s.startsWith("dave@localhost ")) ?? "").split(" ");
    assert.deepEqual(resultIds(await mamQuery(dave)), [real]);
    await Promise.all([carol.close(), dave.close()]);
  });

  it("lets a second device page through the history forwards, backwards and flipped", async () => {
    const erin = await connectClient(ts, "erin@localhost", "pw", { resource: "laptop", presence: true });
    const frank = await connectClient(ts, "frank@localhost", "pw", { resource: "phone", presence: true });
    const sent: string[] = [];
    for (let i = 1; i <= 12; i++) {
      const body = `m${i}`;
      sent.push(body);
      if (i % 3 === 0) await chat(frank, erin, body);
      else await chat(erin, frank, body);
    }
    const tablet = await connectClient(ts, "erin@localhost", "pw", { resource: "tablet" });

    // Forwards with <after/>.
    const p1 = await mamQuery(tablet, { max: 5 });
    assert.deepEqual(bodies(p1), sent.slice(0, 5));
    assert.equal(p1.fin?.attrs.complete, undefined);
    assert.deepEqual(rsmOf(p1), { first: resultIds(p1)[0], index: "0", last: resultIds(p1)[4], count: "12" });
    const p2 = await mamQuery(tablet, { max: 5, after: rsmOf(p1).last });
    assert.deepEqual(bodies(p2), sent.slice(5, 10));
    assert.equal(rsmOf(p2).index, "5");
    const p3 = await mamQuery(tablet, { max: 5, after: rsmOf(p2).last });
    assert.deepEqual(bodies(p3), sent.slice(10));
    assert.equal(p3.fin?.attrs.complete, "true");

    // The last page with an empty <before/>, then backwards with <before>id</before>, still chronological.
    const last = await mamQuery(tablet, { max: 5, before: "" });
    assert.deepEqual(bodies(last), sent.slice(7));
    assert.equal(rsmOf(last).index, "7");
    assert.equal(last.fin?.attrs.complete, undefined);
    const prev = await mamQuery(tablet, { max: 5, before: rsmOf(last).first });
    assert.deepEqual(bodies(prev), sent.slice(2, 7));
    const oldest = await mamQuery(tablet, { max: 5, before: rsmOf(prev).first });
    assert.deepEqual(bodies(oldest), sent.slice(0, 2));
    assert.equal(oldest.fin?.attrs.complete, "true");

    // A flipped page: same page, newest first; first/last keep their meaning.
    const flipped = await mamQuery(tablet, { max: 5, before: "", flip: true });
    assert.deepEqual(bodies(flipped), sent.slice(7).reverse());
    assert.deepEqual(rsmOf(flipped), rsmOf(last));

    // RSM <index/>, <max>0</max> (count only), and the server's page cap (max_page_size = 10).
    assert.deepEqual(bodies(await mamQuery(tablet, { max: 2, index: 4 })), ["m5", "m6"]);
    const count = await mamQuery(tablet, { max: 0 });
    assert.deepEqual([count.results.length, rsmOf(count).count, rsmOf(count).first], [0, "12", undefined]);
    const capped = await mamQuery(tablet, { max: 100 });
    assert.equal(capped.results.length, 10);
    assert.equal(capped.fin?.attrs.complete, undefined);
    const all = await mamQuery(tablet);
    assert.equal(all.results.length, 10, "no <set/>: the server's page size");

    // An unknown RSM id is item-not-found (§4.3.2).
    const missing = await mamQuery(tablet, { max: 5, after: "no-such-id" });
    assert.equal(errorCondition(missing.iq), "item-not-found");
    await Promise.all([erin.close(), frank.close(), tablet.close()]);
  });

  it("filters by with (bare and full JID), time, ids, after-id and before-id", async () => {
    const gina = await connectClient(ts, "gina@localhost", "pw", { resource: "home", presence: true });
    const hankPhone = await connectClient(ts, "hank@localhost", "pw", { resource: "phone", presence: true });
    const carol = await connectClient(ts, "carol@localhost", "pw", { resource: "pc", presence: true });
    await chat(gina, hankPhone, "g→h 1");
    await chat(hankPhone, gina, "h→g 1", gina.jid);
    await chat(gina, carol, "g→c 1");
    await new Promise((r) => setTimeout(r, 30));
    const middle = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 30));
    await chat(carol, gina, "c→g 1");
    await chat(gina, hankPhone, "g→h 2", hankPhone.jid);

    const withHank = await mamQuery(gina, { fields: { with: "hank@localhost" } });
    assert.deepEqual(bodies(withHank), ["g→h 1", "h→g 1", "g→h 2"]);
    assert.equal(rsmOf(withHank).count, "3");
    // A full JID matches only that resource: the messages from it and the one sent to it.
    const withPhone = await mamQuery(gina, { fields: { with: "hank@localhost/phone" } });
    assert.deepEqual(bodies(withPhone), ["h→g 1", "g→h 2"]);
    assert.deepEqual(bodies(await mamQuery(gina, { fields: { with: "carol@localhost" } })), ["g→c 1", "c→g 1"]);
    // with = the account itself: only messages to self (§4.1.1).
    assert.deepEqual(bodies(await mamQuery(gina, { fields: { with: "gina@localhost" } })), []);

    assert.deepEqual(bodies(await mamQuery(gina, { fields: { start: middle } })), ["c→g 1", "g→h 2"]);
    assert.deepEqual(bodies(await mamQuery(gina, { fields: { end: middle } })), ["g→h 1", "h→g 1", "g→c 1"]);
    assert.deepEqual(bodies(await mamQuery(gina, { fields: { end: middle, with: "carol@localhost" } })), ["g→c 1"]);

    const ids = resultIds(await mamQuery(gina));
    assert.equal(ids.length, 5);
    const byIds = await mamQuery(gina, { fields: { ids: [ids[3]!, ids[1]!] } });
    assert.deepEqual(bodies(byIds), ["h→g 1", "c→g 1"]);
    const range = await mamQuery(gina, { fields: { "after-id": ids[0]!, "before-id": ids[4]! } });
    assert.deepEqual(bodies(range), ["h→g 1", "g→c 1", "c→g 1"]);
    assert.equal(rsmOf(range).count, "3", "before-id/after-id are filters: they count");

    // Errors: unknown ids, bad timestamps, bad JIDs, unknown fields.
    assert.equal(errorCondition((await mamQuery(gina, { fields: { ids: [ids[0]!, "nope"] } })).iq), "item-not-found");
    assert.equal(errorCondition((await mamQuery(gina, { fields: { "after-id": "nope" } })).iq), "item-not-found");
    assert.equal(errorCondition((await mamQuery(gina, { fields: { start: "yesterday" } })).iq), "bad-request");
    assert.equal(errorCondition((await mamQuery(gina, { fields: { with: "@bad" } })).iq), "jid-malformed");
    assert.equal(
      errorCondition((await mamQuery(gina, { fields: { "include-groupchat": "true" } })).iq),
      "feature-not-implemented",
    );

    // §6 metadata: the first and last entries.
    const meta = await gina.iq(xml("iq", { type: "get" }, xml("metadata", { xmlns: MAM2 })));
    const m = meta.getChild("metadata", MAM2);
    assert.equal(m?.getChild("start")?.attrs.id, ids[0]);
    assert.equal(m?.getChild("end")?.attrs.id, ids[4]);
    await Promise.all([gina.close(), hankPhone.close(), carol.close()]);
  });

  it("archives a message for an offline user once and delivers it once, from offline storage, with the same id", async () => {
    const alice = await connectClient(ts, "alice@localhost", "pw", { resource: "desk", presence: true });
    alice.send(message("dave@localhost", "while you were away"));
    await alice.nothing(200, (el) => el.name === "message");

    // Dave's new device syncs the archive before going online...
    const dave = await connectClient(ts, "dave@localhost", "pw", { resource: "new" });
    const q = await mamQuery(dave, { fields: { with: "alice@localhost" } });
    assert.deepEqual(bodies(q), ["while you were away"]);
    const [archiveId] = resultIds(q);
    // ...then comes online and gets the offline copy exactly once, stamped with the same archive id.
    dave.send(xml("presence"));
    const got = await dave.expect(withBody("while you were away"));
    assert.deepEqual(stanzaIds(got), [`dave@localhost ${archiveId}`]);
    assert.ok(got.getChild("delay", NS.delay), "offline delivery keeps its delay stamp");
    await dave.nothing(300, (el) => el.name === "message" && el.getChildText("body") === "while you were away");
    assert.equal(rsmOf(await mamQuery(dave, { fields: { with: "alice@localhost" } })).count, "1");
    await Promise.all([alice.close(), dave.close()]);
  });

  it("keeps out what is not conversation: chat states, headlines, errors, groupchat, no-store hints", async () => {
    const carol = await connectClient(ts, "carol@localhost", "pw", { presence: true });
    const hank = await connectClient(ts, "hank@localhost", "pw", { resource: "desk", presence: true });
    const before = rsmOf(await mamQuery(hank, { max: 0 })).count;
    const to = hank.jid;
    carol.send(xml("message", { to, type: "chat" }, xml("active", { xmlns: "http://jabber.org/protocol/chatstates" })));
    carol.send(message(to, "news", "headline"));
    carol.send(message(to, "oops", "error"));
    carol.send(message(to, "room talk", "groupchat"));
    carol.send(
      xml(
        "message",
        { to, type: "chat" },
        xml("body", null, "secret"),
        xml("no-permanent-store", { xmlns: "urn:xmpp:hints" }),
      ),
    );
    carol.send(
      xml(
        "message",
        { to, type: "chat" },
        xml("store", { xmlns: "urn:xmpp:hints" }),
        xml("x", { xmlns: "urn:example" }),
      ),
    );
    carol.send(message(to, "kept"));
    await hank.expect(withBody("kept"));
    const after = await mamQuery(hank, { fields: { with: "carol@localhost" } });
    assert.equal(Number(rsmOf(await mamQuery(hank, { max: 0 })).count) - Number(before), 2);
    assert.deepEqual(bodies(after), ["", "kept"], "the <store/> hint and the chat message");
    await Promise.all([carol.close(), hank.close()]);
  });

  it("answers in the namespace asked: urn:xmpp:mam:1 and urn:xmpp:mam:0", async () => {
    const erin = await connectClient(ts, "erin@localhost", "pw", { resource: "old-client" });
    const v1 = await mamQuery(erin, { ns: MAM1, max: 3 });
    assert.equal(v1.results.length, 3);
    assert.ok(v1.fin, "fin in the iq result");
    assert.equal(forwardedMessage(v1.results[0]!, MAM1).getChildText("body"), "m1");

    const v0 = await mamQuery(erin, { ns: MAM0, max: 3, after: resultIds(v1, MAM1)[2] });
    assert.equal(v0.iq.getChild("fin", MAM0), undefined, "mam:0 acknowledges with an empty iq result");
    assert.deepEqual(bodies(v0, MAM0), ["m4", "m5", "m6"]);
    assert.equal(v0.fin?.getChild("set", "http://jabber.org/protocol/rsm")?.getChildText("count"), "12");

    // The first drafts' filters as plain children of the query.
    erin.send(
      xml(
        "iq",
        { type: "set", id: "legacy" },
        xml("query", { xmlns: MAM0, queryid: "lg" }, xml("with", null, "nobody@localhost")),
      ),
    );
    await erin.expect((el) => el.name === "iq" && el.attrs.id === "legacy" && el.attrs.type === "result");
    const fin = await erin.expect((el) => el.getChild("fin", MAM0)?.attrs.queryid === "lg");
    assert.equal(fin.getChild("fin", MAM0)?.attrs.complete, "true");
    await erin.close();
  });

  it("applies archiving preferences and keeps them across a restart", async () => {
    let frank = await connectClient(ts, "frank@localhost", "pw", { resource: "a", presence: true });
    const gina = await connectClient(ts, "gina@localhost", "pw", { resource: "b", presence: true });
    const get = await frank.iq(xml("iq", { type: "get" }, xml("prefs", { xmlns: MAM2 })));
    assert.equal(get.getChild("prefs", MAM2)?.attrs.default, "always", "the server's default_policy");

    const set = await frank.iq(
      xml(
        "iq",
        { type: "set" },
        xml(
          "prefs",
          { xmlns: MAM2, default: "never" },
          xml("always", null, xml("jid", null, "carol@localhost")),
          xml("never", null, xml("jid", null, "Hank@localhost")),
        ),
      ),
    );
    const prefs = set.getChild("prefs", MAM2);
    assert.equal(prefs?.attrs.default, "never");
    assert.deepEqual(
      prefs
        ?.getChild("always")
        ?.getChildren("jid")
        .map((j) => j.text()),
      ["carol@localhost"],
    );
    assert.deepEqual(
      prefs
        ?.getChild("never")
        ?.getChildren("jid")
        .map((j) => j.text()),
      ["hank@localhost"],
    );

    const frankBefore = Number(rsmOf(await mamQuery(frank, { max: 0 })).count);
    await chat(frank, gina, "not in frank's archive");
    await chat(gina, frank, "nor this", frank.jid);
    assert.equal(Number(rsmOf(await mamQuery(frank, { max: 0 })).count), frankBefore);
    // Gina's own preferences (the default) still archive her side.
    assert.deepEqual(bodies(await mamQuery(gina, { fields: { with: "frank@localhost" } })).slice(-2), [
      "not in frank's archive",
      "nor this",
    ]);

    await Promise.all([frank.close(), gina.close()]);
    ts = await ts.restart();
    frank = await connectClient(ts, "frank@localhost", "pw", { resource: "a", presence: true });
    const carol = await connectClient(ts, "carol@localhost", "pw", { resource: "c", presence: true });
    const again = await frank.iq(xml("iq", { type: "get" }, xml("prefs", { xmlns: MAM1 })));
    assert.equal(again.getChild("prefs", MAM1)?.attrs.default, "never", "preferences survive a restart");
    await chat(carol, frank, "carol is always archived", frank.jid);
    assert.deepEqual(bodies(await mamQuery(frank, { fields: { with: "carol@localhost" } })), [
      "carol is always archived",
    ]);

    const bad = await frank.iq(xml("iq", { type: "set" }, xml("prefs", { xmlns: MAM2, default: "sometimes" })));
    assert.equal(errorCondition(bad), "bad-request");
    await Promise.all([frank.close(), carol.close()]);
  });

  it("keeps the archive across a restart with the same ids, and deletes it with the account", async () => {
    let erin = await connectClient(ts, "erin@localhost", "pw", { resource: "laptop" });
    const beforeIds = resultIds(await mamQuery(erin, { fields: { with: "frank@localhost" } }));
    assert.equal(beforeIds.length, 10);
    await erin.close();
    ts = await ts.restart();
    erin = await connectClient(ts, "erin@localhost", "pw", { resource: "laptop" });
    const afterRestart = await mamQuery(erin, { fields: { with: "frank@localhost" } });
    assert.deepEqual(resultIds(afterRestart), beforeIds);
    assert.equal(rsmOf(afterRestart).count, "12");
    await erin.close();

    await ts.server.core.hosts.get("localhost")?.events.fire("account.deleted", { username: "erin" });
    const page = await ts.server.core.storage.archive.query(
      { host: "localhost", owner: "erin", kind: "user" },
      { limit: 1 },
    );
    assert.equal(page.count, 0);
    const frankSide = await ts.server.core.storage.archive.query(
      { host: "localhost", owner: "frank", kind: "user" },
      { limit: 1, with: "erin@localhost" },
    );
    assert.ok(frankSide.count > 0, "the contact's archive is theirs to keep");
  });
});

describe("archive retention (archive.retention_days)", () => {
  it("prunes messages older than the retention period at startup", async () => {
    let ts = await startTestServer({ users: [["ivy@localhost", "pw"]], config: { archive: { retention_days: 2 } } });
    try {
      const ref = { host: "localhost", owner: "ivy", kind: "user" } as const;
      const day = 24 * 3600_000;
      const store = ts.server.core.storage.archive;
      const old = (n: number, ageDays: number) =>
        store.append(ref, {
          id: `old-${n}`,
          timestamp: Date.now() - ageDays * day,
          with: "bob@localhost",
          stanza: `<message type="chat"><body>age ${ageDays}</body></message>`,
        });
      await old(1, 3);
      await old(2, 2.5);
      await old(3, 1);
      ts = await ts.restart();
      const ivy = await connectClient(ts, "ivy@localhost", "pw");
      const out = await mamQuery(ivy);
      assert.deepEqual(bodies(out), ["age 1"]);
      await ivy.close();
    } finally {
      await ts.stop();
    }
  });
});
