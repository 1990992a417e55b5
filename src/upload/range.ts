/** A byte range to send, inclusive at both ends. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Parses a Range header for a representation of `size` bytes (RFC 9110 §14.2).
 * Returns the one range to send, `"unsatisfiable"` (answer 416), or null to ignore the header and send the whole
 * file: a missing, malformed or non-`bytes` header, or several ranges (which RFC 9110 lets a server ignore).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | "unsatisfiable" | null {
  if (header === undefined) return null;
  const m = /^\s*bytes\s*=\s*(.*)$/i.exec(header);
  if (!m) return null;
  const specs = (m[1] as string).split(",").filter((s) => s.trim() !== "");
  if (specs.length !== 1) return null;
  const spec = /^\s*(\d*)\s*-\s*(\d*)\s*$/.exec(specs[0] as string);
  if (!spec) return null;
  const [, first = "", last = ""] = spec;
  if (first === "" && last === "") return null;
  if (first === "") {
    // Suffix range: the last N bytes (§14.1.2). "-0" asks for nothing, which no representation satisfies.
    const n = Number(last);
    if (n === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(first);
  if (last !== "" && Number(last) < start) return null; // invalid range-spec: ignore (§14.1.1)
  if (start >= size) return "unsatisfiable";
  return { start, end: last === "" ? size - 1 : Math.min(Number(last), size - 1) };
}
