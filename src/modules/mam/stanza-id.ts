/** Unique and stable stanza IDs (XEP-0359) as the archive assigns them. */
import { randomBytes } from "node:crypto";
import { tryParseJid } from "../../jid/jid.ts";
import { type XmlElement, xml } from "../../xml/element.ts";
import { NS_SID } from "./ns.ts";

/**
 * A new archive id: 72 random bits, URL-safe. XEP-0313 §3 wants ids unpredictable and never reused; at this
 * size a collision within one archive is not a practical concern.
 */
export function newArchiveId(): string {
  return randomBytes(9).toString("base64url");
}

/** Whether a `by` attribute names this archive (compared in normalized form, so case tricks do not pass). */
function sameJid(by: string | undefined, archive: string): boolean {
  if (by === undefined) return false;
  if (by === archive) return true;
  return tryParseJid(by)?.toString() === archive;
}

/**
 * Removes every `<stanza-id/>` that claims to come from this archive. XEP-0359 §3.3: an entity that stamps
 * ids MUST remove such elements from stanzas it did not stamp, or a sender could forge archive ids.
 */
export function stripStanzaIds(message: XmlElement, archive: string): void {
  message.children = message.children.filter(
    (c) => typeof c === "string" || c.name !== "stanza-id" || c.attrs.xmlns !== NS_SID || !sameJid(c.attrs.by, archive),
  );
}

/** Adds `<stanza-id xmlns='urn:xmpp:sid:0' by='archive' id='…'/>` (XEP-0359 §3.1, XEP-0313 §3.5). */
export function stampStanzaId(message: XmlElement, archive: string, id: string): void {
  message.append(xml("stanza-id", { xmlns: NS_SID, by: archive, id }));
}
