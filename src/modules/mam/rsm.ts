/** Result Set Management (XEP-0059): the `<set/>` a client pages with and the one a result describes itself with. */
import { StanzaError } from "../../core/errors.ts";
import { type XmlElement, xml } from "../../xml/element.ts";
import { NS_RSM } from "./ns.ts";

/** A client's paging request. */
export interface RsmRequest {
  /** §2.1 page size; absent: the server picks. */
  max?: number;
  /** §2.2 the page after this item. */
  after?: string;
  /** §2.3 the page before this item; `true` for an empty `<before/>` (§2.5: the last page). */
  before?: string | true;
  /** §2.6 skip to this position of the result set. */
  index?: number;
}

function nonNegative(el: XmlElement | undefined, what: string): number | undefined {
  if (!el) return undefined;
  const text = el.text().trim();
  // Bounded so that an absurd number cannot reach SQL as a float.
  if (!/^\d{1,9}$/.test(text))
    throw new StanzaError("modify", "bad-request", `RSM <${what}/> must be a non-negative integer`);
  return Number(text);
}

/** Reads an RSM `<set/>` (absent: no paging request). Throws bad-request for malformed values. */
export function parseRsm(set: XmlElement | undefined): RsmRequest {
  if (!set) return {};
  const req: RsmRequest = {};
  const max = nonNegative(set.getChild("max", NS_RSM), "max");
  if (max !== undefined) req.max = max;
  const index = nonNegative(set.getChild("index", NS_RSM), "index");
  if (index !== undefined) req.index = index;
  const after = set.getChild("after", NS_RSM);
  if (after) {
    const id = after.text();
    if (id === "") throw new StanzaError("modify", "bad-request", "RSM <after/> needs an id");
    req.after = id;
  }
  const before = set.getChild("before", NS_RSM);
  if (before) req.before = before.text() === "" ? true : before.text();
  // XEP-0313 §4.3.2: RSM does not define both at once; before-id/after-id do that.
  if (req.after !== undefined && req.before !== undefined) {
    throw new StanzaError(
      "modify",
      "bad-request",
      "Use the before-id and after-id fields for a range, not RSM <after/> with <before/>",
    );
  }
  return req;
}

/** What a page of results says about itself. */
export interface RsmPage {
  first?: string;
  last?: string;
  /** Position of `first` in the whole result set. */
  index?: number;
  count?: number;
}

/** The result `<set/>` (§2.1, §2.7: an empty page carries only the count). */
export function rsmResult(page: RsmPage): XmlElement {
  return xml(
    "set",
    { xmlns: NS_RSM },
    page.first !== undefined &&
      xml("first", { index: page.index !== undefined ? String(page.index) : undefined }, page.first),
    page.last !== undefined && xml("last", null, page.last),
    page.count !== undefined && xml("count", null, String(page.count)),
  );
}
