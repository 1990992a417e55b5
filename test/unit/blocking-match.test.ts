import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseJid } from "../../src/jid/jid.ts";
import { matches } from "../../src/modules/blocking/blocklist.ts";

const blocked = (items: string[], jid: string) => matches(new Set(items), parseJid(jid));

describe("blocklist JID matching (XEP-0191 §6)", () => {
  it("user@domain/resource matches only that resource", () => {
    assert.equal(blocked(["bob@example.com/phone"], "bob@example.com/phone"), true);
    assert.equal(blocked(["bob@example.com/phone"], "bob@example.com/laptop"), false);
    assert.equal(blocked(["bob@example.com/phone"], "bob@example.com"), false);
  });

  it("user@domain matches the bare JID and any resource", () => {
    assert.equal(blocked(["bob@example.com"], "bob@example.com"), true);
    assert.equal(blocked(["bob@example.com"], "bob@example.com/any"), true);
    assert.equal(blocked(["bob@example.com"], "bobby@example.com"), false);
    assert.equal(blocked(["bob@example.com"], "example.com"), false);
  });

  it("domain/resource matches only that address", () => {
    assert.equal(blocked(["example.com/bot"], "example.com/bot"), true);
    assert.equal(blocked(["example.com/bot"], "example.com"), false);
    assert.equal(blocked(["example.com/bot"], "bob@example.com/bot"), false);
  });

  it("domain matches the domain, its users, its resources and its subdomains", () => {
    for (const jid of [
      "example.com",
      "bob@example.com",
      "bob@example.com/x",
      "example.com/x",
      "a.b.example.com",
      "u@chat.example.com/r",
    ]) {
      assert.equal(blocked(["example.com"], jid), true, jid);
    }
    for (const jid of ["badexample.com", "example.com.evil", "bob@example.org"]) {
      assert.equal(blocked(["example.com"], jid), false, jid);
    }
  });

  it("does not treat parts of an IP address as parent domains", () => {
    assert.equal(blocked(["1.10"], "user@192.168.1.10"), false);
    assert.equal(blocked(["192.168.1.10"], "user@192.168.1.10"), true);
  });

  it("an empty list blocks nothing", () => {
    assert.equal(blocked([], "bob@example.com"), false);
  });
});
