import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { StreamTransport, StreamTransportEvents } from "../c2s/transport.ts";
import { StanzaError, StreamError } from "../core/errors.ts";
import type { Server } from "../core/server.ts";
import type { Session } from "../core/session.ts";
import { errorReplyFrom, isStanzaKind, streamErrorElement } from "../core/stanza.ts";
import { tryParseJid } from "../jid/jid.ts";
import type { Logger } from "../log.ts";
import { type XmlElement, xml } from "../xml/element.ts";
import { NS } from "../xmpp/ns.ts";

let nextId = 0;

/**
 * An external component connection (XEP-0114, "jabber:component:accept"). The component opens a
 * stream to its own domain, proves the shared secret with a SHA-1 handshake over the stream id, and
 * then receives every stanza addressed to its domain (and may send from any JID in it).
 */
export class ComponentStream implements Session, StreamTransportEvents {
  readonly kind = "component";
  readonly id = `component-${(++nextId).toString(36)}`;
  private domain = "";
  private streamId = "";
  private authenticated = false;
  private state: "open" | "closing" | "closed" = "open";
  private resolveFinished!: () => void;
  readonly finished = new Promise<void>((r) => {
    this.resolveFinished = r;
  });
  private readonly log: Logger;
  private queue: Promise<void> = Promise.resolve();
  private readonly authTimer: NodeJS.Timeout;

  constructor(
    private readonly server: Server,
    private readonly transport: StreamTransport,
  ) {
    this.log = server.log.child({ component: this.id });
    server.connections.add(this);
    this.authTimer = setTimeout(
      () => this.close(new StreamError("connection-timeout", "Handshake took too long")),
      server.config.c2s.auth_timeout * 1000,
    );
    this.authTimer.unref();
  }

  get closed(): boolean {
    return this.state === "closed";
  }

  send(stanza: XmlElement): void {
    if (this.state !== "open" || !this.authenticated) return;
    this.transport.send(stanza);
  }

  whenIdle(): Promise<void> {
    return this.queue;
  }

  close(error?: StreamError): void {
    if (this.state !== "open") return;
    this.state = "closing";
    if (error) {
      if (!this.streamId) this.openStream(this.server.config.hosts[0] ?? "localhost");
      this.transport.send(streamErrorElement(error));
    }
    this.transport.closeStream();
  }

  onActivity(): void {}

  onStreamOpen(attrs: Record<string, string>): void {
    // A socket callback: an exception here would be uncaught and end the process, so it ends the stream.
    try {
      this.streamOpened(attrs);
    } catch (err) {
      this.log.error({ err }, "component stream failed");
      this.transport.destroy();
    }
  }

  private streamOpened(attrs: Record<string, string>): void {
    const to = tryParseJid(attrs.to ?? "")?.toString() ?? "";
    this.openStream(to || (this.server.config.hosts[0] ?? "localhost"));
    if (attrs.xmlns !== NS.componentAccept) {
      this.close(new StreamError("invalid-namespace", "Expected jabber:component:accept"));
      return;
    }
    if (!this.server.config.components[to]) {
      this.close(new StreamError("host-unknown", `No component is configured for ${to || "(no 'to')"}`));
      return;
    }
    this.domain = to;
  }

  onElement(el: XmlElement): void {
    // Keep the component's stanzas in order even though routing is async.
    this.queue = this.queue
      .then(() => this.handle(el))
      .catch((err) => {
        if (err instanceof StreamError) this.close(err);
        else {
          this.log.error({ err }, "component element failed");
          this.close(new StreamError("internal-server-error"));
        }
      });
  }

  onStreamClose(): void {
    this.transport.closeStream();
  }

  onTransportError(err: StreamError): void {
    this.close(err);
  }

  onDisconnect(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    clearTimeout(this.authTimer);
    this.server.connections.delete(this);
    if (this.authenticated && this.server.router.components.get(this.domain) === this) {
      this.server.router.components.delete(this.domain);
      this.log.info({ domain: this.domain }, "component disconnected");
    }
    this.resolveFinished();
  }

  private openStream(from: string): void {
    this.streamId = randomBytes(12).toString("hex");
    this.transport.openStream({ from, id: this.streamId });
  }

  private async handle(el: XmlElement): Promise<void> {
    if (this.state !== "open") return;
    if (!this.authenticated) {
      if (el.name !== "handshake") throw new StreamError("not-authorized", "Handshake first");
      this.handshake(el.text().trim());
      return;
    }
    const ns = el.attrs.xmlns ?? NS.componentAccept;
    if (!isStanzaKind(el.name) || (ns !== NS.componentAccept && ns !== NS.client)) {
      throw new StreamError("unsupported-stanza-type");
    }
    // XEP-0114 §3: a component may send from any address within its own domain, nothing else.
    const from = tryParseJid(el.attrs.from ?? "");
    if (!from || from.domain !== this.domain) throw new StreamError("invalid-from", "from must be in your domain");
    el.attrs.from = from.toString();
    if (el.attrs.to === undefined) {
      const r = errorReplyFrom(el, new StanzaError("modify", "jid-malformed", "A 'to' address is required"));
      if (r) this.transport.send(r);
      return;
    }
    await this.server.router.route(el, this);
  }

  private handshake(digest: string): void {
    const secret = this.server.config.components[this.domain]?.secret ?? "";
    const expected = createHash("sha1")
      .update(this.streamId + secret)
      .digest("hex");
    const given = Buffer.from(digest.toLowerCase());
    if (given.length !== expected.length || !timingSafeEqual(given, Buffer.from(expected))) {
      throw new StreamError("not-authorized", "Handshake failed");
    }
    const existing = this.server.router.components.get(this.domain);
    if (existing) existing.close(new StreamError("conflict", "Replaced by a new connection"));
    this.authenticated = true;
    clearTimeout(this.authTimer);
    this.server.router.components.set(this.domain, this);
    this.transport.send(xml("handshake"));
    this.log.info({ domain: this.domain }, "component connected");
  }
}
