/**
 * A small incremental splitter for an XMPP stream: finds the stream header and each top-level element (stanza,
 * features, SASL and TLS negotiation elements) in the character stream and hands them over as strings.
 *
 * It is not a validating parser. It tracks element depth exactly (quotes inside tags, self-closing tags, comments,
 * CDATA sections and processing instructions are skipped), which is all a load generator needs to count stanzas
 * without ever miscounting. Input must be decoded text (the socket's utf8 decoder already keeps multi-byte characters
 * split across TCP chunks whole).
 */
export interface SplitterSink {
  /** The stream header `<stream:stream ...>` (start tag only). */
  streamOpen(tag: string): void;
  /** One complete top-level element. */
  element(xml: string): void;
  /** `</stream:stream>` was received. */
  streamClose(): void;
}

const LT = 0x3c;
const GT = 0x3e;
const SLASH = 0x2f;
const QUESTION = 0x3f;
const BANG = 0x21;
const DQUOTE = 0x22;
const SQUOTE = 0x27;

/** Incremental stanza splitter; call `push` with each decoded chunk. */
export class StanzaSplitter {
  private buf = "";
  /** Where scanning resumes in `buf`. */
  private pos = 0;
  /** 0 = before the stream header, 1 = inside the stream, 2+ = inside a top-level element. */
  private depth = 0;
  /** Start of the top-level element being read, or -1. */
  private start = -1;
  private resetRequested = false;

  constructor(private readonly sink: SplitterSink) {}

  /** Forgets everything: the next bytes start a new stream (after STARTTLS or SASL success, RFC 6120 §5.4.3.3). */
  reset(): void {
    this.buf = "";
    this.pos = 0;
    this.depth = 0;
    this.start = -1;
    this.resetRequested = true;
  }

  /** Feeds a decoded chunk. Throws on markup the XMPP restricted XML profile cannot contain here. */
  push(chunk: string): void {
    this.resetRequested = false;
    let buf = this.buf.length === 0 ? chunk : this.buf + chunk;
    let i = this.pos;
    let depth = this.depth;
    let start = this.start;
    const n = buf.length;
    for (;;) {
      const lt = buf.indexOf("<", i);
      if (lt < 0) {
        i = n;
        break;
      }
      if (lt + 1 >= n) {
        i = lt;
        break;
      }
      const c = buf.charCodeAt(lt + 1);
      if (c === QUESTION) {
        const e = buf.indexOf("?>", lt + 2);
        if (e < 0) {
          i = lt;
          break;
        }
        i = e + 2;
        continue;
      }
      if (c === BANG) {
        const skipped = skipSpecial(buf, lt);
        if (skipped === 0) {
          i = lt;
          break;
        }
        i = skipped;
        continue;
      }
      if (c === SLASH) {
        const e = buf.indexOf(">", lt + 2);
        if (e < 0) {
          i = lt;
          break;
        }
        i = e + 1;
        depth--;
        if (depth === 1) {
          const xml = buf.slice(start, i);
          start = -1;
          this.depth = depth;
          this.sink.element(xml);
          if (this.resetRequested) return;
        } else if (depth === 0) {
          this.depth = 0;
          this.sink.streamClose();
          if (this.resetRequested) return;
        } else if (depth < 0) {
          throw new Error("unbalanced end tag");
        }
        continue;
      }
      // A start tag: find its closing '>' outside attribute quotes.
      let end = -1;
      let quote = 0;
      for (let j = lt + 1; j < n; j++) {
        const ch = buf.charCodeAt(j);
        if (quote !== 0) {
          if (ch === quote) quote = 0;
        } else if (ch === DQUOTE || ch === SQUOTE) {
          quote = ch;
        } else if (ch === GT) {
          end = j;
          break;
        } else if (ch === LT) {
          throw new Error("'<' inside a tag");
        }
      }
      if (end < 0) {
        i = lt;
        break;
      }
      i = end + 1;
      const selfClosing = buf.charCodeAt(end - 1) === SLASH;
      if (depth === 0) {
        if (selfClosing) throw new Error("self-closing stream header");
        depth = 1;
        this.depth = 1;
        this.sink.streamOpen(buf.slice(lt, i));
        if (this.resetRequested) return;
        continue;
      }
      if (depth === 1) {
        if (selfClosing) {
          this.sink.element(buf.slice(lt, i));
          if (this.resetRequested) return;
          continue;
        }
        start = lt;
      } else if (selfClosing) {
        continue;
      }
      depth++;
    }
    // Keep only the unfinished part: the current top-level element, or the incomplete markup at the end.
    const keep = start >= 0 ? start : i;
    buf = keep >= n ? "" : buf.slice(keep);
    this.buf = buf;
    this.pos = i - keep;
    this.start = start >= 0 ? 0 : -1;
    this.depth = depth;
  }
}

/** Skips `<!-- -->` or `<![CDATA[ ]]>` starting at `lt`; returns the index after it, or 0 when incomplete. */
function skipSpecial(buf: string, lt: number): number {
  if (buf.startsWith("<!--", lt)) {
    const e = buf.indexOf("-->", lt + 4);
    return e < 0 ? 0 : e + 3;
  }
  if (buf.startsWith("<![CDATA[", lt)) {
    const e = buf.indexOf("]]>", lt + 9);
    return e < 0 ? 0 : e + 3;
  }
  if (buf.length - lt < 9) return 0; // could still become one of the two above
  throw new Error("DTD or unknown markup declaration in stream"); // RFC 6120 §11.1: no DTDs
}

/** The parsed start tag of an element: qualified name and attributes (entity-decoded). */
export interface StartTag {
  name: string;
  attrs: Record<string, string>;
}

/** Parses the first start tag of `xml` (the stanza's own tag). */
export function parseStartTag(xml: string): StartTag {
  let i = 1;
  const n = xml.length;
  while (i < n && !isNameEnd(xml.charCodeAt(i))) i++;
  const name = xml.slice(1, i);
  const attrs: Record<string, string> = {};
  for (;;) {
    while (i < n && isSpace(xml.charCodeAt(i))) i++;
    const ch = xml.charCodeAt(i);
    if (i >= n || ch === GT || ch === SLASH) break;
    const eq = xml.indexOf("=", i);
    if (eq < 0) break;
    const key = xml.slice(i, eq).trim();
    let q = eq + 1;
    while (q < n && isSpace(xml.charCodeAt(q))) q++;
    const quote = xml[q];
    if (quote !== '"' && quote !== "'") break;
    const close = xml.indexOf(quote, q + 1);
    if (close < 0) break;
    attrs[key] = decodeEntities(xml.slice(q + 1, close));
    i = close + 1;
  }
  return { name, attrs };
}

/** The local part of a qualified name (`stream:features` → `features`). */
export function localName(name: string): string {
  const colon = name.indexOf(":");
  return colon < 0 ? name : name.slice(colon + 1);
}

/** Text content of the first `<tag>` child (no nested markup expected), entity-decoded; undefined when absent. */
export function childText(xml: string, tag: string): string | undefined {
  let open = xml.indexOf("<" + tag);
  while (open >= 0 && !isNameEnd(xml.charCodeAt(open + 1 + tag.length))) open = xml.indexOf("<" + tag, open + 1);
  if (open < 0) return undefined;
  const gt = xml.indexOf(">", open);
  if (gt < 0 || xml.charCodeAt(gt - 1) === SLASH) return gt < 0 ? undefined : "";
  const close = xml.indexOf("</" + tag, gt);
  if (close < 0) return undefined;
  return decodeEntities(xml.slice(gt + 1, close));
}

const ENTITY_RE = /&(lt|gt|amp|quot|apos|#x[0-9a-fA-F]+|#[0-9]+);/g;

/** Decodes the five predefined XML entities and character references. */
export function decodeEntities(s: string): string {
  if (s.indexOf("&") < 0) return s;
  return s.replace(ENTITY_RE, (_m, e: string) => {
    switch (e) {
      case "lt":
        return "<";
      case "gt":
        return ">";
      case "amp":
        return "&";
      case "quot":
        return '"';
      case "apos":
        return "'";
      default:
        return String.fromCodePoint(e[1] === "x" ? Number.parseInt(e.slice(2), 16) : Number.parseInt(e.slice(1), 10));
    }
  });
}

/** Escapes a string for an XML attribute value or text. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) =>
    c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === '"' ? "&quot;" : "&apos;",
  );
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function isNameEnd(c: number): boolean {
  return isSpace(c) || c === GT || c === SLASH;
}
