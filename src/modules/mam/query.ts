/** Reading a MAM query (XEP-0313 §4): its filters, its paging request and its options. */
import { StanzaError } from "../../core/errors.ts";
import type { ArchiveQuery } from "../../storage/archive.ts";
import type { XmlElement } from "../../xml/element.ts";
import { parseJidValue, singleValue } from "../../xmpp/data-forms.ts";
import { NS } from "../../xmpp/ns.ts";
import { readQueryForm } from "./form.ts";
import { MAM_NS, NS_RSM } from "./ns.ts";
import { parseRsm, type RsmRequest } from "./rsm.ts";

/** The filters of a query: the part of `ArchiveQuery` that selects the result set. */
export type MamFilter = Pick<ArchiveQuery, "with" | "start" | "end" | "afterId" | "beforeId" | "ids">;

export interface MamRequest {
  /** Echoed in every result (§4.2) so that the client can tell concurrent queries apart. */
  queryId?: string;
  filter: MamFilter;
  rsm: RsmRequest;
  /** §4.3.4: send the page newest first. */
  flip: boolean;
}

// XEP-0082 DateTime: CCYY-MM-DDThh:mm:ss[.sss]TZD.
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Parses an XEP-0082 DateTime to ms since the epoch; bad-request if it is not one. */
export function parseDateTime(value: string, field: string): number {
  const ms = DATETIME.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw new StanzaError("modify", "bad-request", `'${field}' must be an XEP-0082 DateTime`);
  return ms;
}

/**
 * Reads a `<query/>` in one of the MAM namespaces. `maxIds` bounds the `ids` filter (a page cannot hold more).
 * Throws StanzaError: bad-request for malformed values, feature-not-implemented for unknown form fields.
 */
export function parseMamQuery(query: XmlElement, ns: string, maxIds: number): MamRequest {
  const filter: MamFilter = {};
  const x = query.getChild("x", NS.dataForms);
  const form = x ? readQueryForm(x) : undefined;

  let withValue = singleValue(form, "with");
  let start = singleValue(form, "start");
  let end = singleValue(form, "end");
  if (ns === MAM_NS.v0) {
    // COMPAT: the first MAM drafts put the filters directly in the query.
    withValue ??= query.getChildText("with", ns) || undefined;
    start ??= query.getChildText("start", ns) || undefined;
    end ??= query.getChildText("end", ns) || undefined;
  }
  if (withValue !== undefined) filter.with = parseJidValue(withValue, "with").toString();
  if (start !== undefined) filter.start = parseDateTime(start.trim(), "start");
  if (end !== undefined) filter.end = parseDateTime(end.trim(), "end");
  filter.afterId = singleValue(form, "after-id");
  filter.beforeId = singleValue(form, "before-id");
  const ids = form?.values.get("ids");
  if (ids !== undefined) {
    if (ids.length > maxIds) throw new StanzaError("modify", "policy-violation", `At most ${maxIds} ids per query`);
    filter.ids = ids;
  }
  for (const k of Object.keys(filter) as (keyof MamFilter)[]) if (filter[k] === undefined) delete filter[k];

  return {
    queryId: query.attrs.queryid,
    filter,
    rsm: parseRsm(query.getChild("set", NS_RSM)),
    flip: query.getChild("flip-page", ns) !== undefined,
  };
}
