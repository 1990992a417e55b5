import { isAbsolute, resolve } from "node:path";
import { ConfigError } from "./errors.ts";
import { describeField, type Field, type Fields } from "./schema.ts";

/** Where a layer of settings came from, for error messages, and the directory its relative paths are relative to. */
export interface LayerSource {
  /** e.g. `hearth.toml`, `environment variable XMPP_PORT`, `command line`. */
  label: string;
  baseDir: string;
}

type Table = Record<string, unknown>;

function isTable(v: unknown): v is Table {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** Renders a value for an error message without dumping large structures. */
function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "an array";
  if (isTable(value)) return "a table";
  if (value instanceof Date) return "a date";
  return String(value);
}

/** Levenshtein distance, to suggest the key the user probably meant. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

function unknownKey(key: string, fields: Fields<object>, prefix: string, source: LayerSource): ConfigError {
  const known = Object.keys(fields);
  const best = known
    .map((k) => ({ k, d: distance(key.toLowerCase(), k) }))
    .filter((x) => x.d <= 2)
    .sort((x, y) => x.d - y.d)[0];
  const hint = best ? `; did you mean "${prefix}${best.k}"?` : `; known keys here: ${known.join(", ")}`;
  return new ConfigError(`${source.label}: unknown key "${prefix}${key}"${hint}`);
}

/** Checks one leaf value against its field and returns it converted (paths made absolute). */
function checkValue(field: Field, value: unknown, name: string, source: LayerSource): unknown {
  const wrong = (): ConfigError => {
    const hint = field.type === "int" && field.hint ? ` (${field.hint})` : "";
    return new ConfigError(`${source.label}: ${name} must be ${describeField(field)}${hint}, got ${show(value)}`);
  };
  switch (field.type) {
    case "string":
      if (typeof value !== "string") throw wrong();
      return field.path && value !== "" && !isAbsolute(value) ? resolve(source.baseDir, value) : value;
    case "int":
      if (typeof value !== "number" || !Number.isInteger(value) || value < field.min || value > field.max) {
        throw wrong();
      }
      return value;
    case "bool":
      if (typeof value !== "boolean") throw wrong();
      return value;
    case "strings":
      if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) throw wrong();
      return [...value];
    case "enum":
      if (typeof value !== "string" || !field.values.includes(value)) throw wrong();
      return value;
    default:
      throw wrong();
  }
}

/**
 * Merges one layer of raw settings (a parsed TOML table, or an object built from environment variables or
 * command-line flags) into `target`, rejecting unknown keys and values of the wrong type. Tables merge key by
 * key; every other value (including arrays) replaces what lower layers set.
 */
export function applyLayer(
  target: Table,
  raw: unknown,
  fields: Fields<object>,
  source: LayerSource,
  prefix = "",
): void {
  if (!isTable(raw)) {
    throw new ConfigError(`${source.label}: ${prefix ? prefix.slice(0, -1) : "the configuration"} must be a table`);
  }
  const known = fields as Record<string, Field>;
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    if (!Object.hasOwn(known, key)) throw unknownKey(key, fields, prefix, source);
    const field = known[key]!;
    const name = prefix + key;
    if (field.type === "section") {
      if (!isTable(value))
        throw new ConfigError(`${source.label}: ${name} must be a table ([${name}]), got ${show(value)}`);
      applyLayer(target[key] as Table, value, field.fields, source, `${name}.`);
    } else if (field.type === "map") {
      if (!isTable(value)) throw new ConfigError(`${source.label}: ${name} must be a table, got ${show(value)}`);
      const map = target[key] as Table;
      for (const [entryKey, entry] of Object.entries(value)) {
        const entryName = `${name}."${entryKey}"`;
        if (!isTable(entry)) throw new ConfigError(`${source.label}: ${entryName} must be a table, got ${show(entry)}`);
        const current = (map[entryKey] as Table | undefined) ?? emptyEntry(field.entry);
        applyLayer(current, entry, field.entry, source, `${entryName}.`);
        map[entryKey] = current;
      }
    } else {
      target[key] = checkValue(field, value, name, source);
    }
  }
}

/** A map entry before any layer set its keys: strings empty, so validation reports what is missing. */
function emptyEntry(fields: Fields<object>): Table {
  const entry: Table = {};
  for (const [key, field] of Object.entries(fields as Record<string, Field>)) {
    if (field.type === "string") entry[key] = "";
  }
  return entry;
}
