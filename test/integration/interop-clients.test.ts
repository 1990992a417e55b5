import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { xml } from "../../src/xml/element.ts";
import { connectClient } from "../helpers/client.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";

const PYTHON = "/usr/bin/python3";
const SLIXMPP_SCRIPT = join(import.meta.dirname, "../interop/slixmpp_chat.py");
const SENDXMPP = "/usr/bin/go-sendxmpp";

/** Skip when a Debian client is missing locally; CI (HEARTH_REQUIRE_INTEROP=1) installs them and must not skip. */
function requireTool(ok: boolean, what: string): string | false {
  if (ok) return false;
  if (process.env.HEARTH_REQUIRE_INTEROP === "1") throw new Error(`${what} is required (HEARTH_REQUIRE_INTEROP=1)`);
  return `${what} is not installed (apt-get install it to run this test)`;
}

function run(cmd: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

const hasSlixmpp = existsSync(PYTHON) && (await run(PYTHON, ["-c", "import slixmpp"])).code === 0;

describe("interop with real Debian XMPP clients", () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({
      users: [
        ["alice@localhost", "alice-secret"],
        ["bob@localhost", "bob-secret"],
      ],
    });
  });
  after(() => ts.stop());

  it("slixmpp logs in over STARTTLS with SCRAM and exchanges messages with another client", {
    skip: requireTool(hasSlixmpp, "python3-slixmpp"),
  }, async () => {
    const bob = await connectClient(ts, "bob@localhost", "bob-secret", { resource: "desk", presence: true });
    const slix = run(PYTHON, [
      SLIXMPP_SCRIPT,
      "alice@localhost/slix",
      "alice-secret",
      String(ts.c2sPort),
      "bob@localhost",
      "hello from slixmpp",
      "hello back",
    ]);
    const msg = await bob.expect(
      (el) => el.name === "message" && el.getChildText("body") === "hello from slixmpp",
      15_000,
    );
    assert.equal(msg.attrs.from, "alice@localhost/slix");
    bob.send(xml("message", { to: msg.attrs.from, type: "chat" }, xml("body", null, "hello back")));
    const result = await slix;
    assert.equal(result.code, 0, `slixmpp failed: ${result.stdout} ${result.stderr.slice(-2000)}`);
    const report = JSON.parse(result.stdout.trim().split("\n").pop() as string);
    assert.equal(report.connected, true);
    assert.equal(report.received, "hello back");
    assert.match(String(report.mechanism), /^SCRAM-SHA-/, "slixmpp chose a SCRAM mechanism");
    await bob.close();
  });

  it("go-sendxmpp delivers a message over STARTTLS and over direct TLS", {
    skip: requireTool(existsSync(SENDXMPP), "go-sendxmpp"),
  }, async () => {
    const bob = await connectClient(ts, "bob@localhost", "bob-secret", { resource: "desk2", presence: true });
    for (const [port, extra, text] of [
      [ts.c2sPort, [], "via starttls"],
      [ts.tlsPort, ["-t"], "via direct tls"],
    ] as [number, string[], string][]) {
      const r = await run(
        SENDXMPP,
        ["-u", "alice@localhost", "-p", "alice-secret", "-j", `127.0.0.1:${port}`, "-n", ...extra, "bob@localhost"],
        text,
      );
      assert.equal(r.code, 0, `go-sendxmpp failed: ${r.stdout} ${r.stderr}`);
      const msg = await bob.expect((el) => el.name === "message" && el.getChildText("body")?.trim() === text, 10_000);
      assert.match(msg.attrs.from ?? "", /^alice@localhost\//);
    }
    await bob.close();
  });
});
