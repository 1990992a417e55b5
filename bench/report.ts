import type { BenchRecord, Column } from "./scenarios/types.ts";

/** Rows every table ends with: the two numbers that must be zero. */
const ALWAYS: Column[] = [
  { key: "lost", label: "lost messages", better: "none" },
  { key: "errors", label: "errors", better: "none" },
];

function metricOf(r: BenchRecord | undefined, key: string): number | null {
  if (r === undefined) return null;
  if (key === "lost") return r.lost;
  if (key === "errors") return r.errors;
  return r.metrics[key] ?? null;
}

function fmt(v: number | null): string {
  if (v === null || Number.isNaN(v)) return "–";
  if (Number.isInteger(v)) return String(v);
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return String(Math.round(v * 1000) / 1000);
}

/** Records grouped by phase position: the n-th phase of each server lines up with the n-th of the others. */
export function alignPhases(
  records: BenchRecord[],
  servers: string[],
): { label: string; byServer: (BenchRecord | undefined)[] }[] {
  const per = servers.map((s) => records.filter((r) => r.server === s));
  const n = Math.max(0, ...per.map((p) => p.length));
  const out = [];
  for (let i = 0; i < n; i++) {
    const row = per.map((p) => p[i]);
    const first = row.find((r) => r !== undefined)!;
    out.push({ label: first.phase, byServer: row });
  }
  return out;
}

/** Table cells: phase, metric, one column per server, then `first/other` ratios. */
export function tableRows(records: BenchRecord[], servers: string[], columns: Column[]): string[][] {
  const header = ["phase", "metric", ...servers];
  for (const s of servers.slice(1)) header.push(`${servers[0]}/${s}`);
  const rows = [header];
  for (const { label, byServer } of alignPhases(records, servers)) {
    let first = true;
    const cols = [...columns];
    if (byServer.some((r) => r?.metrics.target_rate != null)) {
      cols.splice(1, 0, { key: "target_rate", label: "target msg/s", better: "none" });
    }
    for (const c of [...cols, ...ALWAYS]) {
      if (c.key === "lost" && !byServer.some((r) => r !== undefined && ("sent" in r.metrics || r.lost > 0))) continue;
      const vals = byServer.map((r) => metricOf(r, c.key));
      const row = [first ? label : "", c.label, ...vals.map(fmt)];
      for (let k = 1; k < servers.length; k++) {
        const a = vals[0];
        const b = vals[k];
        row.push(c.better !== "none" && a != null && b != null && b !== 0 ? (a / b).toFixed(2) : "");
      }
      rows.push(row);
      first = false;
    }
  }
  return rows;
}

/** Fixed-width text table for the terminal. */
export function textTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  return rows
    .map((r, i) => {
      const line = r.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ");
      return i === 0 ? line + "\n" + widths.map((w) => "-".repeat(w)).join("  ") : line;
    })
    .join("\n");
}

/** GitHub-flavoured Markdown table (for docs/performance.md). */
export function markdownTable(rows: string[][]): string {
  const [head, ...body] = rows;
  const align = head!.map((_, c) => (c < 2 ? "---" : "---:"));
  return [head!, align, ...body].map((r) => `| ${r.join(" | ")} |`).join("\n");
}

/** Error kinds per server, for the lines under a table. */
export function errorSummary(records: BenchRecord[]): string[] {
  const out: string[] = [];
  for (const r of records) {
    if (r.errors > 0 || r.lost > 0) {
      out.push(`${r.server} / ${r.phase}: lost ${r.lost}, errors ${JSON.stringify(r.error_kinds)}`);
    }
  }
  return out;
}
