import { ConfigError } from "./errors.ts";
import { describeField, type Field, schema } from "./schema.ts";

/** Environment variables as `process.env` has them. */
export type Env = Record<string, string | undefined>;

/** One environment variable turned into a nested settings object, ready for `applyLayer`. */
export interface EnvSetting {
  variable: string;
  raw: Record<string, unknown>;
}

/**
 * Short aliases for the settings people set most often in containers and scripts. They are applied before the
 * generic `HEARTH_SECTION__KEY` form, so the generic form wins when both name the same key.
 */
export const ENV_ALIASES: Readonly<Record<string, readonly string[]>> = {
  XMPP_DOMAIN: ["hosts"],
  XMPP_PORT: ["c2s", "port"],
  XMPP_TLS_PORT: ["c2s", "tls_port"],
  XMPP_HTTP_PORT: ["http", "port"],
  XMPP_HTTPS_PORT: ["http", "tls_port"],
  XMPP_DATA_DIR: ["data_dir"],
  XMPP_LOG_LEVEL: ["log", "level"],
};

/** `HEARTH_` variables that are not configuration keys. */
const RESERVED = new Set(["HEARTH_CONFIG"]);

const TRUE = new Set(["true", "1", "yes", "on"]);
const FALSE = new Set(["false", "0", "no", "off"]);

/** Parses an environment variable's text according to the type of the key it sets. */
export function parseEnvValue(field: Field, text: string, variable: string): unknown {
  const value = text.trim();
  const wrong = () =>
    new ConfigError(`environment variable ${variable} must be ${describeField(field)}, got "${text}"`);
  switch (field.type) {
    case "string":
    case "enum":
      return value;
    case "int":
      if (!/^-?\d+$/.test(value)) throw wrong();
      return Number(value);
    case "bool": {
      const lower = value.toLowerCase();
      if (TRUE.has(lower)) return true;
      if (FALSE.has(lower)) return false;
      throw wrong();
    }
    case "strings":
      // Comma-separated, e.g. XMPP_DOMAIN=example.org,chat.example.org
      return value
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
    default:
      throw new ConfigError(`environment variable ${variable} sets a table; tables can only be set in the config file`);
  }
}

function lookup(path: readonly string[], variable: string): Field | undefined {
  let fields = schema as unknown as Record<string, Field>;
  let field: Field | undefined;
  for (const [i, part] of path.entries()) {
    field = Object.hasOwn(fields, part) ? fields[part] : undefined;
    if (!field) return undefined;
    if (i < path.length - 1) {
      if (field.type === "map") {
        throw new ConfigError(
          `environment variable ${variable}: "${path[0]}" can only be configured in the config file`,
        );
      }
      if (field.type !== "section") return undefined;
      fields = field.fields as Record<string, Field>;
    }
  }
  return field;
}

function nest(path: readonly string[], value: unknown): Record<string, unknown> {
  let out: unknown = value;
  for (let i = path.length - 1; i >= 0; i--) out = { [path[i]!]: out };
  return out as Record<string, unknown>;
}

/**
 * Reads the configuration settings out of the environment: the `XMPP_*` aliases, then every
 * `HEARTH_<SECTION>__<KEY>` (or `HEARTH_<KEY>` for top-level keys), in name order. An unknown
 * `HEARTH_X__Y` is an error, so a typo is not silently ignored; single-level `HEARTH_` variables that are
 * not top-level keys are left alone (other tools may use the prefix).
 */
export function envSettings(env: Env): EnvSetting[] {
  const out: EnvSetting[] = [];
  for (const [variable, path] of Object.entries(ENV_ALIASES)) {
    const text = env[variable];
    if (text === undefined || text === "") continue;
    out.push({ variable, raw: nest(path, parseEnvValue(lookup(path, variable)!, text, variable)) });
  }
  const names = Object.keys(env)
    .filter((k) => k.startsWith("HEARTH_") && !RESERVED.has(k))
    .sort();
  for (const variable of names) {
    const text = env[variable];
    if (text === undefined) continue;
    const path = variable.slice("HEARTH_".length).toLowerCase().split("__");
    const field = lookup(path, variable);
    if (!field) {
      if (path.length === 1) continue;
      throw new ConfigError(
        `environment variable ${variable} does not name a configuration key (expected HEARTH_<SECTION>__<KEY>, e.g. HEARTH_C2S__PORT)`,
      );
    }
    if (field.type === "section" || field.type === "map") {
      throw new ConfigError(
        `environment variable ${variable} names a whole section; set one key, e.g. ${variable}__<KEY>`,
      );
    }
    out.push({ variable, raw: nest(path, parseEnvValue(field, text, variable)) });
  }
  return out;
}
