import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import { type Command, InvalidArgumentError } from "commander";
import { AccountManager } from "../accounts/manager.ts";
import { type ConfigOverrides, type LoadedConfig, loadConfig } from "../config/load.ts";
import type { HearthConfig } from "../config/types.ts";
import { openStorage } from "../storage/open.ts";
import type { Storage } from "../storage/types.ts";

/** A mistake on the command line or in its input; main prints the message alone and exits 1. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}

/** Options every command accepts, parsed by commander. */
export interface CommonOptions {
  config?: string;
  dataDir?: string;
  domain?: string[];
}

/** `--domain a,b --domain c` → ["a", "b", "c"]. */
function collectDomains(value: string, previous: string[] | undefined): string[] {
  const parts = value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (parts.length === 0) throw new InvalidArgumentError("expected a domain");
  return [...(previous ?? []), ...parts];
}

/** Parses a port flag: -1 disables the listener, 0 picks a free port. */
export function parsePort(value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError("expected a port number");
  const port = Number(value);
  if (port < -1 || port > 65535) throw new InvalidArgumentError("expected a port from -1 (off) to 65535 (0: any free)");
  return port;
}

/** Adds `--config`, `--data-dir` and `--domain` to a command. */
export function withCommonOptions(cmd: Command): Command {
  return cmd
    .option("--config <file>", "configuration file (default: ./hearth.toml, or $HEARTH_CONFIG)")
    .option("--data-dir <dir>", "data directory (database, certificates); overrides data_dir")
    .option(
      "--domain <domain>",
      "host to serve; repeat or comma-separate for several (overrides hosts)",
      collectDomains,
    );
}

/** The overrides the common options stand for. */
export function commonOverrides(opts: CommonOptions): ConfigOverrides {
  const overrides: ConfigOverrides = {};
  if (opts.domain) overrides.hosts = opts.domain;
  if (opts.dataDir) overrides.data_dir = resolve(opts.dataDir);
  return overrides;
}

/** Loads the configuration the way every command does: file, environment, then these flags. */
export function loadForCli(opts: CommonOptions, extra: ConfigOverrides = {}): LoadedConfig {
  const overrides = commonOverrides(opts);
  for (const [key, value] of Object.entries(extra) as [keyof ConfigOverrides, unknown][]) {
    const base = overrides[key];
    (overrides as Record<string, unknown>)[key] =
      base && typeof base === "object" && !Array.isArray(base) ? { ...base, ...(value as object) } : value;
  }
  return loadConfig({ file: opts.config, overrides });
}

/** Opens the configured storage, creating the data directory if needed. */
export async function openConfiguredStorage(config: HearthConfig): Promise<Storage> {
  await mkdir(config.data_dir, { recursive: true, mode: 0o700 });
  return openStorage({ driver: config.storage.driver, path: resolve(config.data_dir, config.storage.sqlite_file) });
}

/** Runs `fn` with an AccountManager over the configured storage, closing the storage afterwards. */
export async function withAccounts<T>(
  opts: CommonOptions,
  fn: (manager: AccountManager, config: HearthConfig) => Promise<T>,
) {
  const { config } = loadForCli(opts);
  const storage = await openConfiguredStorage(config);
  try {
    return await fn(
      new AccountManager(storage, { iterations: config.auth.scram_iterations, hosts: config.hosts }),
      config,
    );
  } finally {
    await storage.close();
  }
}
