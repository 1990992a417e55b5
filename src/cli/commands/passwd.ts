import { Command } from "commander";
import { AccountError } from "../../accounts/manager.ts";
import { type CommonOptions, withAccounts, withCommonOptions } from "../common.ts";
import { examples } from "../format.ts";
import { readNewPassword } from "../prompt.ts";

/** `hearth passwd JID`: sets a new password. */
export function passwdCommand(): Command {
  return withCommonOptions(new Command("passwd"))
    .description("change an account's password (asks for it, or reads it from stdin when piped)")
    .argument("<jid>", "the account, e.g. alice@localhost")
    .option("--password <password>", "the new password (visible to other local users and in shell history)")
    .addHelpText("after", examples("hearth passwd alice@localhost", "echo 'n3w' | hearth passwd alice@localhost"))
    .action(async (jid: string, opts: CommonOptions & { password?: string }) => {
      await withAccounts(opts, async (accounts) => {
        const target = accounts.parse(jid);
        if (!(await accounts.get(target.jid))) throw new AccountError(`there is no account ${target.jid}`);
        const password = opts.password ?? (await readNewPassword());
        await accounts.setPassword(target.jid, password);
        console.log(`password changed for ${target.jid}`);
      });
    });
}
