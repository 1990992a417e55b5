import { type Jid, tryParseJid } from "../jid/jid.ts";
import type { Logger } from "../log.ts";
import type { XmlElement } from "../xml/element.ts";
import { StanzaError } from "./errors.ts";
import type { Destination, Host, HostEvents, RemoteRoute, StanzaEvent } from "./host.ts";
import type { Session } from "./session.ts";
import type { SessionManager } from "./sessions.ts";
import { errorReplyFrom } from "./stanza.ts";

/**
 * The stanza router (RFC 6120 §10). Given a stanza whose `from` is already validated and stamped, it
 * decides where it goes:
 *
 * | `to` domain is…               | then                                                     |
 * |-------------------------------|----------------------------------------------------------|
 * | one of our hosts              | fire `<kind>/<host|bare|full>` on that host's event bus  |
 * | a connected external component| hand it to the component session                         |
 * | anything else                 | the remote route (s2s), or `remote-server-not-found`     |
 *
 * If no module handles a stanza for one of our hosts, the fallback of RFC 6120 §10.5 / RFC 6121 §8
 * applies: a full JID with a live session gets the stanza; iq get/set is answered with
 * `service-unavailable`; messages bounce with `service-unavailable`; presence is dropped.
 */
export class Router {
  /** External components (XEP-0114) currently connected, by domain. */
  readonly components = new Map<string, Session>();
  /** Domains configured as components, even when not connected (so we answer for them, not s2s). */
  readonly componentDomains = new Set<string>();
  remote: RemoteRoute | null = null;

  constructor(
    private readonly hosts: Map<string, Host>,
    private readonly sessions: SessionManager,
    private readonly log: Logger,
  ) {}

  /**
   * Routes a stanza. `from` must be a valid JID (the origin's layer stamped it). Resolves once local
   * handlers ran, so callers that await it keep per-session order.
   */
  async route(stanza: XmlElement, origin: Session | null): Promise<void> {
    const from = tryParseJid(stanza.attrs.from ?? "");
    if (!from) {
      this.log.warn({ stanza: stanza.toString() }, "dropping stanza without a valid from");
      return;
    }
    const toAttr = stanza.attrs.to;
    if (toAttr === undefined) {
      this.log.warn({ stanza: stanza.toString() }, "dropping stanza without to");
      return;
    }
    const to = tryParseJid(toAttr);
    if (!to) {
      await this.bounce(stanza, new StanzaError("modify", "jid-malformed", "Invalid 'to' address"));
      return;
    }
    // Normalize the address on the wire so that every later comparison sees one form.
    if (toAttr !== to.toString()) stanza.attrs.to = to.toString();
    await this.routeTo(stanza, origin, from, to);
  }

  private async routeTo(stanza: XmlElement, origin: Session | null, from: Jid, to: Jid): Promise<void> {
    const host = this.hosts.get(to.domain);
    if (host) {
      await this.deliverLocal(host, { stanza, origin, from, to, host });
      return;
    }
    const component = this.components.get(to.domain);
    if (component) {
      component.send(stanza);
      return;
    }
    if (this.componentDomains.has(to.domain)) {
      await this.bounce(stanza, new StanzaError("cancel", "service-unavailable", "The component is not connected"));
      return;
    }
    if (this.remote) {
      try {
        await this.remote.send(stanza, to);
      } catch (err) {
        await this.bounce(
          stanza,
          err instanceof StanzaError ? err : new StanzaError("cancel", "remote-server-not-found"),
        );
      }
      return;
    }
    await this.bounce(stanza, new StanzaError("cancel", "remote-server-not-found", "Federation is not enabled"));
  }

  private async deliverLocal(host: Host, ev: StanzaEvent): Promise<void> {
    const { stanza, to } = ev;
    const dest: Destination = to.local === "" ? "host" : to.resource === "" ? "bare" : "full";
    const kind = stanza.name as "message" | "presence" | "iq";
    try {
      if (await host.events.fire("stanza/in", ev)) return;
      if (kind === "iq") {
        const type = stanza.attrs.type;
        if (type === "get" || type === "set") {
          const payload = stanza.firstElement();
          const ns = payload ? (payload.attrs.xmlns ?? "") : "";
          // RFC 6120 §8.2.3: an iq get/set has exactly one payload element.
          if (!payload || stanza.elements().length !== 1) {
            await this.bounce(
              stanza,
              new StanzaError("modify", "bad-request", "An iq get/set needs exactly one payload"),
            );
            return;
          }
          const name = `iq-${type}/${dest}/${ns}` as `iq-get/${string}`;
          if (await host.events.fire(name, ev)) return;
        }
      }
      if (await host.events.fire(`${kind}/${dest}` as keyof HostEvents & `${string}/${Destination}`, ev)) return;
      await this.fallback(ev, dest);
    } catch (err) {
      if (err instanceof StanzaError) {
        await this.bounce(stanza, err);
      } else {
        this.log.error({ err, stanza: stanza.toString() }, "handler failed");
        await this.bounce(stanza, new StanzaError("cancel", "internal-server-error"));
      }
    }
  }

  /** RFC 6120 §10.5 when no module took the stanza. */
  private async fallback(ev: StanzaEvent, dest: Destination): Promise<void> {
    const { stanza, to } = ev;
    if (dest === "full") {
      const session = this.sessions.get(to);
      if (session) {
        session.send(stanza);
        return;
      }
    }
    const type = stanza.attrs.type;
    if (stanza.name === "iq") {
      if (type === "get" || type === "set") await this.bounce(stanza, new StanzaError("cancel", "service-unavailable"));
      return;
    }
    if (stanza.name === "message") {
      await this.bounce(stanza, new StanzaError("cancel", "service-unavailable"));
    }
    // Presence nobody handles is silently dropped (RFC 6121 §4.3.2, §4.6.3).
  }

  /** Sends an error reply for a stanza back to its sender (never for errors/results). */
  async bounce(stanza: XmlElement, err: StanzaError): Promise<void> {
    const reply = errorReplyFrom(stanza, err);
    if (!reply) return;
    if (!reply.attrs.from) {
      // A stanza that had no `to` is answered from the sender's own account/server.
      const sender = tryParseJid(stanza.attrs.from ?? "");
      if (!sender) return;
      reply.attrs.from = sender.domain;
    }
    await this.route(reply, null);
  }
}
