import { parseDocument } from "../../xml/document.ts";
import type { XmlElement } from "../../xml/element.ts";
import { XmlParseError } from "../../xml/errors.ts";

// Stored stanzas passed the stream limits when they arrived; these bounds only guard against a damaged store.
const LIMITS = { maxStanzaBytes: 16 * 1024 * 1024, maxDepth: 1000 };

/** Parses a stanza kept in storage (offline message, pending subscription request); null if it is damaged. */
export function parseStoredStanza(serialized: string): XmlElement | null {
  try {
    return parseDocument(serialized, LIMITS);
  } catch (err) {
    if (err instanceof XmlParseError) return null;
    throw err;
  }
}
