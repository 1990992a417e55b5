/** Small presence helpers shared by the roster, presence and message modules. */
import type { ModuleContext } from "../../core/module.ts";
import type { C2sSession } from "../../core/session.ts";
import type { Jid } from "../../jid/jid.ts";
import { type XmlElement, xml } from "../../xml/element.ts";

/** Resources that sent available presence (RFC 6121 §1.3 "available resource"). */
export function availableResources(ctx: ModuleContext, bare: Jid | string): C2sSession[] {
  return ctx.sessions.resources(bare).filter((s) => s.presence !== null);
}

/**
 * Parses `<priority/>` (RFC 6121 §4.7.2.3): an integer from -128 to 127, 0 when absent. Returns null when the
 * value is not such an integer.
 */
export function parsePriority(presence: XmlElement): number | null {
  const text = presence.getChildText("priority");
  if (text === undefined) return 0;
  const t = text.trim();
  if (!/^[+-]?\d{1,3}$/.test(t)) return null;
  const n = Number.parseInt(t, 10);
  return n >= -128 && n <= 127 ? n : null;
}

/** A copy of a stanza readdressed (ids, children and other attributes kept). */
export function readdress(stanza: XmlElement, from: string, to: string): XmlElement {
  const copy = stanza.clone();
  copy.attrs.from = from;
  copy.attrs.to = to;
  return copy;
}

/** Sends the current presence of each of the user's available resources to `to` (RFC 6121 §3.1.5, §4.3.2). */
export async function sendPresenceOf(ctx: ModuleContext, user: Jid, to: string): Promise<void> {
  for (const s of availableResources(ctx, user)) {
    if (s.presence) await ctx.send(readdress(s.presence, s.jid.toString(), to));
  }
}

/** Sends unavailable presence from each of the user's available resources to `to` (RFC 6121 §3.2.2, §3.3.3). */
export async function sendUnavailableOf(ctx: ModuleContext, user: Jid, to: string): Promise<void> {
  for (const s of availableResources(ctx, user)) {
    await ctx.send(xml("presence", { type: "unavailable", from: s.jid.toString(), to }));
  }
}
