import { type DestinationStream, type Logger as PinoLogger, pino } from "pino";
import type { LogConfig } from "./config/types.ts";

/** The logger passed around the server: pino's, so child loggers and structured fields work everywhere. */
export type Logger = PinoLogger;

/** Where log lines go: stdout by default; anything with `write()` (tests capture into an array). */
export interface LogDestination {
  write(line: string): unknown;
  isTTY?: boolean;
}

const LEVELS: Record<number, [name: string, color: string]> = {
  10: ["TRACE", "\x1b[90m"],
  20: ["DEBUG", "\x1b[36m"],
  30: ["INFO ", "\x1b[32m"],
  40: ["WARN ", "\x1b[33m"],
  50: ["ERROR", "\x1b[31m"],
  60: ["FATAL", "\x1b[35m"],
};
const RESET = "\x1b[0m";
const DIM = "\x1b[2m";
/** Fields every record has, shown in the line's prefix or not at all. */
const HIDDEN = new Set(["level", "time", "msg", "pid", "hostname", "v"]);

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

function timestamp(ms: number): string {
  const d = new Date(ms);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
  );
}

function showValue(value: unknown): string {
  if (typeof value === "string") return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

/**
 * Turns one pino JSON record into a human line: `2025-01-02 10:00:00.123 INFO  message key=value`. An `err`
 * field's stack follows on indented lines, because that is what a human reading the log needs.
 */
export function formatPretty(record: Record<string, unknown>, color: boolean): string {
  const [name, tint] = LEVELS[record.level as number] ?? [String(record.level), ""];
  const paint = (code: string, s: string) => (color ? code + s + RESET : s);
  let line = `${paint(DIM, timestamp(Number(record.time)))} ${paint(tint, name)} ${record.msg ?? ""}`;
  let stack = "";
  for (const [key, value] of Object.entries(record)) {
    if (HIDDEN.has(key) || value === undefined) continue;
    if (key === "err" && typeof value === "object" && value !== null) {
      const err = value as { message?: string; stack?: string };
      line += ` ${paint(DIM, "err=")}${showValue(err.message ?? "")}`;
      if (err.stack) stack = `\n${err.stack.replace(/^/gm, "    ")}`;
      continue;
    }
    line += ` ${paint(DIM, `${key}=`)}${showValue(value)}`;
  }
  return `${line}${stack}\n`;
}

/** A pino destination that re-renders each JSON line with `formatPretty`. */
function prettyStream(out: LogDestination): DestinationStream {
  const color = out.isTTY === true && !process.env.NO_COLOR;
  return {
    write(chunk: string) {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(chunk);
      } catch {
        out.write(chunk);
        return;
      }
      out.write(formatPretty(record, color));
    },
  };
}

/**
 * Creates the root logger. `pretty` writes one readable line per record (colored on a terminal); `json`
 * writes pino's newline-delimited JSON for log collectors. Writes are synchronous so the last lines before
 * an exit are never lost.
 */
export function createLogger(cfg: LogConfig, destination?: LogDestination): Logger {
  const out = destination ?? process.stdout;
  if (cfg.format === "pretty") {
    return pino({ level: cfg.level, base: null }, prettyStream(out));
  }
  const stream = destination ? (destination as DestinationStream) : pino.destination({ dest: 1, sync: true });
  return pino({ level: cfg.level }, stream);
}
