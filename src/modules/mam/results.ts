/** The stanzas a MAM query is answered with (XEP-0313 §4.2, §4.3, §5). */
import { randomBytes } from "node:crypto";
import type { ArchivePage } from "../../storage/archive.ts";
import { type XmlElement, xml } from "../../xml/element.ts";
import { NS } from "../../xmpp/ns.ts";
import { MAM_NS, NS_FORWARD } from "./ns.ts";
import { rsmResult } from "./rsm.ts";

/** XEP-0082 DateTime with milliseconds, so that a client can use a stamp as a precise `start`/`end`. */
export function stamp(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * One result (§4.2): the archived message, forwarded (XEP-0297) with the time it was archived (XEP-0203), from the
 * archive's JID to the querying entity.
 */
export function resultMessage(opts: {
  ns: string;
  queryId: string | undefined;
  id: string;
  timestamp: number;
  message: XmlElement;
  from: string;
  to: string;
}): XmlElement {
  const inner = opts.message;
  // Inside <forwarded/> the message would otherwise inherit urn:xmpp:forward:0.
  inner.attrs.xmlns ??= NS.client;
  return xml(
    "message",
    { from: opts.from, to: opts.to, id: randomBytes(6).toString("hex") },
    xml(
      "result",
      { xmlns: opts.ns, queryid: opts.queryId, id: opts.id },
      xml("forwarded", { xmlns: NS_FORWARD }, xml("delay", { xmlns: NS.delay, stamp: stamp(opts.timestamp) }), inner),
    ),
  );
}

/**
 * The `<fin/>` that ends a query (§4.3): `complete='true'` once nothing is left in the paging direction, and the
 * RSM summary of the page. `first`/`last` keep their chronological meaning on a flipped page. In `urn:xmpp:mam:0`
 * it travels in a message and carries the query id.
 */
export function finElement(ns: string, queryId: string | undefined, page: ArchivePage): XmlElement {
  return xml(
    "fin",
    { xmlns: ns, queryid: ns === MAM_NS.v0 ? queryId : undefined, complete: page.complete ? "true" : undefined },
    rsmResult({
      first: page.entries[0]?.id,
      last: page.entries.at(-1)?.id,
      index: page.index,
      count: page.count,
    }),
  );
}

/** Archive metadata (§6): the first and last entries, or nothing for an empty archive. */
export function metadataElement(first: { id: string; timestamp: number } | undefined, last: typeof first): XmlElement {
  return xml(
    "metadata",
    { xmlns: MAM_NS.v2 },
    first && xml("start", { id: first.id, timestamp: stamp(first.timestamp) }),
    last && xml("end", { id: last.id, timestamp: stamp(last.timestamp) }),
  );
}
