/** Renders rows as left-aligned columns separated by two spaces; the first row is the header. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  }
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  "))
    .join("\n");
}

/** A timestamp as `YYYY-MM-DD HH:MM:SS` UTC, or `never`. */
export function formatTime(ms: number | null): string {
  if (ms === null) return "never";
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")}Z`;
}

/** `[::]:5222` / `127.0.0.1:5347`: how people write a listening address. */
export function hostPort(address: string, port: number | string): string {
  return `${address.includes(":") ? `[${address}]` : address}:${port}`;
}

/** Prints one example per line under a command's help. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join("\n")}\n`;
}
