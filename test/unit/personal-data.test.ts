import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { injectPhotoHash } from "../../src/modules/avatar-compat.ts";
import { fromLegacy, toLegacy } from "../../src/modules/bookmarks.ts";
import {
  defaultConfig,
  MAX_ITEMS,
  normalizeFields,
  settingsOf,
  unmetPrecondition,
} from "../../src/modules/pubsub/config.ts";
import { PubsubError } from "../../src/modules/pubsub/errors.ts";
import { detachPayload } from "../../src/modules/pubsub/payload.ts";
import { photoOf } from "../../src/modules/vcard.ts";
import { xml } from "../../src/xml/element.ts";

const fields = (o: Record<string, string | string[]>) =>
  new Map(Object.entries(o).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]));

describe("pubsub node configuration (XEP-0060 §8.2, §7.1.5)", () => {
  it("has the PEP defaults of XEP-0163 §4.4", () => {
    const s = settingsOf(defaultConfig());
    assert.equal(s.accessModel, "presence");
    assert.equal(s.maxItems, 1);
    assert.equal(s.persistItems, true);
    assert.equal(s.sendLast, "on_sub_and_presence");
    assert.equal(s.notificationType, "headline");
  });

  it("normalizes booleans and max_items, and refuses unknown fields and values", () => {
    assert.deepEqual(normalizeFields(fields({ "pubsub#persist_items": "true", "pubsub#notify_retract": "0" })), {
      "pubsub#persist_items": ["1"],
      "pubsub#notify_retract": ["0"],
    });
    assert.deepEqual(normalizeFields(fields({ "pubsub#max_items": " 25 " })), { "pubsub#max_items": ["25"] });
    assert.equal(settingsOf(normalizeFields(fields({ "pubsub#max_items": "max" }))).maxItems, MAX_ITEMS);
    assert.equal(settingsOf({ "pubsub#max_items": ["99999"] }).maxItems, MAX_ITEMS);
    const bads: Record<string, string>[] = [
      { "pubsub#access_model": "authorize" },
      { "pubsub#max_items": "0" },
      { "pubsub#max_items": "-3" },
      { "pubsub#persist_items": "yes" },
      { "pubsub#whatever": "1" },
    ];
    for (const bad of bads) {
      assert.throws(
        () => normalizeFields(fields(bad)),
        (err) => err instanceof PubsubError && err.condition === "not-acceptable",
      );
    }
  });

  it("checks publish-options against a node's configuration", () => {
    const config = { ...defaultConfig(), "pubsub#access_model": ["whitelist"], "pubsub#max_items": ["max"] };
    assert.equal(
      unmetPrecondition(config, fields({ "pubsub#access_model": "whitelist", "pubsub#persist_items": "true" })),
      null,
    );
    assert.equal(
      unmetPrecondition(config, fields({ "pubsub#max_items": String(MAX_ITEMS) })),
      null,
      "max is the maximum",
    );
    assert.equal(unmetPrecondition(config, fields({ "pubsub#access_model": "open" })), "pubsub#access_model");
    assert.equal(unmetPrecondition(config, fields({ "pubsub#max_items": "10" })), "pubsub#max_items");
    assert.equal(unmetPrecondition(config, fields({ "pubsub#unknown": "1" })), "pubsub#unknown");
    // Fields left out of a node's configuration compare with their defaults.
    assert.equal(unmetPrecondition({}, fields({ "pubsub#send_last_published_item": "on_sub_and_presence" })), null);
  });
});

describe("pubsub payloads", () => {
  it("keeps the namespace and prefixes a payload had in its stanza", () => {
    const item = xml("item", { id: "1" }, xml("geoloc", null, xml("lat", null, "1")));
    const iq = xml("iq", { "xmlns:ex": "urn:example" }, xml("pubsub", { xmlns: "urn:p" }, item));
    const pubsub = iq.firstElement();
    assert.ok(pubsub);
    const detached = detachPayload(item.firstElement() ?? xml("x"), [iq, pubsub, item]);
    assert.equal(detached.attrs.xmlns, "urn:p");
    assert.equal(detached.attrs["xmlns:ex"], "urn:example");
  });
});

describe("bookmark conversion (XEP-0402 §5.3)", () => {
  it("turns a XEP-0048 conference into a XEP-0402 item and back, keeping unknown children", () => {
    const legacy = xml(
      "conference",
      { jid: "Tea@Conference.Localhost", name: "Tea", autojoin: "1" },
      xml("nick", null, "hatter"),
      xml("password", null, "pw"),
      xml("x", { xmlns: "urn:example:ext" }, "extra"),
    );
    const item = fromLegacy(legacy);
    assert.ok(item);
    assert.equal(item.id, "tea@conference.localhost");
    assert.equal(
      item.conference.toString(),
      '<conference xmlns="urn:xmpp:bookmarks:1" name="Tea" autojoin="true"><nick>hatter</nick><password>pw</password>' +
        '<extensions><x xmlns="urn:example:ext">extra</x></extensions></conference>',
    );
    assert.equal(
      toLegacy(item.id, item.conference).toString(),
      '<conference jid="tea@conference.localhost" name="Tea" autojoin="true"><nick>hatter</nick><password>pw</password>' +
        '<x xmlns="urn:example:ext">extra</x></conference>',
    );
    assert.equal(fromLegacy(xml("conference", { jid: "room@conference.localhost/nick" })), null);
    assert.equal(fromLegacy(xml("conference", {})), null);
  });
});

describe("vCard avatars (XEP-0153, XEP-0398 §4)", () => {
  const card = xml(
    "vCard",
    { xmlns: "vcard-temp" },
    xml("PHOTO", null, xml("TYPE", null, "image/png"), xml("BINVAL", null, "aGVs\nbG8=")),
  );

  it("hashes the decoded PHOTO", () => {
    // SHA-1 of "hello"
    assert.equal(photoOf(card)?.hash, "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d");
    assert.equal(photoOf(xml("vCard", { xmlns: "vcard-temp" })), null);
  });

  it("adds, fixes or leaves the presence photo hash as XEP-0398 §4 says", () => {
    const plain = xml("presence");
    injectPhotoHash(plain, "abc");
    assert.equal(plain.toString(), '<presence><x xmlns="vcard-temp:x:update"><photo>abc</photo></x></presence>');
    const notReady = xml("presence", null, xml("x", { xmlns: "vcard-temp:x:update" }, xml("photo")));
    injectPhotoHash(notReady, "abc");
    assert.equal(notReady.getChild("x")?.getChildText("photo"), "");
    const emptyX = xml("presence", null, xml("x", { xmlns: "vcard-temp:x:update" }));
    injectPhotoHash(emptyX, "abc");
    assert.equal(emptyX.getChild("x")?.getChildText("photo"), "abc");
    const wrong = xml("presence", null, xml("x", { xmlns: "vcard-temp:x:update" }, xml("photo", null, "old")));
    injectPhotoHash(wrong, "abc");
    assert.equal(wrong.getChildren("x").length, 1);
    assert.equal(wrong.getChild("x")?.getChildText("photo"), "abc");
    const none = xml("presence");
    injectPhotoHash(none, null);
    assert.equal(none.toString(), '<presence><x xmlns="vcard-temp:x:update"><photo/></x></presence>');
  });
});
