import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { type AccountCredentials, AlreadyExistsError, type RosterItem, type Storage } from "../../src/storage/types.ts";

/** Code point order (what both backends sort by), unlike JS's default UTF-16 code unit order. */
function byCodePoint(a: string, b: string): number {
  const x = [...a].map((c) => c.codePointAt(0)!);
  const y = [...b].map((c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

/** Roster versions are decimal counters in every backend, so the spec can check they only go up. */
function assertIncreasing(versions: string[]): void {
  for (const v of versions) assert.match(v, /^\d+$/);
  for (let i = 1; i < versions.length; i++) {
    assert.ok(BigInt(versions[i]!) > BigInt(versions[i - 1]!), `version ${versions[i]} after ${versions[i - 1]}`);
  }
}

function item(jid: string, fields: Partial<RosterItem> = {}): RosterItem {
  return {
    jid,
    name: null,
    subscription: "none",
    askOut: false,
    askIn: false,
    approved: false,
    groups: [],
    pendingInStanza: null,
    ...fields,
  };
}

const SCRAM: AccountCredentials = {
  "SHA-1": { salt: "c2FsdDE=", iterations: 4096, storedKey: "c3RvcmVkMQ==", serverKey: "c2VydmVyMQ==" },
  "SHA-256": { salt: "c2FsdDI1Ng==", iterations: 10000, storedKey: "c3RvcmVkMjU2", serverKey: "c2VydmVyMjU2" },
};

const SHA512_ONLY: AccountCredentials = {
  "SHA-512": { salt: "c2FsdDUxMg==", iterations: 5000, storedKey: "czUxMg==", serverKey: "djUxMg==" },
};

/** A stanza bigger than any single TCP read or page, with characters outside the BMP and XML escapes. */
const BIG_STANZA = `<message from="romeo@example.com/a" to="juliet@example.com" type="chat"><body>${"Wherefore art thou 😀 ñ &amp; 中文 ".repeat(40_000)}</body></message>`;

/** Significant whitespace and escapes that a careless backend (trimming, normalizing newlines) would alter. */
const WHITESPACE_STANZA = "<message><body>\ttab\r\nCRLF\n  trailing  &lt;&amp;&gt; ✓ </body></message>\n";

/**
 * The behaviour every `Storage` backend must have. Registers node:test suites; call it once per backend
 * from a `*.test.ts` file. `open` must return a backend with no data in it (a fresh database, or one
 * whose tables were emptied); each test opens its own and closes it afterwards.
 */
export function storageConformance(name: string, open: () => Promise<Storage>): void {
  describe(`storage conformance: ${name}`, () => {
    let storage: Storage;
    beforeEach(async () => {
      storage = await open();
    });
    afterEach(async () => {
      await storage.close();
    });

    describe("accounts", () => {
      it("creates an account and reads it back", async () => {
        const before = Date.now();
        const created = await storage.accounts.create("example.com", "juliet", SCRAM);
        assert.match(created.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        assert.equal(created.username, "juliet");
        assert.equal(created.host, "example.com");
        assert.deepEqual(created.credentials, SCRAM);
        assert.ok(created.createdAt >= before && created.createdAt <= Date.now());
        assert.equal(created.lastSeen, null);
        assert.equal(created.lastStatus, null);
        assert.deepEqual(await storage.accounts.get("example.com", "juliet"), created);
      });

      it("returns null and false for an unknown account", async () => {
        await storage.accounts.create("example.com", "juliet", SCRAM);
        assert.equal(await storage.accounts.get("example.com", "romeo"), null);
        assert.equal(await storage.accounts.get("example.org", "juliet"), null);
        assert.equal(await storage.accounts.exists("example.com", "romeo"), false);
        assert.equal(await storage.accounts.exists("example.com", "juliet"), true);
      });

      it("rejects creating an existing account with AlreadyExistsError and keeps the original", async () => {
        const first = await storage.accounts.create("example.com", "juliet", SCRAM);
        await assert.rejects(storage.accounts.create("example.com", "juliet", SHA512_ONLY), AlreadyExistsError);
        assert.deepEqual(await storage.accounts.get("example.com", "juliet"), first);
        assert.equal(await storage.accounts.count("example.com"), 1);
      });

      it("keeps the same username on different hosts apart", async () => {
        const a = await storage.accounts.create("example.com", "juliet", SCRAM);
        const b = await storage.accounts.create("example.org", "juliet", SHA512_ONLY);
        assert.notEqual(a.uuid, b.uuid);
        assert.deepEqual((await storage.accounts.get("example.org", "juliet"))?.credentials, SHA512_ONLY);
        assert.equal(await storage.accounts.delete("example.com", "juliet"), true);
        assert.equal(await storage.accounts.exists("example.org", "juliet"), true);
      });

      it("does not alias the caller's credentials object", async () => {
        const creds: AccountCredentials = structuredClone(SCRAM);
        const created = await storage.accounts.create("example.com", "juliet", creds);
        delete creds["SHA-1"];
        assert.deepEqual(created.credentials, SCRAM);
        assert.deepEqual((await storage.accounts.get("example.com", "juliet"))?.credentials, SCRAM);
      });

      it("replaces credentials, and reports a missing account without creating it", async () => {
        await storage.accounts.create("example.com", "juliet", SCRAM);
        assert.equal(await storage.accounts.setCredentials("example.com", "juliet", SHA512_ONLY), true);
        assert.deepEqual((await storage.accounts.get("example.com", "juliet"))?.credentials, SHA512_ONLY);
        assert.equal(await storage.accounts.setCredentials("example.com", "romeo", SCRAM), false);
        assert.equal(await storage.accounts.exists("example.com", "romeo"), false);
      });

      it("records last seen time and status, including a null status", async () => {
        const created = await storage.accounts.create("example.com", "juliet", SCRAM);
        await storage.accounts.setLastSeen("example.com", "juliet", 1_700_000_000_123, "Gone to Mantua 🗡");
        let got = await storage.accounts.get("example.com", "juliet");
        assert.equal(got?.lastSeen, 1_700_000_000_123);
        assert.equal(got?.lastStatus, "Gone to Mantua 🗡");
        assert.equal(got?.createdAt, created.createdAt);
        await storage.accounts.setLastSeen("example.com", "juliet", 1_800_000_000_000, null);
        got = await storage.accounts.get("example.com", "juliet");
        assert.equal(got?.lastSeen, 1_800_000_000_000);
        assert.equal(got?.lastStatus, null);
        assert.deepEqual(got?.credentials, SCRAM);
      });

      it("ignores setLastSeen for an unknown account", async () => {
        await storage.accounts.setLastSeen("example.com", "ghost", 1, "boo");
        assert.equal(await storage.accounts.exists("example.com", "ghost"), false);
      });

      it("deletes only the given account and reports whether it existed", async () => {
        await storage.accounts.create("example.com", "juliet", SCRAM);
        await storage.accounts.create("example.com", "romeo", SCRAM);
        assert.equal(await storage.accounts.delete("example.com", "juliet"), true);
        assert.equal(await storage.accounts.delete("example.com", "juliet"), false);
        assert.equal(await storage.accounts.get("example.com", "juliet"), null);
        assert.equal(await storage.accounts.exists("example.com", "romeo"), true);
        assert.equal(await storage.accounts.count("example.com"), 1);
      });

      it("gives a re-created account a new uuid", async () => {
        const first = await storage.accounts.create("example.com", "juliet", SCRAM);
        await storage.accounts.delete("example.com", "juliet");
        const second = await storage.accounts.create("example.com", "juliet", SCRAM);
        assert.notEqual(second.uuid, first.uuid);
      });

      it("lists and counts the accounts of one host, ordered by username", async () => {
        const names = ["zoë", "alice", "中文", "émile", "bob", "😀", "al", "b"];
        for (const n of names) await storage.accounts.create("example.com", n, SCRAM);
        await storage.accounts.create("example.org", "carol", SCRAM);
        const list = await storage.accounts.list("example.com");
        assert.deepEqual(
          list.map((a) => a.username),
          [...names].sort(byCodePoint),
        );
        assert.ok(list.every((a) => a.host === "example.com"));
        assert.deepEqual(list.find((a) => a.username === "😀")?.credentials, SCRAM);
        assert.equal(await storage.accounts.count("example.com"), names.length);
        assert.equal(await storage.accounts.count("example.org"), 1);
        assert.equal(await storage.accounts.count("example.net"), 0);
        assert.deepEqual(await storage.accounts.list("example.net"), []);
      });

      it("round-trips Unicode usernames", async () => {
        for (const n of ["zoë", "中文", "😀", "ñandú"]) {
          await storage.accounts.create("example.com", n, SCRAM);
          assert.equal((await storage.accounts.get("example.com", n))?.username, n);
        }
        // Normalization is the caller's job: a differently composed name is a different account.
        assert.equal(await storage.accounts.exists("example.com", "zoe\u0308"), false);
      });
    });

    describe("roster", () => {
      it("returns version 0 and no items for a user without a roster", async () => {
        assert.deepEqual(await storage.roster.get("example.com", "juliet"), { version: "0", items: [] });
        assert.equal(await storage.roster.getItem("example.com", "juliet", "romeo@example.net"), null);
      });

      it("round-trips every field, including nulls, groups and a large pending stanza", async () => {
        const full = item("romeo@example.net", {
          name: "Romeo Montague 🌹",
          subscription: "both",
          askOut: true,
          askIn: true,
          approved: true,
          groups: ["Friends", "Familia ❤", "中文", ""],
          pendingInStanza: BIG_STANZA,
        });
        const bare = item("nurse@example.com");
        await storage.roster.setItem("example.com", "juliet", full);
        await storage.roster.setItem("example.com", "juliet", bare);
        assert.deepEqual(await storage.roster.getItem("example.com", "juliet", "romeo@example.net"), full);
        assert.deepEqual(await storage.roster.getItem("example.com", "juliet", "nurse@example.com"), bare);
        const got = await storage.roster.getItem("example.com", "juliet", "romeo@example.net");
        assert.equal(got?.pendingInStanza?.length, BIG_STANZA.length);
      });

      it("round-trips each subscription state and each flag on its own", async () => {
        const items = [
          item("a@x", { subscription: "none" }),
          item("b@x", { subscription: "to" }),
          item("c@x", { subscription: "from" }),
          item("d@x", { subscription: "both" }),
          item("e@x", { askOut: true }),
          item("f@x", { askIn: true }),
          item("g@x", { approved: true }),
        ];
        for (const i of items) await storage.roster.setItem("example.com", "juliet", i);
        assert.deepEqual((await storage.roster.get("example.com", "juliet")).items, items);
      });

      it("replaces an existing item instead of adding another", async () => {
        await storage.roster.setItem(
          "example.com",
          "juliet",
          item("romeo@example.net", { name: "Romeo", groups: ["A", "B"], pendingInStanza: "<presence/>" }),
        );
        const replacement = item("romeo@example.net", { subscription: "to", groups: [] });
        await storage.roster.setItem("example.com", "juliet", replacement);
        const roster = await storage.roster.get("example.com", "juliet");
        assert.deepEqual(roster.items, [replacement]);
      });

      it("orders items by contact JID", async () => {
        const jids = ["zed@x", "ärger@x", "abe@x", "中@x", "😀@x", "ab@x"];
        for (const j of jids) await storage.roster.setItem("example.com", "juliet", item(j));
        const items = (await storage.roster.get("example.com", "juliet")).items;
        assert.deepEqual(
          items.map((i) => i.jid),
          [...jids].sort(byCodePoint),
        );
      });

      it("bumps the version on every change, strictly increasing, and get reports the latest", async () => {
        const versions = ["0"];
        versions.push(await storage.roster.setItem("example.com", "juliet", item("a@x")));
        versions.push(await storage.roster.setItem("example.com", "juliet", item("b@x")));
        // Setting an identical item is still a write the client must hear about.
        versions.push(await storage.roster.setItem("example.com", "juliet", item("b@x")));
        versions.push((await storage.roster.removeItem("example.com", "juliet", "a@x"))!);
        versions.push(await storage.roster.setItem("example.com", "juliet", item("a@x", { name: "A" })));
        assertIncreasing(versions);
        assert.equal((await storage.roster.get("example.com", "juliet")).version, versions.at(-1));
      });

      it("removes an item, and returns null without bumping for a missing one", async () => {
        await storage.roster.setItem("example.com", "juliet", item("a@x"));
        const v = await storage.roster.setItem("example.com", "juliet", item("b@x"));
        assert.equal(await storage.roster.removeItem("example.com", "juliet", "nobody@x"), null);
        assert.equal(await storage.roster.removeItem("example.com", "romeo", "a@x"), null);
        assert.equal((await storage.roster.get("example.com", "juliet")).version, v);
        const removed = await storage.roster.removeItem("example.com", "juliet", "a@x");
        assert.notEqual(removed, null);
        assertIncreasing([v, removed!]);
        assert.equal(await storage.roster.getItem("example.com", "juliet", "a@x"), null);
        assert.deepEqual(
          (await storage.roster.get("example.com", "juliet")).items.map((i) => i.jid),
          ["b@x"],
        );
        assert.equal(await storage.roster.removeItem("example.com", "juliet", "a@x"), null);
      });

      it("gives distinct increasing versions to concurrent writes", async () => {
        const writes = Array.from({ length: 20 }, (_, n) =>
          storage.roster.setItem("example.com", "juliet", item(`c${n}@x`)),
        );
        const versions = await Promise.all(writes);
        assert.equal(new Set(versions).size, versions.length);
        const sorted = [...versions].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
        const roster = await storage.roster.get("example.com", "juliet");
        assert.equal(roster.version, sorted.at(-1));
        assert.equal(roster.items.length, 20);
      });

      it("keeps users and hosts apart, items and versions alike", async () => {
        await storage.roster.setItem("example.com", "juliet", item("romeo@example.net", { name: "R" }));
        await storage.roster.setItem("example.com", "juliet", item("nurse@example.com"));
        await storage.roster.setItem("example.org", "juliet", item("paris@example.org"));
        await storage.roster.setItem("example.com", "romeo", item("juliet@example.com"));
        const julietCom = await storage.roster.get("example.com", "juliet");
        const julietOrg = await storage.roster.get("example.org", "juliet");
        const romeo = await storage.roster.get("example.com", "romeo");
        assert.deepEqual(
          julietCom.items.map((i) => i.jid),
          ["nurse@example.com", "romeo@example.net"],
        );
        assert.deepEqual(
          julietOrg.items.map((i) => i.jid),
          ["paris@example.org"],
        );
        assert.deepEqual(
          romeo.items.map((i) => i.jid),
          ["juliet@example.com"],
        );
        assert.equal(await storage.roster.getItem("example.org", "juliet", "romeo@example.net"), null);
        // A change to one user's roster leaves the others' versions alone.
        await storage.roster.setItem("example.com", "romeo", item("tybalt@example.com"));
        assert.equal((await storage.roster.get("example.com", "juliet")).version, julietCom.version);
        assert.equal((await storage.roster.get("example.org", "juliet")).version, julietOrg.version);
      });

      it("deleteUser removes only that user's roster, and versions never go back", async () => {
        await storage.roster.setItem("example.com", "juliet", item("romeo@example.net"));
        const before = await storage.roster.setItem("example.com", "juliet", item("nurse@example.com"));
        await storage.roster.setItem("example.org", "juliet", item("paris@example.org"));
        await storage.roster.setItem("example.com", "romeo", item("juliet@example.com"));
        const others = [
          await storage.roster.get("example.org", "juliet"),
          await storage.roster.get("example.com", "romeo"),
        ];

        await storage.roster.deleteUser("example.com", "juliet");
        const after = await storage.roster.get("example.com", "juliet");
        assert.deepEqual(after.items, []);
        assert.equal(await storage.roster.getItem("example.com", "juliet", "romeo@example.net"), null);
        // A client caching the old roster must not be told "unchanged" by a re-created account.
        assert.notEqual(after.version, before);
        const next = await storage.roster.setItem("example.com", "juliet", item("benvolio@example.com"));
        assertIncreasing([before, after.version, next]);
        assert.deepEqual(await storage.roster.get("example.org", "juliet"), others[0]);
        assert.deepEqual(await storage.roster.get("example.com", "romeo"), others[1]);
      });

      it("deleteUser on a user without a roster leaves it at version 0", async () => {
        await storage.roster.deleteUser("example.com", "nobody");
        assert.deepEqual(await storage.roster.get("example.com", "nobody"), { version: "0", items: [] });
      });

      it("round-trips Unicode users and contacts", async () => {
        const contact = item("ромео@пример.рф", { name: "Ромео", groups: ["Семья"] });
        await storage.roster.setItem("例子.中国", "朱丽叶", contact);
        assert.deepEqual(await storage.roster.getItem("例子.中国", "朱丽叶", "ромео@пример.рф"), contact);
        assert.deepEqual((await storage.roster.get("例子.中国", "朱丽叶")).items, [contact]);
        assert.deepEqual((await storage.roster.get("例子.中国", "朱丽")).items, []);
      });
    });

    describe("offline", () => {
      it("is empty for a user without messages", async () => {
        assert.equal(await storage.offline.count("example.com", "juliet"), 0);
        assert.deepEqual(await storage.offline.peek("example.com", "juliet"), []);
      });

      it("peeks messages in arrival order without removing them", async () => {
        // storedAt deliberately out of order: arrival (id) order wins.
        await storage.offline.push("example.com", "juliet", "<message id='1'/>", 3000);
        await storage.offline.push("example.com", "juliet", "<message id='2'/>", 1000);
        await storage.offline.push("example.com", "juliet", "<message id='3'/>", 2000);
        const peeked = await storage.offline.peek("example.com", "juliet");
        assert.deepEqual(
          peeked.map((m) => [m.stanza, m.storedAt]),
          [
            ["<message id='1'/>", 3000],
            ["<message id='2'/>", 1000],
            ["<message id='3'/>", 2000],
          ],
        );
        for (let i = 1; i < peeked.length; i++) assert.ok(peeked[i]!.id > peeked[i - 1]!.id);
        assert.ok(peeked.every((m) => Number.isSafeInteger(m.id)));
        assert.equal(await storage.offline.count("example.com", "juliet"), 3);
        assert.deepEqual(await storage.offline.peek("example.com", "juliet"), peeked);
      });

      it("removes exactly the given ids", async () => {
        for (const n of [1, 2, 3, 4]) await storage.offline.push("example.com", "juliet", `<m n='${n}'/>`, n);
        const [m1, m2, m3, m4] = await storage.offline.peek("example.com", "juliet");
        await storage.offline.remove("example.com", "juliet", [m1!.id, m3!.id]);
        assert.deepEqual(await storage.offline.peek("example.com", "juliet"), [m2, m4]);
        await storage.offline.remove("example.com", "juliet", []);
        await storage.offline.remove("example.com", "juliet", [m1!.id, 987_654_321]);
        assert.deepEqual(await storage.offline.peek("example.com", "juliet"), [m2, m4]);
        assert.equal(await storage.offline.count("example.com", "juliet"), 2);
      });

      it("never removes another user's messages, even given their ids", async () => {
        await storage.offline.push("example.com", "romeo", "<m to='romeo'/>", 1);
        await storage.offline.push("example.org", "juliet", "<m to='juliet@org'/>", 1);
        const ids = [
          ...(await storage.offline.peek("example.com", "romeo")),
          ...(await storage.offline.peek("example.org", "juliet")),
        ].map((m) => m.id);
        await storage.offline.remove("example.com", "juliet", ids);
        assert.equal(await storage.offline.count("example.com", "romeo"), 1);
        assert.equal(await storage.offline.count("example.org", "juliet"), 1);
      });

      it("never reuses an id after the newest message is removed", async () => {
        await storage.offline.push("example.com", "juliet", "<m n='1'/>", 1);
        await storage.offline.push("example.com", "juliet", "<m n='2'/>", 2);
        const [, last] = await storage.offline.peek("example.com", "juliet");
        await storage.offline.remove("example.com", "juliet", [last!.id]);
        await storage.offline.push("example.com", "juliet", "<m n='3'/>", 3);
        const [, newer] = await storage.offline.peek("example.com", "juliet");
        assert.ok(newer!.id > last!.id);
        // A late remove() with the stale id must not take the new message with it.
        await storage.offline.remove("example.com", "juliet", [last!.id]);
        assert.equal(await storage.offline.count("example.com", "juliet"), 2);
      });

      it("keeps users and hosts apart", async () => {
        await storage.offline.push("example.com", "juliet", "<a/>", 1);
        await storage.offline.push("example.com", "juliet", "<b/>", 2);
        await storage.offline.push("example.com", "romeo", "<c/>", 3);
        await storage.offline.push("example.org", "juliet", "<d/>", 4);
        assert.deepEqual(
          (await storage.offline.peek("example.com", "juliet")).map((m) => m.stanza),
          ["<a/>", "<b/>"],
        );
        assert.deepEqual(
          (await storage.offline.peek("example.com", "romeo")).map((m) => m.stanza),
          ["<c/>"],
        );
        assert.deepEqual(
          (await storage.offline.peek("example.org", "juliet")).map((m) => m.stanza),
          ["<d/>"],
        );
        assert.equal(await storage.offline.count("example.com", "juliet"), 2);
      });

      it("round-trips large stanzas and Unicode users exactly", async () => {
        await storage.offline.push("example.com", "朱丽叶", BIG_STANZA, 1_700_000_000_000);
        await storage.offline.push("example.com", "朱丽叶", WHITESPACE_STANZA, 2);
        const [big, small] = await storage.offline.peek("example.com", "朱丽叶");
        assert.equal(big!.stanza, BIG_STANZA);
        assert.equal(big!.storedAt, 1_700_000_000_000);
        assert.equal(small!.stanza, WHITESPACE_STANZA);
        assert.equal(await storage.offline.count("example.com", "朱丽"), 0);
      });

      it("deleteUser removes only that user's messages", async () => {
        await storage.offline.push("example.com", "juliet", "<a/>", 1);
        await storage.offline.push("example.com", "juliet", "<b/>", 2);
        await storage.offline.push("example.com", "romeo", "<c/>", 3);
        await storage.offline.push("example.org", "juliet", "<d/>", 4);
        await storage.offline.deleteUser("example.com", "juliet");
        assert.equal(await storage.offline.count("example.com", "juliet"), 0);
        assert.deepEqual(await storage.offline.peek("example.com", "juliet"), []);
        assert.equal(await storage.offline.count("example.com", "romeo"), 1);
        assert.equal(await storage.offline.count("example.org", "juliet"), 1);
      });
    });

    describe("key-value", () => {
      it("returns null for a missing key and stores, replaces and deletes a value", async () => {
        assert.equal(await storage.kv.get("example.com", "juliet", "vcard", ""), null);
        await storage.kv.set("example.com", "juliet", "vcard", "", "<vCard/>");
        assert.equal(await storage.kv.get("example.com", "juliet", "vcard", ""), "<vCard/>");
        await storage.kv.set("example.com", "juliet", "vcard", "", "<vCard><FN>Juliet</FN></vCard>");
        assert.equal(await storage.kv.get("example.com", "juliet", "vcard", ""), "<vCard><FN>Juliet</FN></vCard>");
        assert.equal(await storage.kv.delete("example.com", "juliet", "vcard", ""), true);
        assert.equal(await storage.kv.get("example.com", "juliet", "vcard", ""), null);
        assert.equal(await storage.kv.delete("example.com", "juliet", "vcard", ""), false);
      });

      it("keeps an empty string value distinct from a missing one", async () => {
        await storage.kv.set("example.com", "juliet", "prefs", "empty", "");
        assert.equal(await storage.kv.get("example.com", "juliet", "prefs", "empty"), "");
        assert.deepEqual(await storage.kv.keys("example.com", "juliet", "prefs"), ["empty"]);
      });

      it("lists the keys of one store, ordered", async () => {
        const keys = ["storage:bookmarks", "a", "jabber:iq:private", "中文", "😀", "Z"];
        for (const k of keys) await storage.kv.set("example.com", "juliet", "private", k, `<x key="${k}"/>`);
        await storage.kv.set("example.com", "juliet", "vcard", "", "<vCard/>");
        assert.deepEqual(await storage.kv.keys("example.com", "juliet", "private"), [...keys].sort(byCodePoint));
        assert.deepEqual(await storage.kv.keys("example.com", "juliet", "vcard"), [""]);
        assert.deepEqual(await storage.kv.keys("example.com", "juliet", "nothing"), []);
      });

      it("keeps stores, users and hosts apart", async () => {
        await storage.kv.set("example.com", "juliet", "a", "k", "juliet-a");
        await storage.kv.set("example.com", "juliet", "b", "k", "juliet-b");
        await storage.kv.set("example.com", "romeo", "a", "k", "romeo-a");
        await storage.kv.set("example.org", "juliet", "a", "k", "org-juliet-a");
        assert.equal(await storage.kv.get("example.com", "juliet", "a", "k"), "juliet-a");
        assert.equal(await storage.kv.get("example.com", "juliet", "b", "k"), "juliet-b");
        assert.equal(await storage.kv.get("example.com", "romeo", "a", "k"), "romeo-a");
        assert.equal(await storage.kv.get("example.org", "juliet", "a", "k"), "org-juliet-a");
        assert.equal(await storage.kv.delete("example.com", "juliet", "a", "k"), true);
        assert.equal(await storage.kv.get("example.com", "juliet", "b", "k"), "juliet-b");
        assert.equal(await storage.kv.get("example.com", "romeo", "a", "k"), "romeo-a");
        assert.equal(await storage.kv.get("example.org", "juliet", "a", "k"), "org-juliet-a");
        assert.deepEqual(await storage.kv.keys("example.com", "romeo", "b"), []);
      });

      it("round-trips large values and Unicode names exactly", async () => {
        await storage.kv.set("例子.中国", "朱丽叶", "私人", "键", BIG_STANZA);
        assert.equal(await storage.kv.get("例子.中国", "朱丽叶", "私人", "键"), BIG_STANZA);
        assert.deepEqual(await storage.kv.keys("例子.中国", "朱丽叶", "私人"), ["键"]);
      });

      it("deleteUser removes every store of that user only", async () => {
        await storage.kv.set("example.com", "juliet", "a", "k1", "1");
        await storage.kv.set("example.com", "juliet", "b", "k2", "2");
        await storage.kv.set("example.com", "romeo", "a", "k1", "3");
        await storage.kv.set("example.org", "juliet", "a", "k1", "4");
        await storage.kv.deleteUser("example.com", "juliet");
        assert.deepEqual(await storage.kv.keys("example.com", "juliet", "a"), []);
        assert.deepEqual(await storage.kv.keys("example.com", "juliet", "b"), []);
        assert.equal(await storage.kv.get("example.com", "romeo", "a", "k1"), "3");
        assert.equal(await storage.kv.get("example.org", "juliet", "a", "k1"), "4");
      });
    });

    describe("account deletion across stores", () => {
      it("leaves other stores alone until their owners delete the user", async () => {
        await storage.accounts.create("example.com", "juliet", SCRAM);
        await storage.roster.setItem("example.com", "juliet", item("romeo@example.net"));
        await storage.offline.push("example.com", "juliet", "<m/>", 1);
        await storage.kv.set("example.com", "juliet", "vcard", "", "<vCard/>");
        assert.equal(await storage.accounts.delete("example.com", "juliet"), true);
        assert.equal((await storage.roster.get("example.com", "juliet")).items.length, 1);
        assert.equal(await storage.offline.count("example.com", "juliet"), 1);
        assert.equal(await storage.kv.get("example.com", "juliet", "vcard", ""), "<vCard/>");
      });
    });

    describe("close", () => {
      it("can be called twice, and later calls reject instead of throwing", async () => {
        await storage.close();
        await storage.close();
        const pending = storage.accounts.get("example.com", "juliet");
        assert.ok(pending instanceof Promise);
        await assert.rejects(pending);
      });
    });
  });
}
