import { Command } from "commander";
import { isUsable } from "../../invites/create.ts";
import { inviteUrls } from "../../invites/urls.ts";
import type { Invite } from "../../storage/invites.ts";
import { CliError, type CommonOptions, loadForCli, openConfiguredStorage, withCommonOptions } from "../common.ts";
import { examples, formatTime, table } from "../format.ts";

function state(invite: Invite, now: number): string {
  if (invite.expiresAt <= now) return "expired";
  if (invite.uses >= invite.maxUses) return "used";
  return "usable";
}

function listCommand(): Command {
  return withCommonOptions(new Command("list"))
    .description("list invitations that can still be used (with --all: also used-up and expired ones)")
    .option("--host <host>", "only this host")
    .option("--all", "include used-up and expired invitations")
    .option("--json", "print JSON (one array) instead of a table")
    .action(async (opts: CommonOptions & { host?: string; all?: boolean; json?: boolean }) => {
      const { config } = loadForCli(opts);
      const storage = await openConfiguredStorage(config);
      try {
        const now = Date.now();
        const invites = (await storage.invites.list(opts.host)).filter((i) => opts.all || isUsable(i, now));
        if (opts.json) {
          const rows = invites.map((i) => ({
            token: i.token,
            host: i.host,
            state: state(i, now),
            creator: i.creator,
            username: i.username,
            roster: i.roster,
            uses: i.uses,
            maxUses: i.maxUses,
            usedBy: i.usedBy,
            created: new Date(i.createdAt).toISOString(),
            expires: new Date(i.expiresAt).toISOString(),
            uri: inviteUrls(config, i).uri,
          }));
          console.log(JSON.stringify(rows, null, 2));
          return;
        }
        const rows = invites.map((i) => [
          i.token,
          i.host,
          state(i, now),
          `${i.uses}/${i.maxUses}`,
          i.creator ?? "(admin)",
          i.username ?? "-",
          i.roster.join(",") || "-",
          formatTime(i.expiresAt),
        ]);
        if (rows.length > 0) {
          console.log(table([["TOKEN", "HOST", "STATE", "USES", "BY", "USERNAME", "CONTACTS", "EXPIRES"], ...rows]));
        }
        console.error(`${invites.length} invitation${invites.length === 1 ? "" : "s"}`);
      } finally {
        await storage.close();
      }
    });
}

function revokeCommand(): Command {
  return withCommonOptions(new Command("revoke"))
    .description("revoke an invitation: its link stops working at once")
    .argument("<token>", "the invitation's token (see hearth invites list)")
    .action(async (token: string, opts: CommonOptions) => {
      const { config } = loadForCli(opts);
      const storage = await openConfiguredStorage(config);
      try {
        if (!(await storage.invites.delete(token.trim()))) throw new CliError(`there is no invitation ${token}`);
        console.log(`revoked ${token.trim()}`);
      } finally {
        await storage.close();
      }
    });
}

/** `hearth invites`: lists (the default) and revokes invitations. */
export function invitesCommand(): Command {
  return new Command("invites")
    .description("list or revoke invitations")
    .addCommand(listCommand(), { isDefault: true })
    .addCommand(revokeCommand())
    .addHelpText(
      "after",
      examples("hearth invites", "hearth invites list --all --json", "hearth invites revoke TOKEN"),
    );
}
