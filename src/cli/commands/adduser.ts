import { Command } from "commander";
import { AccountExistsError } from "../../accounts/manager.ts";
import { type CommonOptions, withAccounts, withCommonOptions } from "../common.ts";
import { examples } from "../format.ts";
import { readNewPassword } from "../prompt.ts";

/** `hearth adduser JID`: creates an account. */
export function adduserCommand(): Command {
  return withCommonOptions(new Command("adduser"))
    .description("create an account (asks for the password, or reads it from stdin when piped)")
    .argument("<jid>", "the new account, e.g. alice@localhost")
    .option(
      "--password <password>",
      "the password (visible to other local users and in shell history; prefer the prompt)",
    )
    .addHelpText(
      "after",
      examples(
        "hearth adduser alice@localhost",
        "echo 's3cret' | hearth adduser bob@example.org",
        "hearth adduser carol@localhost --password 's3cret'",
      ),
    )
    .action(async (jid: string, opts: CommonOptions & { password?: string }) => {
      await withAccounts(opts, async (accounts) => {
        // Check before asking for a password that would be thrown away.
        const target = accounts.parse(jid);
        if (await accounts.get(target.jid)) throw new AccountExistsError(target.jid);
        const password = opts.password ?? (await readNewPassword());
        const account = await accounts.create(target.jid, password);
        console.log(`created ${target.jid} (uuid ${account.uuid})`);
      });
    });
}
