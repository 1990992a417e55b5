/**
 * Domainpart preparation (RFC 7622 §3.2): IP literals, LDH names and internationalized names. IDNA conversion uses
 * the WHATWG URL standard's UTS #46 processing in node:url, which lowercases and maps (e.g. fullwidth letters)
 * before converting; RFC 7622 §3.2.1 permits this mapping. The result is the Unicode form (U-labels), so that
 * `xn--mller-kva.de` and `müller.de` are the same domain.
 */
import { isIPv4, isIPv6 } from "node:net";
import { domainToASCII, domainToUnicode } from "node:url";
import { JidError } from "./error.ts";

const MAX_BYTES = 1023; // RFC 7622 §3.2
const MAX_LABEL = 63; // RFC 1035 §2.3.4, on the A-label form
// Inputs longer than this cannot shrink below MAX_BYTES under IDNA mapping; rejected before any work.
const MAX_INPUT_UNITS = 4 * MAX_BYTES;

/** Plain LDH names with no A-label: the common case, no IDNA processing needed. */
const SIMPLE_NAME = /^[a-z0-9.-]+$/;
/** An LDH label (RFC 5890 §2.3.1): letters, digits, hyphens, not starting or ending with a hyphen. */
const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

function checkLabels(ascii: string): void {
  for (const label of ascii.split(".")) {
    if (label === "") throw new JidError("empty label in domainpart");
    if (label.length > MAX_LABEL) throw new JidError("domainpart label too long");
    if (!LDH_LABEL.test(label)) throw new JidError("invalid character in domainpart");
  }
}

function ipv6Literal(d: string): string {
  const inner = d.slice(1, -1);
  // Zone identifiers ("%eth0") mean nothing outside the host, and URL would reject them anyway.
  if (!d.endsWith("]") || inner.includes("%") || !isIPv6(inner)) throw new JidError("invalid IPv6 literal");
  // The URL serializer produces the RFC 5952 canonical text form (lowercase, longest zero run compressed).
  return new URL(`http://[${inner}]/`).hostname;
}

/** Normalizes a domainpart alone (lowercase, IDNA to Unicode form, IP literals); throws JidError. */
export function normalizeDomain(input: string): string {
  // RFC 7622 §3.2: a single trailing dot is not part of the domain.
  const d = input.endsWith(".") ? input.slice(0, -1) : input;
  if (d === "") throw new JidError("empty domainpart");
  if (d.length > MAX_INPUT_UNITS) throw new JidError("domainpart too long");
  if (d.startsWith("[")) return ipv6Literal(d);

  const lower = d.toLowerCase();
  if (SIMPLE_NAME.test(lower) && !lower.includes("xn--")) {
    if (isIPv4(lower)) return lower;
    checkLabels(lower);
    if (lower.length > MAX_BYTES) throw new JidError("domainpart too long");
    return lower;
  }

  const ascii = domainToASCII(lower.normalize("NFC"));
  if (ascii === "") throw new JidError("invalid internationalized domainpart");
  if (isIPv4(ascii)) return ascii; // e.g. written with fullwidth digits
  checkLabels(ascii);
  const unicode = domainToUnicode(ascii);
  // An A-label must decode to a U-label that encodes back to it (RFC 5891 §5.4). Node 20's URL parser
  // returns "" for an undecodable label, Node 24's leaves it as it was: catch both.
  if (unicode.split(".").some((label) => label.startsWith("xn--")) || domainToASCII(unicode) !== ascii) {
    throw new JidError("invalid internationalized domainpart");
  }
  if (Buffer.byteLength(unicode, "utf8") > MAX_BYTES) throw new JidError("domainpart too long");
  return unicode;
}
