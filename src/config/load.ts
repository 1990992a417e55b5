import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { parse, TomlError } from "smol-toml";
import { defaultConfig } from "./defaults.ts";
import { type Env, envSettings } from "./env.ts";
import { ConfigError } from "./errors.ts";
import { applyLayer } from "./layer.ts";
import { type Fields, schema } from "./schema.ts";
import type { HearthConfig } from "./types.ts";
import { validateConfig } from "./validate.ts";

/** A partial configuration, e.g. from command-line flags; sections merge key by key. */
export type ConfigOverrides = {
  [K in keyof HearthConfig]?: HearthConfig[K] extends unknown[]
    ? HearthConfig[K]
    : HearthConfig[K] extends object
      ? Partial<HearthConfig[K]>
      : HearthConfig[K];
};

/** The name looked for in the current directory when no file is given. */
export const DEFAULT_CONFIG_FILE = "hearth.toml";

export interface LoadOptions {
  /**
   * Config file given on the command line (`--config`). Beats `HEARTH_CONFIG` and `./hearth.toml`.
   * `false` reads no file at all.
   */
  file?: string | false;
  /** Directory for `./hearth.toml` and relative paths given by environment or flags. Default: `process.cwd()`. */
  cwd?: string;
  /** Default: `process.env`. Tests pass `{}` to get a clean slate. */
  env?: Env;
  /** Highest-precedence settings, from command-line flags. */
  overrides?: ConfigOverrides;
}

export interface LoadedConfig {
  config: HearthConfig;
  /** Things the operator must see (e.g. unencrypted c2s allowed). The server logs them loudly at startup. */
  warnings: string[];
  /** Absolute path of the file that was read, or null when running on defaults. */
  file: string | null;
}

const FIELDS = schema as unknown as Fields<object>;

/** Reads and parses a TOML config file; syntax errors carry the file, line and column. */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new ConfigError(`config file not found: ${path}`);
    throw new ConfigError(`cannot read config file ${path}: ${(e as Error).message}`);
  }
  try {
    return parse(text);
  } catch (e) {
    if (e instanceof TomlError) {
      const what = e.message.split("\n")[0]!.replace(/^Invalid TOML document: /, "");
      throw new ConfigError(`${path}:${e.line}:${e.column}: invalid TOML: ${what}`);
    }
    throw e;
  }
}

function findFile(opts: LoadOptions, cwd: string, env: Env): string | null {
  if (opts.file === false) return null;
  if (opts.file) return resolve(cwd, opts.file);
  if (env.HEARTH_CONFIG) return resolve(cwd, env.HEARTH_CONFIG);
  const local = resolve(cwd, DEFAULT_CONFIG_FILE);
  return existsSync(local) ? local : null;
}

/**
 * Builds the configuration: defaults < config file < environment < overrides (command-line flags), then
 * validates and normalizes it (hosts through the JID domain rules, paths made absolute). Throws ConfigError
 * with a one-line message naming the key and its source.
 */
export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const cwd = opts.cwd ?? process.cwd();
  const env = opts.env ?? process.env;
  const config = defaultConfig();
  const target = config as unknown as Record<string, unknown>;

  const file = findFile(opts, cwd, env);
  if (file) applyLayer(target, readConfigFile(file), FIELDS, { label: file, baseDir: dirname(file) });

  for (const { variable, raw } of envSettings(env)) {
    applyLayer(target, raw, FIELDS, { label: `environment variable ${variable}`, baseDir: cwd });
  }
  if (opts.overrides) applyLayer(target, opts.overrides, FIELDS, { label: "command line", baseDir: cwd });

  // The default data_dir is relative; anchor it so later chdir() calls cannot move it.
  if (!isAbsolute(config.data_dir)) config.data_dir = resolve(cwd, config.data_dir);
  const warnings = validateConfig(config);
  return { config, warnings, file };
}

/**
 * Defaults plus the given overrides, validated, ignoring any file and the environment. Meant for tests and
 * embedding: `buildConfig({ hosts: ["example.test"], c2s: { port: 0 } })`.
 */
export function buildConfig(overrides: ConfigOverrides = {}, cwd = process.cwd()): HearthConfig {
  return loadConfig({ env: {}, cwd, overrides, file: false }).config;
}
