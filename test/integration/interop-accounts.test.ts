import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { canLogin } from "./accounts-fixtures.ts";

const PYTHON = "/usr/bin/python3";
const SCRIPT = join(import.meta.dirname, "../interop/slixmpp_accounts.py");

/** Skip when slixmpp is missing locally; CI (HEARTH_REQUIRE_INTEROP=1) installs it and must not skip. */
function requireTool(ok: boolean, what: string): string | false {
  if (ok) return false;
  if (process.env.HEARTH_REQUIRE_INTEROP === "1") throw new Error(`${what} is required (HEARTH_REQUIRE_INTEROP=1)`);
  return `${what} is not installed (apt-get install it to run this test)`;
}

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(PYTHON, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function report(r: { code: number; stdout: string; stderr: string }): Record<string, unknown> {
  assert.equal(r.code, 0, `slixmpp failed: ${r.stdout} ${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split("\n").pop() as string);
}

const hasSlixmpp = existsSync(PYTHON) && (await run(["-c", "import slixmpp"])).code === 0;
const skip = requireTool(hasSlixmpp, "python3-slixmpp");

describe("interop: slixmpp registers accounts (XEP-0077) and runs admin commands (XEP-0050/0133)", () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({
      users: [["admin@localhost", "admin-pw"]],
      config: { admins: ["admin@localhost"], registration: { open: true } },
    });
  });
  after(() => ts.stop());

  it("creates an account in-band, logs in with it and changes its password", { skip }, async () => {
    const r = report(
      await run([SCRIPT, "register", "newbie@localhost/slix", "first-pw", String(ts.c2sPort), "second-pw"]),
    );
    assert.equal(r.registered, true);
    assert.match(String(r.instructions), /username and a password/);
    assert.equal(r.connected, true);
    assert.equal(r.password_changed, true);
    assert.equal(await canLogin(ts, "newbie", "first-pw"), false);
    assert.ok(await canLogin(ts, "newbie", "second-pw"));
  });

  it("lists the admin commands and adds a user with the add-user form", { skip }, async () => {
    const r = report(
      await run([SCRIPT, "admin", "admin@localhost/slix", "admin-pw", String(ts.c2sPort), "made@localhost", "made-pw"]),
    );
    const commands = r.commands as string[];
    assert.ok(commands.includes("http://jabber.org/protocol/admin#add-user"), JSON.stringify(commands));
    assert.equal(r.first_status, "executing");
    assert.deepEqual(r.form_fields, ["FORM_TYPE", "accountjid", "password", "password-verify"]);
    assert.equal(r.status, "completed");
    assert.deepEqual(r.notes, ["Created made@localhost"]);
    assert.ok(await canLogin(ts, "made", "made-pw"));
  });
});
