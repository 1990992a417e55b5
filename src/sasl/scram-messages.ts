/**
 * Parsers for the client messages of SCRAM (RFC 5802 §7 grammar). Attribute values never contain ',', so the
 * messages split on it. Syntax errors throw ScramSyntaxError, which becomes `malformed-request`.
 */

/** The client message does not follow the RFC 5802 §7 grammar. */
export class ScramSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ScramSyntaxError";
  }
}

/** gs2-cbind-flag (RFC 5802 §7): no channel binding, "client supports it but thinks the server does not", or
 *  the binding type used. */
export type CbindFlag = { kind: "n" } | { kind: "y" } | { kind: "p"; type: string };

export interface ClientFirst {
  cbind: CbindFlag;
  /** Decoded authzid, or null if none. */
  authzid: string | null;
  /** The gs2 header exactly as sent, e.g. "n,,"; the client repeats it in the c= attribute. */
  gs2Header: string;
  /** client-first-message-bare, part of the AuthMessage. */
  bare: string;
  /** Decoded username (authcid), not normalized. */
  username: string;
  nonce: string;
}

export interface ClientFinal {
  /** The c= value (base64), compared verbatim. */
  channelBinding: string;
  nonce: string;
  proof: Buffer;
  /** client-final-message-without-proof, part of the AuthMessage. */
  withoutProof: string;
}

const PRINTABLE = /^[\x21-\x2b\x2d-\x7e]+$/; // RFC 5802 §7 printable: ASCII without ','
const CB_NAME = /^[A-Za-z0-9.-]+$/; // RFC 5056 §7 channel binding type names
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const EXTENSION = /^[A-Za-z]=[^,]+$/;

function attribute(part: string | undefined, name: string): string {
  if (part === undefined || !part.startsWith(`${name}=`))
    throw new ScramSyntaxError(`expected the '${name}' attribute`);
  return part.slice(2);
}

/** RFC 5802 §5.1: in a saslname, ',' and '=' are sent as "=2C" and "=3D"; any other '=' is invalid. */
function decodeSaslname(value: string, what: string): string {
  if (value === "") throw new ScramSyntaxError(`empty ${what}`);
  if (/=(?!2[Cc]|3[Dd])/.test(value)) throw new ScramSyntaxError(`invalid '=' escape in ${what}`);
  return value.replace(/=(2[Cc]|3[Dd])/g, (_, code: string) => (code === "2C" || code === "2c" ? "," : "="));
}

function nonce(part: string | undefined): string {
  const value = attribute(part, "r");
  if (!PRINTABLE.test(value)) throw new ScramSyntaxError("invalid nonce");
  return value;
}

/**
 * RFC 5802 §7 `extensions`: unknown ones MUST be ignored, but 'm' (reserved-mext) means an extension we do not
 * know is mandatory, which MUST fail; an attribute may not appear twice.
 */
function checkExtensions(parts: readonly string[], seen: Set<string>): void {
  for (const part of parts) {
    if (!EXTENSION.test(part)) throw new ScramSyntaxError("invalid attribute");
    const name = part[0]!;
    if (name === "m") throw new ScramSyntaxError("unsupported mandatory extension");
    if (seen.has(name)) throw new ScramSyntaxError(`duplicate '${name}' attribute`);
    seen.add(name);
  }
}

function cbindFlag(part: string): CbindFlag {
  if (part === "n" || part === "y") return { kind: part };
  if (part.startsWith("p=") && CB_NAME.test(part.slice(2))) return { kind: "p", type: part.slice(2) };
  throw new ScramSyntaxError("invalid channel binding flag");
}

/** Parses client-first-message = gs2-header client-first-message-bare. */
export function parseClientFirst(msg: string): ClientFirst {
  if (msg.includes("\0")) throw new ScramSyntaxError("NUL in message");
  const parts = msg.split(",");
  if (parts.length < 4) throw new ScramSyntaxError("incomplete client-first-message");
  const [flag, authzidPart, usernamePart, noncePart, ...extensions] = parts as [string, string, string, string];
  const cbind = cbindFlag(flag);
  const authzid = authzidPart === "" ? null : decodeSaslname(attribute(authzidPart, "a"), "authzid");
  if (usernamePart.startsWith("m=")) throw new ScramSyntaxError("unsupported mandatory extension");
  const username = decodeSaslname(attribute(usernamePart, "n"), "username");
  checkExtensions(extensions, new Set(["n", "r"]));
  return {
    cbind,
    authzid,
    gs2Header: `${flag},${authzidPart},`,
    bare: parts.slice(2).join(","),
    username,
    nonce: nonce(noncePart),
  };
}

/** Parses client-final-message = channel-binding "," nonce ["," extensions] "," proof. */
export function parseClientFinal(msg: string): ClientFinal {
  if (msg.includes("\0")) throw new ScramSyntaxError("NUL in message");
  const parts = msg.split(",");
  if (parts.length < 3) throw new ScramSyntaxError("incomplete client-final-message");
  const channelBinding = attribute(parts[0], "c");
  if (channelBinding === "" || !BASE64.test(channelBinding)) throw new ScramSyntaxError("invalid channel binding");
  const finalNonce = nonce(parts[1]);
  const proof = attribute(parts[parts.length - 1], "p");
  if (proof === "" || !BASE64.test(proof)) throw new ScramSyntaxError("invalid proof");
  checkExtensions(parts.slice(2, -1), new Set(["c", "r", "p"]));
  return {
    channelBinding,
    nonce: finalNonce,
    proof: Buffer.from(proof, "base64"),
    withoutProof: parts.slice(0, -1).join(","),
  };
}
