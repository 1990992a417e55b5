/** Units a duration may be written in: `90s`, `30m`, `12h`, `7d`, `2w`. */
const UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/**
 * Parses a duration such as `7d`, `12h`, `30m`, `90s` or `2w` (a bare number is seconds) into seconds.
 * Returns null for anything else, including zero and negative values.
 */
export function parseDuration(text: string): number | null {
  const m = /^\s*(\d+)\s*([smhdw]?)\s*$/i.exec(text);
  if (!m) return null;
  const seconds = Number(m[1]) * (UNITS[(m[2] || "s").toLowerCase()] as number);
  return seconds > 0 && Number.isSafeInteger(seconds) ? seconds : null;
}

/** A number of seconds the way people say it: `7d`, `12h`, `90m`, `45s` (the largest unit that divides it). */
export function formatDuration(seconds: number): string {
  for (const [unit, size] of [
    ["d", 86400],
    ["h", 3600],
    ["m", 60],
  ] as const) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}
