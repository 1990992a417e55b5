import { execFileSync } from "node:child_process";
import { alignPhases } from "./report.ts";
import type { BenchRecord, Column } from "./scenarios/types.ts";

function quote(s: string): string {
  return `"${s.replace(/["\\]/g, "")}"`;
}

/** The gnuplot script: one clustered bar panel per metric, phases on the x axis, one bar per server. */
export function gnuplotScript(
  title: string,
  records: BenchRecord[],
  servers: string[],
  columns: Column[],
  pngPath: string,
): string {
  const phases = alignPhases(records, servers);
  const panels = columns.filter((c) => c.better !== "none");
  const cols = Math.min(3, panels.length);
  const rowsN = Math.ceil(panels.length / cols);
  const lines = [
    `set terminal pngcairo size ${420 * cols},${320 * rowsN + 40} font "sans,9"`,
    `set output ${quote(pngPath)}`,
    "set style data histograms",
    "set style histogram clustered gap 1",
    "set style fill solid 0.85 border -1",
    "set boxwidth 0.9",
    "set key top right font ',8'",
    "set grid ytics",
    "set yrange [0:*]",
    "set xtics font ',8' noenhanced",
    'set datafile missing "-"',
  ];
  panels.forEach((c, i) => {
    lines.push(`$d${i} << EOD`, ["phase", ...servers].map(quote).join(" "));
    for (const p of phases) {
      const vals = p.byServer.map((r) => {
        const v = c.key === "lost" ? r?.lost : r?.metrics[c.key];
        return v == null ? "-" : String(v);
      });
      lines.push([quote(p.label), ...vals].join(" "));
    }
    lines.push("EOD");
  });
  lines.push(`set multiplot layout ${rowsN},${cols} title ${quote(title)} noenhanced`);
  panels.forEach((c, i) => {
    const hint = c.better === "higher" ? " (higher is better)" : " (lower is better)";
    lines.push(`set title ${quote(c.label + hint)} noenhanced`);
    lines.push(`plot for [k=2:${servers.length + 1}] $d${i} using k:xtic(1) title columnheader(k) noenhanced`);
  });
  lines.push("unset multiplot", "");
  return lines.join("\n");
}

/** Renders the PNG with gnuplot; returns an error message instead of throwing (the chart is a convenience). */
export function renderChart(
  title: string,
  records: BenchRecord[],
  servers: string[],
  columns: Column[],
  pngPath: string,
): string | undefined {
  try {
    execFileSync("gnuplot", [], { input: gnuplotScript(title, records, servers, columns, pngPath), stdio: "pipe" });
    return undefined;
  } catch (err) {
    return `gnuplot failed (apt-get install -y gnuplot-nox): ${(err as Error).message.split("\n")[0]}`;
  }
}
