/** RFC 6120 §4.9.3 stream error conditions the parser can produce. */
export type XmlErrorCondition =
  | "not-well-formed"
  | "restricted-xml"
  | "policy-violation"
  | "invalid-xml"
  | "bad-format";

/**
 * A violation found while parsing. `condition` is the stream error to send (RFC 6120 §4.9.3); `message` is for
 * logs only and must not be echoed to the peer verbatim in untrusted contexts.
 */
export class XmlParseError extends Error {
  constructor(
    readonly condition: XmlErrorCondition,
    message: string,
  ) {
    super(message);
    this.name = "XmlParseError";
  }
}
