import { access, constants } from "node:fs/promises";
import { resolve } from "node:path";
import { Command } from "commander";
import type { HearthConfig } from "../../config/types.ts";
import { inspectCertificate } from "../../tls/status.ts";
import { statusLines } from "../cert-report.ts";
import { CliError, type CommonOptions, loadForCli, withCommonOptions } from "../common.ts";
import { examples, hostPort, table } from "../format.ts";

/** Whether `startServer` opens the HTTP listeners (WebSocket, BOSH, discovery, status, metrics: it does). */
const HTTP_SERVED = true;

/** One row per listening socket the server would open, with its TLS mode. */
export function listenerRows(config: HearthConfig): string[][] {
  const components = Object.keys(config.components).length;
  const specs: [string, number, string[], string][] = [
    [
      "c2s",
      config.c2s.port,
      config.c2s.interfaces,
      config.c2s.require_encryption ? "STARTTLS (required)" : "STARTTLS (optional: UNENCRYPTED ALLOWED)",
    ],
    ["c2s", config.c2s.tls_port, config.c2s.interfaces, "direct TLS (XEP-0368)"],
    ["http", config.http.port, config.http.interfaces, "none"],
    ["https", config.http.tls_port, config.http.interfaces, "direct TLS"],
    [
      "component",
      config.component_listener.port,
      config.component_listener.interfaces,
      `none (XEP-0114; ${components} component${components === 1 ? "" : "s"})`,
    ],
  ];
  const rows: string[][] = [];
  for (const [name, port, interfaces, tls] of specs) {
    if (port === -1) {
      rows.push([name, "disabled", ""]);
      continue;
    }
    if (name.startsWith("http") && !HTTP_SERVED) {
      rows.push([name, "not started", "no HTTP service in this version"]);
      continue;
    }
    // The XEP-0114 listener only runs when there is a component to accept.
    if (name === "component" && components === 0) {
      rows.push([name, "not started", "no components configured"]);
      continue;
    }
    for (const address of interfaces) rows.push([name, hostPort(address, port === 0 ? "<any free port>" : port), tls]);
  }
  return rows;
}

async function dataDirState(dir: string): Promise<string> {
  try {
    await access(dir, constants.W_OK);
    return "exists, writable";
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return "will be created";
    throw new CliError(`data_dir ${dir} is not writable (${code})`);
  }
}

/** `hearth check`: validates the configuration and says what the server would do. */
export function checkCommand(): Command {
  return withCommonOptions(new Command("check"))
    .description("validate the configuration and print what would listen where, and the certificate status")
    .addHelpText("after", examples("hearth check", "hearth check --config /etc/hearth/hearth.toml"))
    .action(async (opts: CommonOptions) => {
      const { config, warnings, file } = loadForCli(opts);
      const out = [
        `config:      ${file ?? "no file, built-in defaults"}`,
        `hosts:       ${config.hosts.join(", ")}`,
        `data dir:    ${config.data_dir} (${await dataDirState(config.data_dir)})`,
        `storage:     ${config.storage.driver} ${resolve(config.data_dir, config.storage.sqlite_file)}`,
        `components:  ${Object.keys(config.components).join(", ") || "none"}`,
        "",
        "listeners:",
        table(listenerRows(config)).replace(/^/gm, "  "),
        "",
      ];
      const cert = await inspectCertificate(config);
      out.push(...statusLines(cert, config), "");
      for (const w of warnings) out.push(`WARNING: ${w}`);
      console.log(out.join("\n"));
      if (cert.error) throw new CliError(`certificate: ${cert.error}`);
      console.log("configuration OK");
    });
}
