import { createHash } from "node:crypto";
import type { XmlElement } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import { RawConnection } from "./client.ts";
import type { TestServer } from "./server.ts";

/** An external component (XEP-0114) connected to a test server, for tests that need a fake service. */
export class TestComponent {
  constructor(
    readonly conn: RawConnection,
    readonly domain: string,
  ) {}

  send(el: XmlElement | string): void {
    if (typeof el === "string") this.conn.write(el);
    else this.conn.send(el);
  }

  async expect(pred: (el: XmlElement) => boolean, timeout?: number): Promise<XmlElement> {
    const r = await this.conn.next((x) => x.kind === "element" && pred(x.el), timeout);
    return (r as { el: XmlElement }).el;
  }

  nothing(ms = 300): Promise<void> {
    return this.conn.nothing(ms);
  }

  close(): void {
    this.conn.write("</stream:stream>");
    this.conn.destroy();
  }
}

/**
 * Connects and authenticates a component: opens a jabber:component:accept stream to `domain` and sends
 * the SHA-1 handshake over the stream id and secret. Throws if the server refuses.
 */
export async function connectComponent(ts: TestServer, domain: string, secret: string): Promise<TestComponent> {
  const conn = await RawConnection.open(ts.componentPort);
  conn.openStream(domain, {}, NS.componentAccept);
  const header = await conn.streamOpen();
  const digest = createHash("sha1")
    .update((header.id ?? "") + secret)
    .digest("hex");
  conn.write(`<handshake>${digest}</handshake>`);
  const reply = await conn.next((r) => r.kind === "element");
  if (reply.kind !== "element" || reply.el.name !== "handshake") {
    throw new Error(`component handshake refused: ${reply.kind === "element" ? reply.el.toString() : reply.kind}`);
  }
  return new TestComponent(conn, domain);
}
