import type { HearthConfig } from "../config/types.ts";
import type { Invite } from "../storage/invites.ts";

/** Path of the invite landing page the web module serves for a token. */
export function invitePath(token: string): string {
  return `/invite/${token}`;
}

/** A JID's localpart in an `xmpp:` URI (RFC 5122 §2.2: characters outside the URI syntax are %-encoded). */
function uriLocal(local: string): string {
  return encodeURIComponent(local);
}

/**
 * The `xmpp:` URI of an invitation:
 * - a contact invitation names the (first) contact: `xmpp:romeo@example.org?roster;preauth=TOKEN;ibr=y`
 *   (XEP-0379 §3.2; `ibr=y` when the token also creates an account, XEP-0401 §5.1 / XEP-0445 §2.3);
 * - an account invitation names the reserved account or just the host:
 *   `xmpp:juliet@example.org?register;preauth=TOKEN`, `xmpp:example.org?register;preauth=TOKEN` (XEP-0445 §2).
 */
export function inviteUri(invite: Invite): string {
  const contact = invite.roster[0];
  if (contact !== undefined && invite.username === null) {
    const at = contact.lastIndexOf("@");
    const jid = `${uriLocal(contact.slice(0, at))}@${contact.slice(at + 1)}`;
    return `xmpp:${jid}?roster;preauth=${invite.token}${invite.allowRegistration ? ";ibr=y" : ""}`;
  }
  const target = invite.username === null ? invite.host : `${uriLocal(invite.username)}@${invite.host}`;
  return `xmpp:${target}?register;preauth=${invite.token}`;
}

/**
 * The https:// (or http://) address of the invite landing page, or null when no HTTP listener can serve it:
 * `http.external_url` when set (a reverse proxy), else the host on the configured HTTPS port, else on the
 * plain HTTP port. A port of 0 (picked at startup) cannot be named in advance, so it gives no address.
 */
export function landingUrl(config: HearthConfig, host: string, token: string): string | null {
  const path = invitePath(token);
  const external = config.http.external_url.replace(/\/+$/, "");
  if (external !== "") return `${external}${path}`;
  const { tls_port, port } = config.http;
  if (tls_port > 0) return `https://${host}${tls_port === 443 ? "" : `:${tls_port}`}${path}`;
  if (port > 0) return `http://${host}${port === 80 ? "" : `:${port}`}${path}`;
  return null;
}

/**
 * Both addresses of an invitation: the `xmpp:` URI a client opens, and the landing page for people without a
 * client yet (XEP-0401 §5.1 `uri` and `landing-url`). The web module serves the page at `invitePath(token)`.
 */
export function inviteUrls(config: HearthConfig, invite: Invite): { uri: string; landing: string | null } {
  return { uri: inviteUri(invite), landing: landingUrl(config, invite.host, invite.token) };
}
