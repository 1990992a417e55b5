import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { Command } from "commander";
import {
  checkPair,
  describeCertificate,
  generateSelfSigned,
  installedPaths,
  missingNames,
  writePair,
} from "../../tls/certs.ts";
import { inspectCertificate } from "../../tls/status.ts";
import { infoLines, statusLines } from "../cert-report.ts";
import { CliError, type CommonOptions, loadForCli, withCommonOptions } from "../common.ts";
import { examples } from "../format.ts";

function showCommand(): Command {
  return withCommonOptions(new Command("show"))
    .description("print the certificate the server uses: fingerprint, names, expiry (changes nothing)")
    .addHelpText("after", examples("hearth cert show"))
    .action(async (opts: CommonOptions) => {
      const { config } = loadForCli(opts);
      const status = await inspectCertificate(config);
      console.log(statusLines(status, config).join("\n"));
      if (status.error) throw new CliError(status.error);
    });
}

function regenerateCommand(): Command {
  return withCommonOptions(new Command("regenerate"))
    .description("generate a new self-signed certificate for every configured host (its fingerprint changes)")
    .addHelpText("after", examples("hearth cert regenerate --domain example.org"))
    .action(async (opts: CommonOptions) => {
      const { config } = loadForCli(opts);
      const before = await inspectCertificate(config);
      const cert = await generateSelfSigned(config);
      console.log(`generated ${cert.certPath}`);
      console.log(infoLines(describeCertificate(cert.cert)).join("\n"));
      if (before.source === "configured" || before.source === "installed") {
        console.error(
          `note: the server uses the certificate ${before.source === "configured" ? "set in tls.cert" : `in ${before.certPath}`}, not this one`,
        );
      }
      console.error("restart the server to use it; clients that pinned the old fingerprint must accept the new one");
    });
}

function useCommand(): Command {
  return withCommonOptions(new Command("use"))
    .description(
      "use a certificate and key you provide (Let's Encrypt, a private CA): checks that they match, copies them " +
        "into the data directory, and prints the tls settings to reference them in place instead",
    )
    .requiredOption("--cert <file>", "PEM certificate, with its chain (e.g. fullchain.pem)")
    .requiredOption("--key <file>", "PEM private key, unencrypted (e.g. privkey.pem)")
    .option("--no-copy", "do not copy; only check and print the configuration lines")
    .addHelpText(
      "after",
      examples(
        "hearth cert use --cert /etc/letsencrypt/live/example.org/fullchain.pem \\\n" +
          "      --key /etc/letsencrypt/live/example.org/privkey.pem",
      ),
    )
    .action(async (opts: CommonOptions & { cert: string; key: string; copy: boolean }) => {
      const { config } = loadForCli(opts);
      const certPath = resolve(opts.cert);
      const keyPath = resolve(opts.key);
      const read = async (path: string) => {
        try {
          return await readFile(path, "utf8");
        } catch (e) {
          throw new CliError(`cannot read ${path}: ${(e as Error).message}`);
        }
      };
      const cert = await read(certPath);
      const key = await read(keyPath);
      checkPair(cert, key, certPath, keyPath);
      const info = describeCertificate(cert);
      console.log(infoLines(info).join("\n"));
      const missing = missingNames(cert, config);
      if (missing.length > 0) console.error(`warning: the certificate does not cover ${missing.join(", ")}`);
      if (info.notAfter.getTime() < Date.now()) console.error("warning: the certificate has EXPIRED");

      if (opts.copy) {
        const target = installedPaths(config.data_dir);
        await writePair(target, cert, key);
        console.log(`installed as ${target.cert} and ${target.key}; restart the server to use it`);
        if (config.tls.cert !== "") {
          console.error(`note: tls.cert is set (${config.tls.cert}) and takes precedence; remove it to use this one`);
        }
        console.log(
          "\nA copy is not renewed with the original. To use the files in place (renewals are picked up on restart),",
        );
        console.log("put this in hearth.toml instead:");
      } else {
        console.log("\nTo use them, put this in hearth.toml:");
      }
      console.log(`\n[tls]\ncert = ${JSON.stringify(certPath)}\nkey = ${JSON.stringify(keyPath)}`);
    });
}

/** `hearth cert show | regenerate | use`. */
export function certCommand(): Command {
  return new Command("cert")
    .description("show, regenerate, or replace the TLS certificate")
    .addCommand(showCommand(), { isDefault: true })
    .addCommand(regenerateCommand())
    .addCommand(useCommand())
    .addHelpText(
      "after",
      examples("hearth cert show", "hearth cert regenerate", "hearth cert use --cert fullchain.pem --key privkey.pem"),
    );
}
