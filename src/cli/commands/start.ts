import { Command, Option } from "commander";
import type { ConfigOverrides } from "../../config/load.ts";
import { createLogger } from "../../log.ts";
import { type CommonOptions, loadForCli, parsePort, withCommonOptions } from "../common.ts";
import { examples } from "../format.ts";
import { installProcessGuards } from "../process-guards.ts";

interface StartOptions extends CommonOptions {
  c2sPort?: number;
  c2sTlsPort?: number;
  httpPort?: number;
  httpTlsPort?: number;
  componentPort?: number;
  logLevel?: "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";
  logFormat?: "pretty" | "json";
  allowUnencrypted?: boolean;
}

/** The overrides `start`'s own flags stand for. */
export function startOverrides(opts: StartOptions): ConfigOverrides {
  const o: ConfigOverrides = {};
  const c2s: ConfigOverrides["c2s"] = {};
  if (opts.c2sPort !== undefined) c2s.port = opts.c2sPort;
  if (opts.c2sTlsPort !== undefined) c2s.tls_port = opts.c2sTlsPort;
  if (opts.allowUnencrypted) c2s.require_encryption = false;
  if (Object.keys(c2s).length > 0) o.c2s = c2s;
  const http: ConfigOverrides["http"] = {};
  if (opts.httpPort !== undefined) http.port = opts.httpPort;
  if (opts.httpTlsPort !== undefined) http.tls_port = opts.httpTlsPort;
  if (Object.keys(http).length > 0) o.http = http;
  if (opts.componentPort !== undefined) o.component_listener = { port: opts.componentPort };
  const log: ConfigOverrides["log"] = {};
  if (opts.logLevel) log.level = opts.logLevel;
  if (opts.logFormat) log.format = opts.logFormat;
  if (Object.keys(log).length > 0) o.log = log;
  return o;
}

/** `hearth start`: runs the server until SIGINT/SIGTERM. */
export function startCommand(): Command {
  return withCommonOptions(new Command("start"))
    .description("run the server (stops cleanly on Ctrl-C / SIGTERM; a second signal exits at once)")
    .option("--c2s-port <port>", "client STARTTLS port (0: any free port, -1: off)", parsePort)
    .option("--c2s-tls-port <port>", "client direct-TLS port, XEP-0368 (0: any free port, -1: off)", parsePort)
    .option("--http-port <port>", "HTTP port (0: any free port, -1: off)", parsePort)
    .option("--http-tls-port <port>", "HTTPS port (0: any free port, -1: off)", parsePort)
    .option("--component-port <port>", "external component port, XEP-0114 (0: any free port, -1: off)", parsePort)
    .addOption(
      new Option("--log-level <level>", "log level").choices([
        "trace",
        "debug",
        "info",
        "warn",
        "error",
        "fatal",
        "silent",
      ]),
    )
    .addOption(new Option("--log-format <format>", "log format").choices(["pretty", "json"]))
    .option(
      "--allow-unencrypted",
      "let clients log in without TLS (trusted networks only; sets c2s.require_encryption=false)",
    )
    .addHelpText(
      "after",
      examples(
        "hearth start",
        "hearth start --domain example.org --data-dir /var/lib/hearth",
        "hearth start --domain localhost --data-dir /tmp/h1 --c2s-port 0 --c2s-tls-port 0 --http-port -1",
      ),
    )
    .action(async (opts: StartOptions) => {
      const { config, warnings } = loadForCli(opts, startOverrides(opts));
      const logger = createLogger(config.log);
      // Loaded lazily so the account commands start fast and do not need the whole server.
      const { startServer } = await import("../../server.ts");
      // From here on a bug that escapes its handler is logged, not the end of every session (process-guards.ts).
      let running: Awaited<ReturnType<typeof startServer>> | null = null;
      installProcessGuards({ log: logger, shutdown: async () => running?.stop("fatal error") });
      // The server prints the warnings (e.g. unencrypted c2s allowed) prominently with its banner.
      const server = await startServer(config, { logger, warnings });
      running = server;

      let stopping = false;
      const onSignal = (signal: NodeJS.Signals) => {
        if (stopping) {
          logger.warn({ signal }, "second signal: exiting immediately");
          process.exit(1);
        }
        stopping = true;
        logger.info({ signal }, "shutting down");
        server.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            logger.error({ err }, "shutdown failed");
            process.exit(1);
          },
        );
      };
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
    });
}
