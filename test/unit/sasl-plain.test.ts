import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { deriveCredentials, deriveScram } from "../../src/sasl/credentials.ts";
import { createMechanism, type SaslContext, type SaslMechanism } from "../../src/sasl/mechanism.ts";
import type { AccountCredentials, ScramHash } from "../../src/storage/types.ts";

const ITERATIONS = 64;
let accounts: Record<string, AccountCredentials> = {};
let lookups: string[] = [];

const ctx: SaslContext = {
  async getScram(username: string, hash: ScramHash) {
    lookups.push(`${username}/${hash}`);
    return accounts[username]?.[hash] ?? null;
  },
  channelBinding: () => null,
  channelBindingTypes: [],
  plusAdvertised: false,
  scramIterations: ITERATIONS,
};

const plain = (): SaslMechanism => createMechanism("PLAIN", ctx)!;
const msg = (s: string) => Buffer.from(s, "utf8");

describe("PLAIN (RFC 4616)", () => {
  before(async () => {
    accounts = {
      user: await deriveCredentials("pencil", ITERATIONS),
      // Different passwords per hash show which record is checked.
      mixed: {
        "SHA-1": await deriveScram("sha1-pw", "SHA-1", ITERATIONS),
        "SHA-256": await deriveScram("sha256-pw", "SHA-256", ITERATIONS),
      },
    };
  });

  it("accepts the right password", async () => {
    assert.deepEqual(await plain().start(msg("\0user\0pencil")), { type: "success", username: "user" });
  });

  it("returns the authcid as sent, for the caller to normalize", async () => {
    accounts.User = accounts.user!;
    assert.deepEqual(await plain().start(msg("\0User\0pencil")), { type: "success", username: "User" });
  });

  it("refuses a wrong password", async () => {
    assert.deepEqual(await plain().start(msg("\0user\0Pencil")), { type: "failure", condition: "not-authorized" });
  });

  it("checks the strongest stored record", async () => {
    assert.equal((await plain().start(msg("\0mixed\0sha256-pw"))).type, "success");
    assert.equal((await plain().start(msg("\0mixed\0sha1-pw"))).type, "failure");
  });

  it("fails an unknown user like a wrong password, after looking up every hash", async () => {
    lookups = [];
    assert.deepEqual(await plain().start(msg("\0nobody\0pencil")), { type: "failure", condition: "not-authorized" });
    assert.deepEqual(lookups.sort(), ["nobody/SHA-1", "nobody/SHA-256", "nobody/SHA-512"]);
  });

  it("sends an empty challenge without initial response, and refuses a second message", async () => {
    const mech = plain();
    const challenge = await mech.start(null);
    assert.equal(challenge.type === "challenge" && challenge.data.length, 0);
    assert.equal((await mech.step(msg("\0user\0pencil"))).type, "success");
    const again = await mech.step(msg("\0user\0pencil"));
    assert.equal(again.type === "failure" && again.condition, "malformed-request");
  });

  for (const bad of ["", "user\0pencil", "\0user\0pencil\0", "\0\0pencil", "\0user\0", "userpencil", "\0\0\0"]) {
    it(`refuses ${JSON.stringify(bad)} as malformed-request`, async () => {
      const step = await plain().start(msg(bad));
      assert.equal(step.type === "failure" && step.condition, "malformed-request");
    });
  }

  it("refuses invalid UTF-8 as malformed-request", async () => {
    const step = await plain().start(Buffer.from([0, 0x75, 0, 0xc3, 0x28]));
    assert.equal(step.type === "failure" && step.condition, "malformed-request");
  });

  it("accepts the user's own JID as authzid and returns it normalized", async () => {
    const step = await plain().start(msg("User@Example.com\0user\0pencil"));
    assert.deepEqual(step, { type: "success", username: "user", authzid: "user@example.com" });
  });

  it("refuses another identity as authzid", async () => {
    const step = await plain().start(msg("admin@example.com\0user\0pencil"));
    assert.deepEqual(step, { type: "failure", condition: "invalid-authzid" });
  });

  it("prepares the password with OpaqueString (non-ASCII spaces)", async () => {
    accounts.spaced = await deriveCredentials("two words", ITERATIONS);
    assert.equal((await plain().start(msg("\0spaced\0two\u2003words"))).type, "success");
  });
});
