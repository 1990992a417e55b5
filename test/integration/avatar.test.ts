import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { type XmlElement, xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import type { TestClient } from "../helpers/client.ts";
import { serverSuite } from "../helpers/suite.ts";
import { befriend, presence } from "./im-fixtures.ts";
import { event, getItems, itemIds, itemsOf, notify, publish, pubsubCondition, sendCaps } from "./pep-fixtures.ts";

const DATA = "urn:xmpp:avatar:data";
const METADATA = "urn:xmpp:avatar:metadata";
const UPDATE = "vcard-temp:x:update";
const VCARD = "vcard-temp";

/** A tiny "image": the bytes don't matter, their SHA-1 does. */
function image(seed: string): { base64: string; hash: string; bytes: number } {
  const bytes = Buffer.from(`\x89PNG fake image ${seed}`);
  return {
    base64: bytes.toString("base64"),
    hash: createHash("sha1").update(bytes).digest("hex"),
    bytes: bytes.length,
  };
}

/** Publishes a XEP-0084 avatar the way clients do: data first, then metadata. */
async function publishAvatar(c: TestClient, img: { base64: string; hash: string; bytes: number }): Promise<void> {
  const d = await publish(c, DATA, xml("data", { xmlns: DATA }, img.base64), { id: img.hash });
  assert.equal(d.attrs.type, "result", d.toString());
  const m = await publish(
    c,
    METADATA,
    xml("metadata", { xmlns: METADATA }, xml("info", { id: img.hash, bytes: String(img.bytes), type: "image/png" })),
    { id: img.hash },
  );
  assert.equal(m.attrs.type, "result", m.toString());
}

async function vcardOf(c: TestClient, to?: string): Promise<XmlElement | undefined> {
  const r = await c.iq(xml("iq", { type: "get", to }, xml("vCard", { xmlns: VCARD })));
  return r.getChild("vCard", VCARD);
}

const photoHash = (p: XmlElement) => p.getChild("x", UPDATE)?.getChildText("photo");

describe("avatars: XEP-0084 and XEP-0153 converted by the server (XEP-0398)", () => {
  const suite = serverSuite(["alice", "bob", "carol", "dave"], { login: { roster: true } });
  const login = suite.login;

  it("advertises the conversion on the account", async () => {
    const alice = await login("alice");
    const info = await alice.iq(
      xml("iq", { type: "get", to: "alice@localhost" }, xml("query", { xmlns: NS.discoInfo })),
    );
    assert.ok(
      info
        .getChild("query")
        ?.getChildren("feature")
        .some((f) => f.attrs.var === "urn:xmpp:pep-vcard-conversion:0"),
    );
  });

  it("copies a PEP avatar into the vCard and puts its hash in presence (§3.1, §4)", async () => {
    const alice = await login("alice", { presence: true });
    const bob = await login("bob", { presence: true });
    await befriend(alice, bob);
    const img = image("alice-1");
    await publishAvatar(alice, img);

    const card = await vcardOf(bob, "alice@localhost");
    assert.equal(card?.getChild("PHOTO")?.getChildText("BINVAL"), img.base64);
    assert.equal(card?.getChild("PHOTO")?.getChildText("TYPE"), "image/png");

    // Alice's next presence carries the hash, though her client did not add it.
    alice.send(xml("presence", null, xml("status", null, "new look")));
    const p = await bob.expect((el) => presence("", alice.jid)(el) && el.getChildText("status") === "new look");
    assert.equal(photoHash(p), img.hash);
    // A client that says its avatar is not ready (empty photo) is left alone.
    alice.send(xml("presence", null, xml("status", null, "loading"), xml("x", { xmlns: UPDATE }, xml("photo"))));
    const q = await bob.expect((el) => presence("", alice.jid)(el) && el.getChildText("status") === "loading");
    assert.equal(photoHash(q), "");
    // A wrong hash is corrected; an <x/> without photo is filled in.
    alice.send(
      xml("presence", null, xml("status", null, "w"), xml("x", { xmlns: UPDATE }, xml("photo", null, "deadbeef"))),
    );
    const w = await bob.expect((el) => presence("", alice.jid)(el) && el.getChildText("status") === "w");
    assert.equal(photoHash(w), img.hash);
    assert.equal(w.getChildren("x", UPDATE).length, 1);
    // Directed presence (e.g. a MUC join) gets it too.
    const carol = await login("carol", { resource: "x", presence: true });
    alice.send(xml("presence", { to: "carol@localhost/x" }, xml("x", { xmlns: UPDATE })));
    const directed = await carol.expect(presence("", alice.jid));
    assert.equal(photoHash(directed), img.hash);
  });

  it("publishes a vCard PHOTO as PEP avatar data and metadata, notifying contacts once (§3.2)", async () => {
    const alice = await login("alice", { presence: true });
    const bob = await login("bob", { resource: "watcher" });
    await sendCaps(bob, notify(METADATA));
    // On becoming available Bob gets the current metadata (the avatar of the previous test).
    await bob.expect(event(METADATA, "alice@localhost"));

    const img = image("alice-2");
    const set = await alice.iq(
      xml(
        "iq",
        { type: "set" },
        xml(
          "vCard",
          { xmlns: VCARD },
          xml("FN", null, "Alice"),
          xml("PHOTO", null, xml("TYPE", null, "image/jpeg"), xml("BINVAL", null, img.base64)),
        ),
      ),
    );
    assert.equal(set.attrs.type, "result");
    const ev = await bob.expect(event(METADATA, "alice@localhost"));
    const info = itemsOf(ev)[0]?.getChild("metadata", METADATA)?.getChild("info");
    assert.equal(info?.attrs.id, img.hash);
    assert.equal(info?.attrs.type, "image/jpeg");
    assert.equal(info?.attrs.bytes, String(img.bytes));
    const data = await getItems(bob, DATA, { to: "alice@localhost", ids: [img.hash] });
    assert.equal(itemsOf(data)[0]?.getChildText("data", DATA), img.base64);
    // Loop-safe: exactly one metadata notification, and the vCard is what Alice set.
    await bob.nothing(400, event(METADATA));
    assert.equal((await vcardOf(alice))?.getChildText("FN"), "Alice");

    // Removing the photo from the vCard publishes empty metadata ("no avatar").
    await alice.iq(xml("iq", { type: "set" }, xml("vCard", { xmlns: VCARD }, xml("FN", null, "Alice"))));
    const cleared = await bob.expect(event(METADATA, "alice@localhost"));
    assert.equal(itemsOf(cleared)[0]?.getChild("metadata", METADATA)?.getChildren("info").length, 0);
    alice.send(xml("presence", null, xml("status", null, "plain")));
    const p = await bob.expect((el) => presence("", alice.jid)(el) && el.getChildText("status") === "plain");
    assert.equal(photoHash(p), "");
  });

  it("removes the vCard PHOTO when the PEP avatar is disabled, and ignores data whose hash is not its id", async () => {
    const dave = await login("dave");
    const img = image("dave-1");
    await publishAvatar(dave, img);
    assert.ok((await vcardOf(dave))?.getChild("PHOTO"));
    await publish(dave, METADATA, xml("metadata", { xmlns: METADATA }));
    assert.equal((await vcardOf(dave))?.getChild("PHOTO"), undefined);

    // Metadata pointing at data whose SHA-1 differs from the id is not copied.
    const other = image("dave-2");
    await publish(dave, DATA, xml("data", { xmlns: DATA }, other.base64), {
      id: "0123456789abcdef0123456789abcdef01234567",
    });
    await publish(
      dave,
      METADATA,
      xml(
        "metadata",
        { xmlns: METADATA },
        xml("info", { id: "0123456789abcdef0123456789abcdef01234567", bytes: "1", type: "image/png" }),
      ),
    );
    assert.equal((await vcardOf(dave))?.getChild("PHOTO"), undefined);
    // An avatar only at a URL (no data in PEP) is not copied either.
    await publish(
      dave,
      METADATA,
      xml(
        "metadata",
        { xmlns: METADATA },
        xml("info", { id: img.hash, bytes: "1", type: "image/png", url: "https://x.test/a.png" }),
      ),
    );
    assert.equal((await vcardOf(dave))?.getChild("PHOTO"), undefined);
    // Payloads are checked.
    const bad = await publish(dave, DATA, xml("photo", { xmlns: "urn:example" }));
    assert.equal(pubsubCondition(bad), "invalid-payload");
  });

  it("keeps the avatar across a restart, in both forms", async () => {
    const carol = await login("carol", { resource: "r" });
    const img = image("carol");
    await publishAvatar(carol, img);
    await carol.close();
    await suite.restart();
    const again = await login("carol", { presence: true });
    const self = await again.expect(presence("", again.jid));
    assert.equal(photoHash(self), img.hash);
    assert.deepEqual(itemIds(await getItems(again, METADATA)), [img.hash]);
    assert.equal((await vcardOf(again))?.getChild("PHOTO")?.getChildText("BINVAL"), img.base64);
  });
});
