import { Command, InvalidArgumentError } from "commander";
import { formatDuration, parseDuration } from "../../config/duration.ts";
import { createInvite, MAX_INVITE_SECONDS, MAX_INVITE_USES } from "../../invites/create.ts";
import { InviteError } from "../../invites/errors.ts";
import { inviteUrls } from "../../invites/urls.ts";
import { CliError, type CommonOptions, loadForCli, openConfiguredStorage, withCommonOptions } from "../common.ts";
import { examples, formatTime } from "../format.ts";

interface InviteOptions extends CommonOptions {
  multi?: number;
  expires?: number;
  addToRoster?: string[];
  username?: string;
  host?: string;
  json?: boolean;
}

function parseUses(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > MAX_INVITE_USES) {
    throw new InvalidArgumentError(`expected a number of uses from 1 to ${MAX_INVITE_USES}`);
  }
  return n;
}

function parseExpiry(value: string): number {
  const seconds = parseDuration(value);
  if (seconds === null || seconds > MAX_INVITE_SECONDS) {
    throw new InvalidArgumentError("expected a duration like 30m, 12h, 7d or 2w, at most 365d");
  }
  return seconds;
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/**
 * `hearth invite`: creates an invitation (XEP-0401 / XEP-0445) and prints its `xmpp:` URI and, when HTTP is on,
 * the address of the invite page. Works while the server runs (the database allows it).
 */
export function inviteCommand(): Command {
  return withCommonOptions(new Command("invite"))
    .description("create an invitation: a link that creates an account here (and adds contacts)")
    .option("--multi <uses>", "how many people may use it (default: 1)", parseUses)
    .option(
      "--expires <duration>",
      "how long it is valid: 30m, 12h, 7d, 2w (default: invites.default_expiry)",
      parseExpiry,
    )
    .option("--add-to-roster <jid>", "an account the invitee becomes a mutual contact of (repeat for several)", collect)
    .option("--username <name>", "reserve this username for the invitee")
    .option("--host <host>", "the host the account is created on (default: the first of hosts)")
    .option("--json", "print JSON instead of text")
    .addHelpText(
      "after",
      examples(
        "hearth invite",
        "hearth invite --add-to-roster alice@localhost",
        "hearth invite --multi 5 --expires 2w",
        "hearth invite --username juliet --host example.org",
      ),
    )
    .action(async (opts: InviteOptions) => {
      const { config } = loadForCli(opts);
      const roster = opts.addToRoster ?? [];
      // Without registration by invitation, a link can still make the invitee a contact of an existing account.
      const allowRegistration = config.registration.allow_with_invite;
      if (!allowRegistration && roster.length === 0) {
        throw new CliError(
          "registration with invitations is off (registration.allow_with_invite = false); use --add-to-roster for a contact invitation",
        );
      }
      const storage = await openConfiguredStorage(config);
      try {
        const invite = await createInvite(storage, config, {
          host: opts.host ?? (config.hosts[0] as string),
          creator: null,
          username: opts.username ?? null,
          roster,
          allowRegistration,
          maxUses: opts.multi ?? 1,
          expiresIn: opts.expires,
        }).catch((e: unknown) => {
          throw e instanceof InviteError ? new CliError(e.message) : e;
        });
        const { uri, landing } = inviteUrls(config, invite);
        if (opts.json) {
          console.log(
            JSON.stringify(
              {
                token: invite.token,
                uri,
                landing,
                host: invite.host,
                username: invite.username,
                roster: invite.roster,
                maxUses: invite.maxUses,
                expires: new Date(invite.expiresAt).toISOString(),
              },
              null,
              2,
            ),
          );
          return;
        }
        console.log(uri);
        if (landing) console.log(landing);
        const uses = invite.maxUses === 1 ? "single use" : `${invite.maxUses} uses`;
        const validity = formatDuration(Math.round((invite.expiresAt - invite.createdAt) / 1000));
        console.error(`${uses}, valid ${validity} (until ${formatTime(invite.expiresAt)})`);
        if (!allowRegistration) console.error("contact invitation only: it creates no account");
      } finally {
        await storage.close();
      }
    });
}
