import { normalizeLocal, tryParseJid } from "../jid/jid.ts";

/**
 * Checks an authorization identity (RFC 6120 §6.3.8). We do not support acting on behalf of another entity, so the
 * authzid must be the authenticating user's own bare JID. Returns its normalized form, or null if unacceptable.
 * The domain cannot be checked here (the mechanism does not know the host): the caller compares it.
 */
export function ownAuthzid(authzid: string, authcid: string): string | null {
  const jid = tryParseJid(authzid);
  if (!jid || jid.local === "" || !jid.isBare) return null;
  try {
    return jid.local === normalizeLocal(authcid) ? jid.toString() : null;
  } catch {
    return null;
  }
}
