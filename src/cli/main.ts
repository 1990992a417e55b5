import { Command } from "commander";
import { AccountError } from "../accounts/manager.ts";
import { ConfigError } from "../config/errors.ts";
import { JidError } from "../jid/jid.ts";
import { SchemaTooNewError } from "../storage/sqlite/index.ts";
import { CertError } from "../tls/certs.ts";
import { HEARTH_VERSION } from "../version.ts";
import { adduserCommand } from "./commands/adduser.ts";
import { certCommand } from "./commands/cert.ts";
import { checkCommand } from "./commands/check.ts";
import { deluserCommand } from "./commands/deluser.ts";
import { importUsersCommand } from "./commands/import-users.ts";
import { inviteCommand } from "./commands/invite.ts";
import { invitesCommand } from "./commands/invites.ts";
import { passwdCommand } from "./commands/passwd.ts";
import { startCommand } from "./commands/start.ts";
import { usersCommand } from "./commands/users.ts";
import { CliError } from "./common.ts";

/** System errors that are about the environment (a port taken, a file missing), not a bug in Hearth. */
const ENVIRONMENT_CODES = new Set(["ENOENT", "EACCES", "EPERM", "EADDRINUSE", "EADDRNOTAVAIL", "ENOSPC", "EROFS"]);

/** Expected failures are shown as one line; anything else is a bug and keeps its stack trace. */
function isExpected(err: unknown): err is Error {
  if (
    err instanceof CliError ||
    err instanceof ConfigError ||
    err instanceof AccountError ||
    err instanceof CertError ||
    err instanceof JidError ||
    err instanceof SchemaTooNewError
  ) {
    return true;
  }
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return err instanceof Error && typeof code === "string" && ENVIRONMENT_CODES.has(code);
}

/** The `hearth` program with every command. */
export function buildProgram(): Command {
  return new Command("hearth")
    .description("Hearth XMPP server")
    .version(HEARTH_VERSION)
    .addCommand(startCommand())
    .addCommand(adduserCommand())
    .addCommand(passwdCommand())
    .addCommand(deluserCommand())
    .addCommand(usersCommand())
    .addCommand(importUsersCommand())
    .addCommand(inviteCommand())
    .addCommand(invitesCommand())
    .addCommand(certCommand())
    .addCommand(checkCommand())
    .showHelpAfterError("(add --help for usage)");
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  if (isExpected(err)) {
    process.stderr.write(`hearth: ${err.message}\n`);
  } else {
    process.stderr.write(
      `hearth: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
  }
  process.exitCode = 1;
}
