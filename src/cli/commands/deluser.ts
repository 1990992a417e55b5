import { Command } from "commander";
import { AccountError } from "../../accounts/manager.ts";
import { type CommonOptions, withAccounts, withCommonOptions } from "../common.ts";
import { examples } from "../format.ts";

/** `hearth deluser JID`: deletes an account and everything stored for it. */
export function deluserCommand(): Command {
  return withCommonOptions(new Command("deluser"))
    .description("delete an account with its roster, offline messages and stored data")
    .argument("<jid>", "the account, e.g. alice@localhost")
    .addHelpText("after", examples("hearth deluser alice@localhost"))
    .action(async (jid: string, opts: CommonOptions) => {
      await withAccounts(opts, async (accounts) => {
        const target = accounts.parse(jid);
        if (!(await accounts.delete(target.jid))) throw new AccountError(`there is no account ${target.jid}`);
        console.log(`deleted ${target.jid}`);
      });
    });
}
