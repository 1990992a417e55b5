import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";

/** A minimal SCRAM client (RFC 5802) for tests: drives the server side through a real exchange. */
export class ScramClient {
  private readonly nonce = randomBytes(18).toString("base64");
  private clientFirstBare = "";
  private serverSignature: Buffer | null = null;
  private readonly algo: string;

  constructor(
    hash: "SHA-1" | "SHA-256" | "SHA-512",
    private readonly username: string,
    private readonly password: string,
    private readonly cb: { type: string; data: Buffer } | null = null,
  ) {
    this.algo = hash.replace("-", "").toLowerCase();
  }

  private get gs2(): string {
    return this.cb ? `p=${this.cb.type},,` : "n,,";
  }

  first(): string {
    this.clientFirstBare = `n=${this.username.replace(/=/g, "=3D").replace(/,/g, "=2C")},r=${this.nonce}`;
    return this.gs2 + this.clientFirstBare;
  }

  final(serverFirst: string): string {
    const attrs = Object.fromEntries(serverFirst.split(",").map((p) => [p[0], p.slice(2)]));
    const r = attrs.r as string;
    if (!r.startsWith(this.nonce)) throw new Error("server nonce does not extend ours");
    const salt = Buffer.from(attrs.s as string, "base64");
    const iterations = Number(attrs.i);
    const keyLen = createHash(this.algo).digest().length;
    const salted = pbkdf2Sync(this.password, salt, iterations, keyLen, this.algo);
    const clientKey = createHmac(this.algo, salted).update("Client Key").digest();
    const storedKey = createHash(this.algo).update(clientKey).digest();
    const cbInput = Buffer.concat([Buffer.from(this.gs2), this.cb?.data ?? Buffer.alloc(0)]);
    const withoutProof = `c=${cbInput.toString("base64")},r=${r}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const clientSig = createHmac(this.algo, storedKey).update(authMessage).digest();
    const proof = Buffer.from(clientKey.map((b, i) => b ^ (clientSig[i] as number)));
    const serverKey = createHmac(this.algo, salted).update("Server Key").digest();
    this.serverSignature = createHmac(this.algo, serverKey).update(authMessage).digest();
    return `${withoutProof},p=${proof.toString("base64")}`;
  }

  /** True if the server's final message proves it knew our credentials. */
  verify(serverFinal: string): boolean {
    return serverFinal === `v=${this.serverSignature?.toString("base64")}`;
  }
}
