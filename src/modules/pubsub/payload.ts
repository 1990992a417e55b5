/** Item payloads between the wire and storage: self-contained on the way in, parsed on the way out. */
import { parseDocument } from "../../xml/document.ts";
import type { XmlElement } from "../../xml/element.ts";
import { XmlParseError } from "../../xml/errors.ts";

// Stored payloads passed the stream limits when they arrived; these bounds only guard against a damaged store.
const LIMITS = { maxStanzaBytes: 16 * 1024 * 1024, maxDepth: 1000 };

/**
 * A copy of a payload that keeps its meaning outside the stanza it came in: its namespace and the prefix
 * declarations of its ancestors become its own attributes.
 */
export function detachPayload(payload: XmlElement, ancestors: XmlElement[]): XmlElement {
  const copy = payload.clone();
  const chain = [...ancestors].reverse(); // nearest ancestor first
  if (copy.attrs.xmlns === undefined) {
    const ns = chain.find((a) => a.attrs.xmlns !== undefined)?.attrs.xmlns;
    if (ns !== undefined) copy.attrs.xmlns = ns;
  }
  for (const a of chain) {
    for (const [k, v] of Object.entries(a.attrs)) {
      if (k.startsWith("xmlns:") && copy.attrs[k] === undefined) copy.attrs[k] = v;
    }
  }
  return copy;
}

/** Parses a stored payload; null for an item stored without one, or a damaged one. */
export function parsePayload(serialized: string): XmlElement | null {
  if (serialized === "") return null;
  try {
    return parseDocument(serialized, LIMITS);
  } catch (err) {
    if (err instanceof XmlParseError) return null;
    throw err;
  }
}
