/** Helpers for message archive tests: run a MAM query the way a client does and read what came back. */
import { randomBytes } from "node:crypto";
import { type XmlElement, xml } from "../../src/xml/element.ts";
import type { TestClient } from "../helpers/client.ts";

export const MAM2 = "urn:xmpp:mam:2";
export const MAM1 = "urn:xmpp:mam:1";
export const MAM0 = "urn:xmpp:mam:0";
export const RSM = "http://jabber.org/protocol/rsm";
export const SID = "urn:xmpp:sid:0";
export const FORWARD = "urn:xmpp:forward:0";
const XDATA = "jabber:x:data";

export interface QueryOptions {
  ns?: string;
  /** Form fields (XEP-0313 §4.1); an array gives several values. */
  fields?: Record<string, string | string[]>;
  max?: number;
  after?: string;
  /** `""` for an empty `<before/>` (last page). */
  before?: string;
  index?: number;
  flip?: boolean;
  /** Address of the archive (default: the client's own account). */
  to?: string;
}

export interface QueryOutcome {
  /** The iq result or error. */
  iq: XmlElement;
  /** Result messages in the order received. */
  results: XmlElement[];
  /** The `<fin/>` (from the iq, or from the fin message in urn:xmpp:mam:0). */
  fin: XmlElement | undefined;
}

/** Builds a `<query/>` element. */
export function queryElement(queryid: string, o: QueryOptions = {}): XmlElement {
  const ns = o.ns ?? MAM2;
  const fields = Object.entries(o.fields ?? {});
  const rsm =
    o.max !== undefined || o.after !== undefined || o.before !== undefined || o.index !== undefined
      ? xml(
          "set",
          { xmlns: RSM },
          o.max !== undefined && xml("max", null, String(o.max)),
          o.after !== undefined && xml("after", null, o.after),
          o.before !== undefined && xml("before", null, o.before || undefined),
          o.index !== undefined && xml("index", null, String(o.index)),
        )
      : undefined;
  return xml(
    "query",
    { xmlns: ns, queryid },
    fields.length > 0 &&
      xml(
        "x",
        { xmlns: XDATA, type: "submit" },
        xml("field", { var: "FORM_TYPE", type: "hidden" }, xml("value", null, ns)),
        ...fields.map(([name, v]) =>
          xml("field", { var: name }, ...(Array.isArray(v) ? v : [v]).map((val) => xml("value", null, val))),
        ),
      ),
    rsm,
    o.flip && xml("flip-page"),
  );
}

/** Sends a MAM query and collects the results that arrived before its iq answer. */
export async function mamQuery(c: TestClient, o: QueryOptions = {}): Promise<QueryOutcome> {
  const ns = o.ns ?? MAM2;
  const queryid = `q-${randomBytes(4).toString("hex")}`;
  const iq = await c.iq(xml("iq", { type: "set", to: o.to }, queryElement(queryid, o)));
  let fin = iq.getChild("fin", ns);
  if (ns === MAM0 && iq.attrs.type === "result") {
    // urn:xmpp:mam:0: the iq only acknowledges; the results and a <fin/> message follow.
    const finMsg = await c.expect((el) => el.name === "message" && el.getChild("fin", ns)?.attrs.queryid === queryid);
    fin = finMsg.getChild("fin", ns);
  }
  const results: XmlElement[] = [];
  const received = c.conn.received;
  for (let i = 0; i < received.length; ) {
    const r = received[i];
    if (r?.kind === "element" && r.el.getChild("result", ns)?.attrs.queryid === queryid) {
      results.push(r.el);
      received.splice(i, 1);
    } else i++;
  }
  return { iq, results, fin };
}

/** The `<result/>` of a result message. */
export function resultOf(msg: XmlElement, ns = MAM2): XmlElement {
  const r = msg.getChild("result", ns);
  if (!r) throw new Error(`not a MAM result: ${msg}`);
  return r;
}

/** The archived message inside a result. */
export function forwardedMessage(msg: XmlElement, ns = MAM2): XmlElement {
  const m = resultOf(msg, ns).getChild("forwarded", FORWARD)?.getChild("message");
  if (!m) throw new Error(`no forwarded message: ${msg}`);
  return m;
}

/** Bodies of the archived messages of a query, in order. */
export function bodies(out: QueryOutcome, ns = MAM2): string[] {
  return out.results.map((m) => forwardedMessage(m, ns).getChildText("body") ?? "");
}

/** Archive ids of the results, in order. */
export function resultIds(out: QueryOutcome, ns = MAM2): string[] {
  return out.results.map((m) => resultOf(m, ns).attrs.id ?? "");
}

/** The RSM summary of a fin: first (with index), last, count. */
export function rsmOf(out: QueryOutcome): { first?: string; index?: string; last?: string; count?: string } {
  const set = out.fin?.getChild("set", RSM);
  return {
    first: set?.getChildText("first"),
    index: set?.getChild("first")?.attrs.index,
    last: set?.getChildText("last"),
    count: set?.getChildText("count"),
  };
}

/** The stanza-ids on a message, as `by id` strings. */
export function stanzaIds(msg: XmlElement): string[] {
  return msg.getChildren("stanza-id", SID).map((s) => `${s.attrs.by} ${s.attrs.id}`);
}
