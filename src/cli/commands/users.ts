import { Command } from "commander";
import type { Account } from "../../storage/types.ts";
import { type CommonOptions, withAccounts, withCommonOptions } from "../common.ts";
import { examples, formatTime, table } from "../format.ts";

/** `hearth users`: lists accounts with their UUID, creation and last-seen times. */
export function usersCommand(): Command {
  return withCommonOptions(new Command("users"))
    .description("list accounts: JID, UUID, created, last seen")
    .option("--host <host>", "only this host (default: every configured host)")
    .option("--json", "print JSON (one array) instead of a table")
    .addHelpText("after", examples("hearth users", "hearth users --host localhost --json"))
    .action(async (opts: CommonOptions & { host?: string; json?: boolean }) => {
      await withAccounts(opts, async (accounts, config) => {
        const all: Account[] = [];
        for (const host of opts.host ? [opts.host] : config.hosts) all.push(...(await accounts.list(host)));
        if (opts.json) {
          const rows = all.map((a) => ({
            jid: `${a.username}@${a.host}`,
            uuid: a.uuid,
            created: new Date(a.createdAt).toISOString(),
            lastSeen: a.lastSeen === null ? null : new Date(a.lastSeen).toISOString(),
          }));
          console.log(JSON.stringify(rows, null, 2));
          return;
        }
        const rows = all.map((a) => [
          `${a.username}@${a.host}`,
          a.uuid,
          formatTime(a.createdAt),
          formatTime(a.lastSeen),
        ]);
        if (rows.length > 0) console.log(table([["JID", "UUID", "CREATED", "LAST SEEN"], ...rows]));
        console.error(`${all.length} account${all.length === 1 ? "" : "s"}`);
      });
    });
}
