/**
 * JIDs (RFC 7622): parsing, PRECIS normalization of each part, and an immutable value type. Parsing is on the hot
 * path (every stanza's `to` and `from`), so results are cached and pure-ASCII parts skip the Unicode work.
 */
import { normalizeDomain } from "./domain.ts";
import { JidError } from "./error.ts";
import { opaqueString, PrecisError, usernameCaseMapped } from "./precis.ts";

export { normalizeDomain } from "./domain.ts";
export { JidError } from "./error.ts";

const MAX_PART_BYTES = 1023; // RFC 7622 §3.3.1, §3.4.1
// A part longer than this (in UTF-16 units) cannot shrink below MAX_PART_BYTES under PRECIS mapping (at most
// three code units compose into one character of at least one byte), so it is rejected before any Unicode work.
const MAX_INPUT_UNITS = 4 * MAX_PART_BYTES;

/** RFC 7622 §3.3.1: characters that IdentifierClass allows but a localpart must not contain. */
const LOCAL_PROHIBITED = /["&'/:<>@]/;

function byteLength(s: string): number {
  // Code units bound bytes from below, so short strings need no UTF-8 count.
  return s.length * 3 <= MAX_PART_BYTES ? s.length : Buffer.byteLength(s, "utf8");
}

function precis(part: string, profile: (s: string) => string, s: string): string {
  try {
    return profile(s);
  } catch (err) {
    if (err instanceof PrecisError) throw new JidError(`invalid ${part}: ${err.message}`);
    throw err;
  }
}

/** Normalizes a localpart (UsernameCaseMapped) alone, e.g. for `hearth adduser`; throws JidError. */
export function normalizeLocal(local: string): string {
  if (local === "") throw new JidError("empty localpart");
  if (local.length > MAX_INPUT_UNITS) throw new JidError("localpart too long");
  const out = precis("localpart", usernameCaseMapped, local);
  const prohibited = LOCAL_PROHIBITED.exec(out);
  if (prohibited) throw new JidError(`localpart contains prohibited character '${prohibited[0]}'`);
  if (byteLength(out) > MAX_PART_BYTES) throw new JidError("localpart too long");
  return out;
}

/** Normalizes a resourcepart (OpaqueString: case and inner spaces are kept); throws JidError. */
export function normalizeResource(resource: string): string {
  if (resource === "") throw new JidError("empty resourcepart");
  if (resource.length > MAX_INPUT_UNITS) throw new JidError("resourcepart too long");
  const out = precis("resourcepart", opaqueString, resource);
  if (byteLength(out) > MAX_PART_BYTES) throw new JidError("resourcepart too long");
  return out;
}

/** An immutable, normalized JID. Obtain one from `parseJid`, `tryParseJid` or `makeJid`. */
export class Jid {
  /** Localpart, "" if none. */
  readonly local: string;
  readonly domain: string;
  /** Resourcepart, "" if none. */
  readonly resource: string;
  #bare: Jid | undefined;
  #string: string | undefined;

  /** @internal The parts must already be normalized: use `parseJid` or `makeJid`. */
  constructor(local: string, domain: string, resource: string) {
    this.local = local;
    this.domain = domain;
    this.resource = resource;
  }

  /** The JID without its resource (itself if already bare). */
  get bare(): Jid {
    if (this.resource === "") return this;
    this.#bare ??= new Jid(this.local, this.domain, "");
    return this.#bare;
  }

  /** True if there is no resource. */
  get isBare(): boolean {
    return this.resource === "";
  }

  /** True for a plain domain JID (no localpart, no resource), such as a server or component address. */
  get isDomain(): boolean {
    return this.local === "" && this.resource === "";
  }

  /** "local@domain", or "domain" without a localpart. */
  get bareString(): string {
    return this.local === "" ? this.domain : `${this.local}@${this.domain}`;
  }

  /** The normalized form "local@domain/resource" (absent parts and their separators left out). */
  toString(): string {
    this.#string ??= this.resource === "" ? this.bareString : `${this.bareString}/${this.resource}`;
    return this.#string;
  }

  /** Serializes as the string form (e.g. in JSON logs). */
  toJSON(): string {
    return this.toString();
  }

  /** Equality of the normalized forms. */
  equals(other: Jid): boolean {
    return (
      this === other || (this.local === other.local && this.domain === other.domain && this.resource === other.resource)
    );
  }

  /** The same bare JID with another resource, which is normalized; throws JidError. */
  withResource(resource: string): Jid {
    return new Jid(this.local, this.domain, normalizeResource(resource));
  }
}

function parseUncached(s: string): Jid {
  // RFC 7622 §3.1: the resource is everything after the first '/'; the localpart is everything before the first
  // '@' that precedes it.
  const slash = s.indexOf("/");
  const head = slash === -1 ? s : s.slice(0, slash);
  const at = head.indexOf("@");
  const local = at === -1 ? "" : normalizeLocal(head.slice(0, at));
  const domain = normalizeDomain(at === -1 ? head : head.slice(at + 1));
  const resource = slash === -1 ? "" : normalizeResource(s.slice(slash + 1));
  return new Jid(local, domain, resource);
}

// Recently parsed inputs → result (a Jid, or the error message of an invalid input so that repeated garbage costs
// nothing either). Cleared when full; long inputs are not cached so the memory stays bounded (~10 MB at most).
const CACHE_SIZE = 10_000;
const CACHE_MAX_INPUT = 512;
const cache = new Map<string, Jid | string>();

/** Parses and normalizes (PRECIS) a JID string. Throws JidError for invalid input. */
export function parseJid(s: string): Jid {
  const cached = cache.get(s);
  if (cached !== undefined) {
    if (typeof cached === "string") throw new JidError(cached);
    return cached;
  }
  let result: Jid | string;
  try {
    result = parseUncached(s);
  } catch (err) {
    if (!(err instanceof JidError)) throw err;
    result = err.message;
  }
  if (s.length <= CACHE_MAX_INPUT) {
    if (cache.size >= CACHE_SIZE) cache.clear();
    cache.set(s, result);
  }
  if (typeof result === "string") throw new JidError(result);
  return result;
}

/** Same as `parseJid`, but null instead of throwing. */
export function tryParseJid(s: string): Jid | null {
  try {
    return parseJid(s);
  } catch (err) {
    if (err instanceof JidError) return null;
    throw err;
  }
}

/**
 * Builds a JID from parts, normalizing each; an empty localpart or resource means "none". Throws JidError.
 */
export function makeJid(local: string, domain: string, resource?: string): Jid {
  return new Jid(
    local === "" ? "" : normalizeLocal(local),
    normalizeDomain(domain),
    resource === undefined || resource === "" ? "" : normalizeResource(resource),
  );
}
