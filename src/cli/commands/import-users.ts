import { Command, InvalidArgumentError } from "commander";
import type { ImportProgress } from "../../accounts/manager.ts";
import { CliError, type CommonOptions, withAccounts, withCommonOptions } from "../common.ts";
import { examples } from "../format.ts";

/** Prints progress on stderr: an updating line on a terminal, else a line every `every` accounts. */
function progressPrinter(every: number): { update(p: ImportProgress): void; end(): void } {
  const tty = process.stderr.isTTY === true;
  let lastDraw = 0;
  let drawn = false;
  const text = (p: ImportProgress) =>
    `${p.processed} processed: ${p.created} created, ${p.skipped} already existed, ${p.failed} failed`;
  return {
    update(p) {
      if (tty) {
        const now = Date.now();
        if (now - lastDraw < 200) return;
        lastDraw = now;
        process.stderr.write(`\r${text(p)}`);
        drawn = true;
      } else if (p.processed % every === 0) {
        process.stderr.write(`${text(p)}\n`);
      }
    },
    end() {
      if (drawn) process.stderr.write("\n");
    },
  };
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a positive integer");
  return n;
}

/** `hearth import-users FILE`: bulk account creation from a `username:password` file. */
export function importUsersCommand(): Command {
  return withCommonOptions(new Command("import-users"))
    .summary("create accounts from a file of username:password lines")
    .description(
      "create accounts from a text file of username:password lines (user@host:password also works; blank lines " +
        "and # comments are skipped). Existing accounts are left unchanged. Only SCRAM hashes are stored: the " +
        "file is not needed afterwards. Exits 1 if any line failed.",
    )
    .argument("<file>", "the file to read")
    .option("--host <host>", "host for lines without @host (default: the first configured host)")
    .option("--progress-every <n>", "when stderr is not a terminal, print progress every n accounts", positive, 1000)
    .addHelpText(
      "after",
      examples(
        "hearth import-users users.txt",
        "hearth import-users users.txt --host example.org && shred -u users.txt",
      ),
    )
    .action(async (file: string, opts: CommonOptions & { host?: string; progressEvery: number }) => {
      await withAccounts(opts, async (accounts, config) => {
        const progress = progressPrinter(opts.progressEvery);
        const result = await accounts.importFile(file, opts.host ?? config.hosts[0]!, (p) => progress.update(p));
        progress.end();
        for (const error of result.errors) console.error(error);
        console.log(
          `${result.created} created, ${result.skipped} skipped (already existed), ${result.errors.length} failed`,
        );
        if (result.errors.length > 0) {
          throw new CliError(
            `${result.errors.length} line${result.errors.length === 1 ? "" : "s"} could not be imported`,
          );
        }
      });
    });
}
