import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type XmlElement, xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import type { TestClient } from "../helpers/client.ts";
import { serverSuite } from "../helpers/suite.ts";
import { errorCondition } from "./im-fixtures.ts";

const PRIVATE = "jabber:iq:private";

function privateGet(c: TestClient, ...docs: XmlElement[]): Promise<XmlElement> {
  return c.iq(xml("iq", { type: "get" }, xml("query", { xmlns: PRIVATE }, ...docs)));
}

function privateSet(c: TestClient, ...docs: XmlElement[]): Promise<XmlElement> {
  return c.iq(xml("iq", { type: "set" }, xml("query", { xmlns: PRIVATE }, ...docs)));
}

const notes = (text: string) =>
  xml("storage", { xmlns: "http://miranda-im.org/storage#notes" }, xml("note", null, text));

describe("private XML storage (XEP-0049)", () => {
  const suite = serverSuite(["alice", "bob"]);
  const login = suite.login;

  it("stores documents by namespace, returns them to the owner, and an empty element when nothing is stored", async () => {
    const alice = await login("alice");
    const info = await alice.iq(
      xml("iq", { type: "get", to: "alice@localhost" }, xml("query", { xmlns: NS.discoInfo })),
    );
    assert.ok(
      info
        .getChild("query")
        ?.getChildren("feature")
        .some((f) => f.attrs.var === PRIVATE),
    );

    const empty = await privateGet(alice, xml("prefs", { xmlns: "urn:example:prefs" }));
    assert.equal(empty.attrs.type, "result");
    const got = empty.getChild("query", PRIVATE)?.getChild("prefs", "urn:example:prefs");
    assert.ok(got && got.children.length === 0, "the empty element that was asked for");

    const prefs = xml("prefs", { xmlns: "urn:example:prefs" }, xml("theme", { dark: "yes" }, "midnight 🌙"));
    assert.equal((await privateSet(alice, prefs, notes("milk"))).attrs.type, "result");
    const back = await privateGet(alice, xml("prefs", { xmlns: "urn:example:prefs" }));
    assert.equal(back.getChild("query", PRIVATE)?.getChild("prefs")?.toString(), prefs.toString());
    const n = await privateGet(alice, xml("storage", { xmlns: "http://miranda-im.org/storage#notes" }));
    assert.equal(n.getChild("query", PRIVATE)?.getChild("storage")?.getChildText("note"), "milk");

    // Replacing, and the same element name in another namespace is another document.
    await privateSet(alice, notes("eggs"));
    const replaced = await privateGet(alice, xml("storage", { xmlns: "http://miranda-im.org/storage#notes" }));
    assert.equal(replaced.getChild("query", PRIVATE)?.getChild("storage")?.getChildText("note"), "eggs");
    const other = await privateGet(alice, xml("storage", { xmlns: "urn:example:other" }));
    assert.equal(other.getChild("query", PRIVATE)?.getChild("storage")?.children.length, 0);
  });

  it("refuses other accounts, reserved namespaces and oversized documents", async () => {
    const alice = await login("alice");
    const bob = await login("bob");
    const peek = await bob.iq(
      xml(
        "iq",
        { type: "get", to: "alice@localhost" },
        xml("query", { xmlns: PRIVATE }, xml("prefs", { xmlns: "urn:example:prefs" })),
      ),
    );
    assert.equal(errorCondition(peek), "forbidden");
    const write = await bob.iq(
      xml("iq", { type: "set", to: "alice@localhost" }, xml("query", { xmlns: PRIVATE }, notes("from bob"))),
    );
    assert.equal(errorCondition(write), "forbidden");

    assert.equal(errorCondition(await privateSet(alice, xml("query", { xmlns: PRIVATE }))), "not-acceptable");
    assert.equal(errorCondition(await privateSet(alice, xml("item", { xmlns: "jabber:client" }))), "not-acceptable");
    assert.equal(errorCondition(await privateGet(alice)), "bad-request");

    const big = xml("blob", { xmlns: "urn:example:blob" }, "x".repeat(200 * 1024));
    assert.equal(errorCondition(await privateSet(alice, big)), "not-acceptable");
  });

  it("keeps documents across a restart and forgets them with the account", async () => {
    const bob = await login("bob");
    await privateSet(bob, notes("persist me"));
    await bob.close();
    await suite.restart();
    const again = await login("bob");
    const got = await privateGet(again, xml("storage", { xmlns: "http://miranda-im.org/storage#notes" }));
    assert.equal(got.getChild("query", PRIVATE)?.getChild("storage")?.getChildText("note"), "persist me");
    await suite.ts.server.core.hosts.get("localhost")?.events.fire("account.deleted", { username: "bob" });
    assert.deepEqual(await suite.ts.server.core.storage.kv.keys("localhost", "bob", "private"), []);
  });
});
