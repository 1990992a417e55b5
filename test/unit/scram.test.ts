import assert from "node:assert/strict";
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { deriveCredentials, deriveScram, verifyPassword } from "../../src/sasl/credentials.ts";
import { createMechanism, type SaslContext, type SaslStep, SCRAM_MECHANISMS } from "../../src/sasl/mechanism.ts";
import { ScramMechanism } from "../../src/sasl/scram.ts";
import type { AccountCredentials, ScramHash } from "../../src/storage/types.ts";

const ITERATIONS = 64; // keep the suite fast; the RFC vectors use 4096

interface TestContext extends SaslContext {
  lookups: string[];
}

function context(accounts: Record<string, AccountCredentials>, extra: Partial<SaslContext> = {}): TestContext {
  const lookups: string[] = [];
  return {
    lookups,
    async getScram(username: string, hash: ScramHash) {
      lookups.push(`${username}/${hash}`);
      return accounts[username]?.[hash] ?? null;
    },
    channelBinding: () => null,
    channelBindingTypes: [],
    plusAdvertised: false,
    ...extra,
  };
}

const text = (step: SaslStep): string => {
  assert.ok(step.type !== "failure", `unexpected failure: ${JSON.stringify(step)}`);
  return step.data?.toString("utf8") ?? "";
};
const send = (mech: ScramMechanism, msg: string) => mech.step(Buffer.from(msg, "utf8"));
const begin = (mech: ScramMechanism, msg: string) => mech.start(Buffer.from(msg, "utf8"));

describe("SCRAM test vectors", () => {
  it("RFC 5802 §5 SCRAM-SHA-1", async () => {
    const record = await deriveScram("pencil", "SHA-1", 4096, Buffer.from("QSXCR+Q6sek8bf92", "base64"));
    const mech = new ScramMechanism("SCRAM-SHA-1", context({ user: { "SHA-1": record } }), {
      serverNonce: "3rfcNHYJY1ZVvWVs7j",
    });
    const first = await begin(mech, "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
    assert.equal(text(first), "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096");
    const final = await send(
      mech,
      "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
    );
    assert.equal(final.type, "success");
    assert.equal(text(final), "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=");
    assert.equal(final.type === "success" && final.username, "user");
    assert.equal(final.type === "success" && final.authzid, undefined);
  });

  it("RFC 7677 §3 SCRAM-SHA-256", async () => {
    const record = await deriveScram("pencil", "SHA-256", 4096, Buffer.from("W22ZaJ0SNY7soEsUEjb6gQ==", "base64"));
    const mech = new ScramMechanism("SCRAM-SHA-256", context({ user: { "SHA-256": record } }), {
      serverNonce: "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
    });
    const first = await begin(mech, "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
    assert.equal(text(first), "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
    const final = await send(
      mech,
      "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
    );
    assert.equal(final.type, "success");
    assert.equal(text(final), "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
  });
});

/** A small independent SCRAM client, to drive the server through whole exchanges. */
class Client {
  readonly nonce = randomBytes(12).toString("base64");
  readonly digest: string;
  serverSignature = "";

  constructor(
    readonly hash: ScramHash,
    readonly user: string,
    readonly password: string,
    readonly gs2Header = "n,,",
    readonly cbData: Buffer = Buffer.alloc(0),
  ) {
    this.digest = hash.replace("-", "").toLowerCase();
  }

  get bare(): string {
    return `n=${this.user.replace(/=/g, "=3D").replace(/,/g, "=2C")},r=${this.nonce}`;
  }

  first(): string {
    return this.gs2Header + this.bare;
  }

  final(serverFirst: string): string {
    const attrs = new Map(serverFirst.split(",").map((a) => [a[0], a.slice(2)]));
    const nonce = attrs.get("r")!;
    assert.ok(nonce.startsWith(this.nonce), "server nonce extends the client's");
    const hmac = (key: Buffer, data: string | Buffer) => createHmac(this.digest, key).update(data).digest();
    const len = createHash(this.digest).digest().length;
    const salted = pbkdf2Sync(
      this.password,
      Buffer.from(attrs.get("s")!, "base64"),
      Number(attrs.get("i")),
      len,
      this.digest,
    );
    const clientKey = hmac(salted, "Client Key");
    const storedKey = createHash(this.digest).update(clientKey).digest();
    const c = Buffer.concat([Buffer.from(this.gs2Header), this.cbData]).toString("base64");
    const withoutProof = `c=${c},r=${nonce}`;
    const authMessage = `${this.bare},${serverFirst},${withoutProof}`;
    const signature = hmac(storedKey, authMessage);
    const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]!));
    this.serverSignature = hmac(hmac(salted, "Server Key"), authMessage).toString("base64");
    return `${withoutProof},p=${proof.toString("base64")}`;
  }
}

async function login(mech: ScramMechanism, client: Client): Promise<SaslStep> {
  const first = await begin(mech, client.first());
  if (first.type !== "challenge") return first;
  return send(mech, client.final(text(first)));
}

describe("SCRAM exchanges", () => {
  it("SCRAM-SHA-512 round trip, with the server signature the client expects", async () => {
    const creds = await deriveCredentials("correct horse", ITERATIONS);
    const mech = new ScramMechanism("SCRAM-SHA-512", context({ alice: creds }));
    const client = new Client("SHA-512", "alice", "correct horse");
    const result = await login(mech, client);
    assert.equal(result.type, "success");
    assert.equal(text(result), `v=${client.serverSignature}`);
  });

  it("sends an empty challenge without initial response, then accepts client-first", async () => {
    const creds = await deriveCredentials("pw", ITERATIONS);
    const mech = new ScramMechanism("SCRAM-SHA-256", context({ bob: creds }));
    const empty = await mech.start(null);
    assert.equal(empty.type, "challenge");
    assert.equal(empty.type === "challenge" && empty.data.length, 0);
    const client = new Client("SHA-256", "bob", "pw");
    const first = await send(mech, client.first());
    const final = await send(mech, client.final(text(first)));
    assert.equal(final.type, "success");
  });

  it("fails a wrong password with not-authorized and ends the exchange", async () => {
    const creds = await deriveCredentials("right", ITERATIONS);
    const mech = new ScramMechanism("SCRAM-SHA-1", context({ carol: creds }));
    assert.deepEqual(await login(mech, new Client("SHA-1", "carol", "wrong")), {
      type: "failure",
      condition: "not-authorized",
    });
    const again = await send(mech, "c=biws,r=x,p=AAAA");
    assert.equal(again.type === "failure" && again.condition, "malformed-request");
  });

  it("decodes =2C and =3D in the username", async () => {
    const ctx = context({});
    const mech = new ScramMechanism("SCRAM-SHA-1", ctx);
    await begin(mech, "n,,n=a=2Cb=3Dc,r=abc");
    assert.deepEqual(ctx.lookups, ["a,b=c/SHA-1"]);
  });

  it("ignores unknown extensions (RFC 5802 §7)", async () => {
    const mech = new ScramMechanism("SCRAM-SHA-1", context({}));
    const step = await begin(mech, "n,,n=user,r=abc,x=something,y=else=too");
    assert.equal(step.type, "challenge");
  });

  it("rejects a proof of the wrong length as a failed login", async () => {
    const creds = await deriveCredentials("pw", ITERATIONS);
    const mech = new ScramMechanism("SCRAM-SHA-256", context({ dave: creds }), { serverNonce: "srv" });
    await begin(mech, "n,,n=dave,r=cli");
    const step = await send(mech, "c=biws,r=clisrv,p=AAAA");
    assert.deepEqual(step, { type: "failure", condition: "not-authorized" });
  });

  it("fails on a nonce that is not the combined one", async () => {
    const mech = new ScramMechanism("SCRAM-SHA-1", context({}), { serverNonce: "srv" });
    await begin(mech, "n,,n=user,r=cli");
    const step = await send(mech, "c=biws,r=cli,p=AAAA");
    assert.equal(step.type === "failure" && step.text, "nonce mismatch");
  });
});

describe("SCRAM malformed messages", () => {
  const badFirst = [
    "",
    "n,,",
    "x,,n=user,r=abc",
    "p=,,n=user,r=abc",
    "p=tls exporter,,n=user,r=abc",
    "n,a=,n=user,r=abc",
    "n,z=x,n=user,r=abc",
    "n,,n=,r=abc",
    "n,,n=us=2Xer,r=abc",
    "n,,n=user=,r=abc",
    "n,,r=abc,n=user",
    "n,,n=user",
    "n,,n=user,r=",
    "n,,n=user,r=a b",
    "n,,m=ext,n=user,r=abc",
    "n,,n=user,r=abc,m=x",
    "n,,n=user,r=abc,r=def",
    "n,,n=user,r=abc,x=1,x=2",
    "n,,n=user,r=abc,",
    "n,,n=user,r=abc,xy=1",
    "n,,n=us\0er,r=abc",
  ];
  for (const msg of badFirst) {
    it(`client-first ${JSON.stringify(msg)} → malformed-request`, async () => {
      const mech = new ScramMechanism("SCRAM-SHA-1", context({}));
      const step = await begin(mech, msg);
      assert.equal(step.type === "failure" && step.condition, "malformed-request", JSON.stringify(step));
    });
  }

  it("client-first that is not UTF-8 → malformed-request", async () => {
    const mech = new ScramMechanism("SCRAM-SHA-1", context({}));
    const step = await mech.start(Buffer.from([0x6e, 0x2c, 0x2c, 0x6e, 0x3d, 0xff, 0x2c, 0x72, 0x3d, 0x61]));
    assert.equal(step.type === "failure" && step.condition, "malformed-request");
  });

  const badFinal = [
    "c=biws,r=clisrv",
    "c=biws,p=AAAA,r=clisrv",
    "r=clisrv,c=biws,p=AAAA",
    "c=biws,r=clisrv,p=AAA",
    "c=biws,r=clisrv,p=",
    "c=bi!s,r=clisrv,p=AAAA",
    "c=biws,r=clisrv,m=x,p=AAAA",
    "c=biws,r=clisrv,c=biws,p=AAAA",
  ];
  for (const msg of badFinal) {
    it(`client-final ${JSON.stringify(msg)} → malformed-request`, async () => {
      const mech = new ScramMechanism("SCRAM-SHA-1", context({}), { serverNonce: "srv" });
      await begin(mech, "n,,n=user,r=cli");
      const step = await send(mech, msg);
      assert.equal(step.type === "failure" && step.condition, "malformed-request", JSON.stringify(step));
    });
  }
});

describe("SCRAM channel binding (RFC 5802 §6)", () => {
  const cb = Buffer.from("exporter-key-material-0123456789");
  const tls = (extra: Partial<SaslContext> = {}) => ({
    channelBinding: (type: string) => (type === "tls-exporter" ? cb : null),
    channelBindingTypes: ["tls-exporter"],
    plusAdvertised: true,
    ...extra,
  });

  it("accepts -PLUS when the client's binding data matches", async () => {
    const creds = await deriveCredentials("pw", ITERATIONS);
    const mech = new ScramMechanism("SCRAM-SHA-256-PLUS", context({ eve: creds }, tls()));
    const result = await login(mech, new Client("SHA-256", "eve", "pw", "p=tls-exporter,,", cb));
    assert.equal(result.type, "success");
  });

  it("fails when the client's binding data differs (e.g. a man in the middle)", async () => {
    const creds = await deriveCredentials("pw", ITERATIONS);
    const mech = new ScramMechanism("SCRAM-SHA-256-PLUS", context({ eve: creds }, tls()));
    const other = Buffer.from("exporter-key-material-of-another");
    const result = await login(mech, new Client("SHA-256", "eve", "pw", "p=tls-exporter,,", other));
    assert.deepEqual(result, { type: "failure", condition: "not-authorized", text: "channel binding mismatch" });
  });

  it("fails when c= does not repeat the gs2 header", async () => {
    const mech = new ScramMechanism("SCRAM-SHA-1", context({}), { serverNonce: "srv" });
    await begin(mech, "y,,n=user,r=cli");
    const step = await send(mech, "c=biws,r=clisrv,p=AAAA"); // "n,," instead of "y,,"
    assert.equal(step.type === "failure" && step.text, "channel binding mismatch");
  });

  it("requires p= for -PLUS and refuses it otherwise", async () => {
    for (const [name, header] of [
      ["SCRAM-SHA-1-PLUS", "n,,"],
      ["SCRAM-SHA-1-PLUS", "y,,"],
      ["SCRAM-SHA-1", "p=tls-exporter,,"],
    ] as const) {
      const mech = new ScramMechanism(name, context({}, tls()));
      const step = await begin(mech, `${header}n=user,r=abc`);
      assert.equal(step.type === "failure" && step.condition, "malformed-request", `${name} ${header}`);
    }
  });

  it("refuses a binding type the connection does not support", async () => {
    const mech = new ScramMechanism("SCRAM-SHA-1-PLUS", context({}, tls()));
    const step = await begin(mech, "p=tls-unique,,n=user,r=abc");
    assert.equal(step.type === "failure" && step.text, "unsupported channel binding type 'tls-unique'");
  });

  it("detects a downgrade: 'y' while -PLUS was advertised", async () => {
    const mech = new ScramMechanism("SCRAM-SHA-256", context({}, tls()));
    const step = await begin(mech, "y,,n=user,r=abc");
    assert.deepEqual(step, { type: "failure", condition: "not-authorized", text: "channel binding downgrade" });
  });

  it("accepts 'y' when no -PLUS was advertised", async () => {
    const creds = await deriveCredentials("pw", ITERATIONS);
    const mech = new ScramMechanism("SCRAM-SHA-256", context({ eve: creds }));
    const result = await login(mech, new Client("SHA-256", "eve", "pw", "y,,"));
    assert.equal(result.type, "success");
  });
});

describe("SCRAM authzid", () => {
  it("returns the normalized authzid when it names the user", async () => {
    const creds = await deriveCredentials("pw", ITERATIONS);
    const mech = new ScramMechanism("SCRAM-SHA-1", context({ frank: creds }));
    const result = await login(mech, new Client("SHA-1", "frank", "pw", "n,a=Frank@Example.COM,"));
    assert.equal(result.type === "success" && result.authzid, "frank@example.com");
  });

  it("refuses an authzid for another user or with a resource", async () => {
    for (const authzid of ["admin@example.com", "frank@example.com/res", "example.com", "not a jid@x"]) {
      const mech = new ScramMechanism("SCRAM-SHA-1", context({}));
      const step = await begin(mech, `n,a=${authzid},n=frank,r=abc`);
      assert.equal(step.type === "failure" && step.condition, "invalid-authzid", authzid);
    }
  });
});

describe("SCRAM with unknown users", () => {
  const SHAPE = /^r=abc[A-Za-z0-9+/]{24},s=[A-Za-z0-9+/]{22}==,i=(\d+)$/;

  it("answers with a server-first of the same shape as for a real user", async () => {
    const creds = await deriveCredentials("pw", 4096);
    const real = await begin(new ScramMechanism("SCRAM-SHA-256", context({ grace: creds })), "n,,n=grace,r=abc");
    const fake = await begin(new ScramMechanism("SCRAM-SHA-256", context({})), "n,,n=nobody,r=abc");
    assert.equal(SHAPE.exec(text(real))?.[1], "4096");
    assert.equal(SHAPE.exec(text(fake))?.[1], "4096");
  });

  it("uses the configured iteration count and a stable salt per (normalized) name", async () => {
    const salt = async (user: string, hash = "SHA-256") => {
      const mech = new ScramMechanism(`SCRAM-${hash}`, context({}, { scramIterations: 10_000 }));
      const step = text(await begin(mech, `n,,n=${user},r=abc`));
      assert.match(step, /,i=10000$/);
      return /s=([^,]+)/.exec(step)![1];
    };
    assert.equal(await salt("nobody"), await salt("nobody"));
    assert.equal(await salt("nobody"), await salt("NoBody"));
    assert.notEqual(await salt("nobody"), await salt("somebody"));
    assert.notEqual(await salt("nobody"), await salt("nobody", "SHA-1"));
  });

  it("fails at the end exactly like a wrong password", async () => {
    const creds = await deriveCredentials("pw", ITERATIONS);
    const ctx = context({ heidi: creds });
    const wrong = await login(new ScramMechanism("SCRAM-SHA-256", ctx), new Client("SHA-256", "heidi", "nope"));
    const unknown = await login(new ScramMechanism("SCRAM-SHA-256", ctx), new Client("SHA-256", "ivan", "nope"));
    assert.deepEqual(unknown, wrong);
    assert.deepEqual(unknown, { type: "failure", condition: "not-authorized" });
  });
});

describe("createMechanism and credentials", () => {
  it("creates every SCRAM variant and PLAIN, and nothing else", () => {
    const ctx = context({});
    for (const name of [...SCRAM_MECHANISMS, "PLAIN"]) assert.equal(createMechanism(name, ctx)?.name, name);
    assert.equal(createMechanism("SCRAM-MD5", ctx), null);
    assert.equal(createMechanism("DIGEST-MD5", ctx), null);
    assert.deepEqual(SCRAM_MECHANISMS.slice(0, 3), ["SCRAM-SHA-512-PLUS", "SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS"]);
  });

  it("derives one record per hash with its own salt", async () => {
    const creds = await deriveCredentials("secret", ITERATIONS);
    assert.deepEqual(Object.keys(creds).sort(), ["SHA-1", "SHA-256", "SHA-512"]);
    assert.equal(Buffer.from(creds["SHA-512"]!.storedKey, "base64").length, 64);
    assert.equal(Buffer.from(creds["SHA-1"]!.serverKey, "base64").length, 20);
    assert.equal(Buffer.from(creds["SHA-256"]!.salt, "base64").length, 16);
    assert.notEqual(creds["SHA-1"]!.salt, creds["SHA-256"]!.salt);
    assert.equal(creds["SHA-256"]!.iterations, ITERATIONS);
  });

  it("verifies passwords after OpaqueString preparation", async () => {
    const record = await deriveScram("pass word", "SHA-256", ITERATIONS);
    assert.equal(await verifyPassword("pass word", record, "SHA-256"), true);
    assert.equal(await verifyPassword("pass\u00a0word", record, "SHA-256"), true); // non-ASCII space → U+0020
    assert.equal(await verifyPassword("Pass word", record, "SHA-256"), false);
    assert.equal(await verifyPassword("pass\u0000word", record, "SHA-256"), false);
  });

  it("refuses to derive from a password the profile rejects", async () => {
    await assert.rejects(deriveScram("", "SHA-1", ITERATIONS), /invalid password: empty string/);
    await assert.rejects(deriveScram("a\u0007", "SHA-1", ITERATIONS), /invalid password: disallowed character U\+0007/);
  });
});
