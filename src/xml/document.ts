import type { XmlElement } from "./element.ts";
import { XmlParseError } from "./errors.ts";
import { type XmlLimits, XmlStreamParser } from "./parser.ts";

/**
 * Parses one complete XML document/element (a WebSocket frame per RFC 7395 §3.3, a BOSH `<body/>`), with the
 * same restrictions as a stream (RFC 6120 §11): an XML declaration at the start and whitespace around the element
 * are allowed, nothing else outside it. `maxStanzaBytes` caps the whole input and `maxDepth` counts the root as 1.
 * Throws XmlParseError.
 */
export function parseDocument(input: Buffer | string, limits: XmlLimits): XmlElement {
  const size = typeof input === "string" ? Buffer.byteLength(input, "utf8") : input.length;
  if (size > limits.maxStanzaBytes) {
    throw new XmlParseError("policy-violation", `document exceeds ${limits.maxStanzaBytes} bytes`);
  }
  let root: XmlElement | undefined;
  let error: XmlParseError | undefined;
  const parser = new XmlStreamParser(
    {
      onStreamStart() {},
      onStreamEnd() {},
      onStanza(el) {
        root = el;
      },
      onError(err) {
        error = err;
      },
    },
    limits,
    "document",
  );
  parser.write(input);
  parser.finish();
  if (error !== undefined) throw error;
  if (root === undefined) throw new XmlParseError("not-well-formed", "no root element");
  return root;
}
