/** Helpers shared by the stream management, CSI and push integration tests. */
import { type XmlElement, xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import { authenticate, RawConnection } from "../helpers/client.ts";
import type { TestServer } from "../helpers/server.ts";

/** A new connection, through STARTTLS and SASL, stopped at the post-authentication features (no bind). */
export async function authenticated(
  ts: TestServer,
  user: string,
): Promise<{ conn: RawConnection; features: XmlElement }> {
  const conn = await RawConnection.open(ts.c2sPort);
  conn.openStream(ts.domain);
  await conn.streamOpen();
  await conn.element("stream:features");
  conn.send(xml("starttls", { xmlns: NS.tls }));
  await conn.element("proceed", NS.tls);
  await conn.startTls(ts.domain);
  conn.openStream(ts.domain);
  await conn.streamOpen();
  await conn.element("stream:features");
  await authenticate(conn, user, "pw", "PLAIN");
  conn.resetParser();
  conn.openStream(ts.domain);
  await conn.streamOpen();
  const features = await conn.element("stream:features");
  return { conn, features };
}
