/** Helpers shared by the registration, invitation and ad-hoc command tests. */
import { randomBytes } from "node:crypto";
import { type XmlElement, xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import { authenticate, RawConnection, type TestClient } from "../helpers/client.ts";
import type { TestServer } from "../helpers/server.ts";

/** An unauthenticated connection after STARTTLS, with the stream features the server offered there. */
export interface PreAuth {
  conn: RawConnection;
  features: XmlElement;
  /** Sends an iq (adding an id) and waits for its result or error. */
  iq(el: XmlElement): Promise<XmlElement>;
}

/** Opens a connection and negotiates TLS, stopping where a client would register or authenticate. */
export async function preAuth(ts: TestServer, domain = "localhost"): Promise<PreAuth> {
  const conn = await RawConnection.open(ts.c2sPort);
  conn.openStream(domain);
  await conn.streamOpen();
  await conn.element("stream:features");
  conn.send(xml("starttls", { xmlns: NS.tls }));
  await conn.element("proceed", NS.tls);
  await conn.startTls(domain);
  conn.openStream(domain);
  await conn.streamOpen();
  const features = await conn.element("stream:features");
  return {
    conn,
    features,
    async iq(el) {
      const id = el.attrs.id ?? `r-${randomBytes(4).toString("hex")}`;
      el.attrs.id = id;
      conn.send(el);
      const r = await conn.next((x) => x.kind === "element" && x.el.name === "iq" && x.el.attrs.id === id);
      return (r as { el: XmlElement }).el;
    },
  };
}

/** `<iq type=…><query xmlns='jabber:iq:register'>…</query></iq>` */
export function registerIq(type: "get" | "set", ...children: XmlElement[]): XmlElement {
  return xml("iq", { type }, xml("query", { xmlns: NS.register }, ...children));
}

/** A registration set with the legacy fields (XEP-0077 §3.1). */
export function registration(username: string, password: string): XmlElement {
  return registerIq("set", xml("username", null, username), xml("password", null, password));
}

/** Presents an invitation token before registering (XEP-0445 §4). */
export function preauthIq(token: string): XmlElement {
  return xml("iq", { type: "set", to: "localhost" }, xml("preauth", { xmlns: NS.pars, token }));
}

/** True if SASL PLAIN succeeds for the account (on a fresh connection). */
export async function canLogin(ts: TestServer, user: string, password: string): Promise<boolean> {
  const p = await preAuth(ts);
  try {
    await authenticate(p.conn, user, password, "PLAIN");
    return true;
  } catch {
    return false;
  } finally {
    p.conn.destroy();
  }
}

/** Runs `action` on an ad-hoc command (XEP-0050) at the host and returns the answer. */
export function command(
  c: TestClient,
  node: string,
  opts: { action?: string; sessionid?: string; form?: XmlElement } = {},
): Promise<XmlElement> {
  return c.iq(
    xml(
      "iq",
      { type: "set", to: "localhost" },
      xml("command", { xmlns: NS.commands, node, action: opts.action, sessionid: opts.sessionid }, opts.form),
    ),
  );
}

/** A submitted data form with the given fields (arrays for multi-valued fields). */
export function submit(fields: Record<string, string | string[]>, formType?: string): XmlElement {
  const x = xml("x", { xmlns: NS.dataForms, type: "submit" });
  if (formType) x.append(xml("field", { var: "FORM_TYPE", type: "hidden" }, xml("value", null, formType)));
  for (const [name, value] of Object.entries(fields)) {
    x.append(
      xml("field", { var: name }, ...(Array.isArray(value) ? value : [value]).map((v) => xml("value", null, v))),
    );
  }
  return x;
}

/** The values of a field of the data form inside `el` (a command or query). */
export function fieldValues(el: XmlElement | undefined, name: string): string[] {
  const field = el
    ?.getChild("x", NS.dataForms)
    ?.getChildren("field")
    .find((f) => f.attrs.var === name);
  return field?.getChildren("value").map((v) => v.text()) ?? [];
}
