import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { AccountManager } from "../../src/accounts/manager.ts";
import { openStorage } from "../../src/storage/open.ts";

const repo = resolve(import.meta.dirname, "../..");
const tmp = mkdtempSync(join(tmpdir(), "hearth-cli-"));
const dataDir = join(tmp, "data");
const configFile = join(tmp, "hearth.toml");
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI in a subprocess with a clean environment and our temp config and data dir. */
function hearth(args: string[], input?: string): Promise<Result> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? "", HOME: tmp, HEARTH_CONFIG: configFile };
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { cwd: repo, env });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  child.stdin.end(input ?? "");
  return new Promise((done) => child.on("close", (code) => done({ code, stdout, stderr })));
}

const withData = (...args: string[]) => hearth([...args, "--data-dir", dataDir]);

/** Expected failures: exit 1 and exactly one line on stderr, no stack trace. */
function assertUserError(r: Result, pattern: RegExp): void {
  assert.equal(r.code, 1, `exit code; stderr: ${r.stderr}`);
  assert.match(r.stderr, pattern);
  assert.equal(r.stderr.trim().split("\n").length, 1, `one line expected, got:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}

async function withManager<T>(fn: (m: AccountManager) => Promise<T>): Promise<T> {
  const storage = await openStorage({ driver: "sqlite", path: join(dataDir, "hearth.db") });
  try {
    return await fn(new AccountManager(storage, { iterations: 4096, hosts: ["localhost"] }));
  } finally {
    await storage.close();
  }
}

before(() => writeFileSync(configFile, "# empty: built-in defaults\n"));

describe("account commands", () => {
  let aliceUuid = "";

  test("adduser --password creates the account and prints its UUID", async () => {
    const r = await withData("adduser", "alice@localhost", "--password", "alice-pw");
    assert.equal(r.code, 0, r.stderr);
    const m = /created alice@localhost \(uuid ([0-9a-f-]{36})\)/.exec(r.stdout);
    assert.ok(m, r.stdout);
    aliceUuid = m[1]!;
  });

  test("adduser reads the password from a non-TTY stdin", async () => {
    const r = await hearth(["adduser", "Bob@LocalHost", "--data-dir", dataDir], "bob-pw\n");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /created bob@localhost/);
    assert.equal(await withManager((m) => m.authenticatePlain("bob@localhost", "bob-pw")), true);
  });

  test("a duplicate adduser fails with exit 1 and one line", async () => {
    assertUserError(
      await withData("adduser", "alice@localhost", "--password", "x"),
      /^hearth: .*alice@localhost already exists/,
    );
  });

  test("adduser refuses unknown hosts and invalid JIDs", async () => {
    assertUserError(await withData("adduser", "carol@example.org", "--password", "x"), /example\.org is not a host/);
    assertUserError(await withData("adduser", "car ol@localhost", "--password", "x"), /invalid JID/);
  });

  test("passwd changes the password", async () => {
    const r = await hearth(["passwd", "alice@localhost", "--data-dir", dataDir], "alice-new\n");
    assert.equal(r.code, 0, r.stderr);
    await withManager(async (m) => {
      assert.equal(await m.authenticatePlain("alice@localhost", "alice-new"), true);
      assert.equal(await m.authenticatePlain("alice@localhost", "alice-pw"), false);
    });
    assertUserError(
      await withData("passwd", "nobody@localhost", "--password", "x"),
      /there is no account nobody@localhost/,
    );
  });

  test("users lists JID, UUID, created and last seen", async () => {
    const r = await withData("users");
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.match(lines[0]!, /^JID\s+UUID\s+CREATED\s+LAST SEEN$/);
    const alice = lines.find((l) => l.startsWith("alice@localhost"));
    assert.ok(alice?.includes(aliceUuid), r.stdout);
    assert.match(alice!, /\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+never$/);
    assert.ok(lines.some((l) => l.startsWith("bob@localhost")));
  });

  test("deluser removes the account; a second time fails", async () => {
    const r = await withData("deluser", "bob@localhost");
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch((await withData("users")).stdout, /bob@localhost/);
    assertUserError(await withData("deluser", "bob@localhost"), /there is no account bob@localhost/);
  });

  test("import-users creates accounts from a file and reports the bad line", async () => {
    const file = join(tmp, "users.txt");
    writeFileSync(
      file,
      [
        "# exported from the old server",
        "user1:pass-one",
        "",
        "user2:pass:with:colons",
        "this line has no separator",
        "user3@localhost:pass-three",
        "user4:pass-four",
        "user5:pass-five",
      ].join("\n"),
    );
    const r = await withData("import-users", file);
    assert.equal(r.code, 1, "a failed line makes the exit code 1");
    assert.match(r.stdout, /5 created, 0 skipped.*1 failed/);
    assert.match(r.stderr, /line 5: expected username:password/);
    assert.doesNotMatch(r.stdout + r.stderr, /pass-|separator/, "passwords and line contents are never echoed");
    await withManager(async (m) => {
      assert.equal((await m.list("localhost")).length, 6);
      assert.equal(await m.authenticatePlain("user2@localhost", "pass:with:colons"), true);
      assert.equal(await m.authenticatePlain("user3@localhost", "pass-three"), true);
    });
    // Running it again skips the existing accounts.
    const again = await withData("import-users", file);
    assert.match(again.stdout, /0 created, 5 skipped/);
  });
});

describe("check and cert", () => {
  test("check prints hosts, listeners with TLS mode, and the certificate status", async () => {
    const r = await hearth(["check", "--data-dir", dataDir, "--domain", "localhost,192.168.0.1"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /hosts:\s+localhost, 192\.168\.0\.1/);
    assert.match(r.stdout, /c2s\s+\[::\]:5222\s+STARTTLS \(required\)/);
    assert.match(r.stdout, /c2s\s+\[::\]:5223\s+direct TLS/);
    assert.match(r.stdout, /component\s+not started\s+no components configured/);
    assert.match(r.stdout, /certificate: none yet/);
    assert.match(r.stdout, /configuration OK/);
  });

  test("check shows the component listener when a component is configured, and unencrypted c2s loudly", async () => {
    const file = join(tmp, "component.toml");
    writeFileSync(file, '[components."gw.localhost"]\nsecret = "s"\n[c2s]\nrequire_encryption = false\nport = 15222\n');
    const r = await hearth(["check", "--config", file, "--data-dir", dataDir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /component\s+127\.0\.0\.1:5347\s+none \(XEP-0114; 1 component\)/);
    assert.match(r.stdout, /c2s\s+\[::\]:15222\s+STARTTLS \(optional: UNENCRYPTED ALLOWED\)/);
    assert.match(r.stdout, /WARNING: c2s\.require_encryption is OFF/);
  });

  test("check reports a configuration error in one line", async () => {
    const bad = join(tmp, "bad.toml");
    writeFileSync(bad, "[c2s]\nprot = 5222\n");
    assertUserError(await hearth(["check", "--config", bad]), /unknown key "c2s\.prot"; did you mean "c2s\.port"/);
  });

  test("cert regenerate, then cert show prints the same fingerprint and the names", async () => {
    const gen = await withData("cert", "regenerate");
    assert.equal(gen.code, 0, gen.stderr);
    const fingerprint = /fingerprint: SHA-256 ([0-9A-F:]{95})/.exec(gen.stdout)?.[1];
    assert.ok(fingerprint, gen.stdout);
    const show = await withData("cert", "show");
    assert.equal(show.code, 0, show.stderr);
    assert.ok(show.stdout.includes(fingerprint), show.stdout);
    assert.match(show.stdout, /names:\s+localhost, conference\.localhost, upload\.localhost/);
    assert.match(show.stdout, /valid:\s+\d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d/);
  });

  test("cert use installs a given pair and prints the config lines", async () => {
    const self = join(dataDir, "tls");
    const r = await withData(
      "cert",
      "use",
      "--cert",
      join(self, "selfsigned.crt"),
      "--key",
      join(self, "selfsigned.key"),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /installed as .*server\.crt/);
    assert.match(r.stdout, /\[tls\]\ncert = ".*selfsigned\.crt"\nkey = ".*selfsigned\.key"/);
    assert.match((await withData("cert", "show")).stdout, /installed with `hearth cert use`/);
    assertUserError(
      await withData("cert", "use", "--cert", join(self, "selfsigned.crt"), "--key", join(self, "server.crt")),
      /not a usable PEM private key/,
    );
  });
});

describe("start", () => {
  test("serves on free ports with a temp data dir, and SIGTERM stops it with exit 0", async () => {
    const dir = join(tmp, "start");
    const env: Record<string, string> = { PATH: process.env.PATH ?? "", HOME: tmp, HEARTH_CONFIG: configFile };
    const args = ["--import", "tsx", "src/cli/main.ts", "start", "--data-dir", dir, "--domain", "localhost"];
    args.push("--c2s-port", "0", "--c2s-tls-port", "0", "--http-port", "-1", "--http-tls-port", "-1");
    args.push("--log-format", "json");
    const child = spawn(process.execPath, args, { cwd: repo, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const exited = new Promise<number | null>((done) => child.on("close", (code) => done(code)));
    const port = await new Promise<number>((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`no banner; stdout: ${stdout} stderr: ${stderr}`)), 15000);
      child.stdout.setEncoding("utf8").on("data", (d: string) => {
        stdout += d;
        const m = /listening: c2s on \S+:(\d+) \(STARTTLS\)/.exec(stdout);
        if (m) {
          clearTimeout(timer);
          done(Number(m[1]));
        }
      });
    });
    assert.ok(port > 0);
    const { connect } = await import("node:net");
    const greeting = await new Promise<string>((done, fail) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.write("<?xml version='1.0'?><stream:stream to='localhost' version='1.0' xmlns='jabber:client' ");
        socket.write("xmlns:stream='http://etherx.jabber.org/streams'>");
      });
      let data = "";
      socket.setEncoding("utf8").on("data", (d: string) => {
        data += d;
        if (data.includes("</stream:features>")) {
          socket.destroy();
          done(data);
        }
      });
      socket.on("error", fail);
    });
    assert.match(greeting, /urn:ietf:params:xml:ns:xmpp-tls/);
    child.kill("SIGTERM");
    assert.equal(await exited, 0, stderr);
    assert.match(stdout, /"source":"generated"/, "a certificate was generated on first start");
  });
});

describe("help", () => {
  const commands = [
    ["start"],
    ["adduser"],
    ["passwd"],
    ["deluser"],
    ["users"],
    ["import-users"],
    ["cert"],
    ["cert", "show"],
    ["cert", "regenerate"],
    ["cert", "use"],
    ["check"],
  ];
  test("every command has --help with the common options", async () => {
    // A few at a time: the machine running the suite is shared.
    const results: Result[] = [];
    for (let i = 0; i < commands.length; i += 4) {
      results.push(...(await Promise.all(commands.slice(i, i + 4).map((c) => hearth([...c, "--help"])))));
    }
    results.forEach((r, i) => {
      const name = commands[i]!.join(" ");
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`Usage: hearth ${name}`), name);
      if (name !== "cert")
        assert.match(r.stdout, /--config <file>[\s\S]*--data-dir <dir>[\s\S]*--domain <domain>/, name);
    });
    assert.match(results[0]!.stdout, /--c2s-port[\s\S]*--c2s-tls-port[\s\S]*--http-port[\s\S]*--allow-unencrypted/);
    const top = await hearth(["--help"]);
    for (const c of ["start", "adduser", "passwd", "deluser", "users", "import-users", "cert", "check"]) {
      assert.match(top.stdout, new RegExp(`\\n  ${c}\\b`), c);
    }
  });
});
