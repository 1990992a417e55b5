const TEXT_RE = /[&<>]/;
const ATTR_RE = /[&<>"']/;

/** Escapes character data for use between tags. */
export function escapeText(s: string): string {
  if (!TEXT_RE.test(s)) return s;
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Escapes an attribute value for use inside double (or single) quotes. */
export function escapeAttr(s: string): string {
  if (!ATTR_RE.test(s)) return s;
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}
