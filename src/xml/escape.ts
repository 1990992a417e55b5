const TEXT_RE = /[&<>\r]/;
const ATTR_RE = /[&<>"'\t\n\r]/;

/** Escapes character data for use between tags. */
export function escapeText(s: string): string {
  if (!TEXT_RE.test(s)) return s;
  // CR as a reference: a reader turns a literal one into LF (XML 1.0 §2.11).
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/\r/g, "&#13;");
}

/** Escapes an attribute value for use inside double (or single) quotes. */
export function escapeAttr(s: string): string {
  if (!ATTR_RE.test(s)) return s;
  // TAB, LF and CR as references: a reader turns literal ones into spaces (XML 1.0 §3.3.3).
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;")
    .replace(/\t/g, "&#9;")
    .replace(/\n/g, "&#10;")
    .replace(/\r/g, "&#13;");
}
