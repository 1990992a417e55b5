import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { defaultConfig } from "../../src/config/defaults.ts";
import { ConfigError } from "../../src/config/errors.ts";
import { buildConfig, type LoadOptions, loadConfig } from "../../src/config/load.ts";

const root = mkdtempSync(join(tmpdir(), "hearth-config-"));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** A fresh directory, optionally holding a hearth.toml with the given text. */
function dir(toml?: string): string {
  const d = join(root, String(n++));
  mkdirSync(d);
  if (toml !== undefined) writeFileSync(join(d, "hearth.toml"), toml);
  return d;
}

function load(opts: LoadOptions & { toml?: string } = {}) {
  const cwd = opts.cwd ?? dir(opts.toml);
  return loadConfig({ env: {}, ...opts, cwd });
}

function rejects(opts: LoadOptions & { toml?: string }, pattern: RegExp): void {
  assert.throws(
    () => load(opts),
    (e: unknown) => e instanceof ConfigError && pattern.test(e.message),
  );
}

describe("defaults", () => {
  test("no file, no environment: the documented defaults", () => {
    const cwd = dir();
    const { config, warnings, file } = load({ cwd });
    assert.equal(file, null);
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.hosts, ["localhost"]);
    assert.equal(config.data_dir, join(cwd, "data"));
    assert.equal(config.c2s.port, 5222);
    assert.equal(config.c2s.tls_port, 5223);
    assert.equal(config.c2s.require_encryption, true);
    assert.equal(config.c2s.stanza_size_limit, 262144);
    assert.equal(config.http.port, 5280);
    assert.equal(config.http.tls_port, 5281);
    assert.equal(config.auth.scram_iterations, 4096);
    assert.equal(config.auth.max_failures_per_ip, 20);
    assert.equal(config.auth.failure_window, 300);
    assert.equal(config.component_listener.port, 5347);
    assert.equal(config.storage.sqlite_file, "hearth.db");
    assert.equal(config.limits.offline_max_per_user, 1000);
    assert.deepEqual(config.log, { level: "info", format: "pretty" });
  });

  test("defaultConfig returns a fresh object each time", () => {
    const a = defaultConfig();
    a.hosts.push("x");
    assert.deepEqual(defaultConfig().hosts, ["localhost"]);
  });
});

describe("config file", () => {
  test("./hearth.toml is read; sections merge with defaults", () => {
    const { config, file } = load({
      toml: `
hosts = ["example.org"]
admins = ["Admin@Example.org"]
disabled_modules = ["version"]
[c2s]
port = 15222
stanza_size_limit = 100000
[log]
level = "debug"
format = "json"
[contact]
abuse = ["mailto:abuse@example.org"]
[components."gateway.example.org"]
secret = "s3cret"
`,
    });
    assert.ok(file?.endsWith("hearth.toml"));
    assert.deepEqual(config.hosts, ["example.org"]);
    assert.deepEqual(config.admins, ["admin@example.org"]);
    assert.deepEqual(config.disabled_modules, ["version"]);
    assert.equal(config.c2s.port, 15222);
    assert.equal(config.c2s.tls_port, 5223, "keys not in the file keep their default");
    assert.equal(config.c2s.stanza_size_limit, 100000);
    assert.deepEqual(config.log, { level: "debug", format: "json" });
    assert.deepEqual(config.contact.abuse, ["mailto:abuse@example.org"]);
    assert.deepEqual(config.components, { "gateway.example.org": { secret: "s3cret" } });
  });

  test("--config FILE wins over ./hearth.toml; its relative paths are relative to the file", () => {
    const cwd = dir('hosts = ["local.example"]');
    const other = join(cwd, "etc");
    mkdirSync(other);
    writeFileSync(join(other, "custom.toml"), 'hosts = ["custom.example"]\ndata_dir = "state"\n');
    const { config, file } = load({ cwd, file: "etc/custom.toml" });
    assert.equal(file, join(other, "custom.toml"));
    assert.deepEqual(config.hosts, ["custom.example"]);
    assert.equal(config.data_dir, join(other, "state"));
  });

  test("HEARTH_CONFIG names the file when --config is absent", () => {
    const cwd = dir();
    writeFileSync(join(cwd, "env.toml"), 'hosts = ["env.example"]\n');
    assert.deepEqual(load({ cwd, env: { HEARTH_CONFIG: "env.toml" } }).config.hosts, ["env.example"]);
  });

  test("hearth.example.toml documents every key at its default value", () => {
    const example = join(import.meta.dirname, "../../hearth.example.toml");
    const { config } = load({ file: example });
    const expected = defaultConfig();
    expected.data_dir = join(import.meta.dirname, "../../data");
    assert.deepEqual(config, expected);
    const text = readFileSync(example, "utf8");
    for (const [section, value] of Object.entries(expected)) {
      if (typeof value === "object" && !Array.isArray(value) && section !== "components") {
        assert.ok(text.includes(`[${section}]`), `section [${section}] documented`);
        for (const key of Object.keys(value)) assert.match(text, new RegExp(`^${key} = `, "m"), `${section}.${key}`);
      } else {
        assert.ok(text.includes(section), `key ${section} documented`);
      }
    }
  });

  test("a missing explicit file is an error", () => {
    rejects({ file: "/nonexistent/hearth.toml" }, /config file not found: \/nonexistent\/hearth.toml/);
  });

  test("TOML syntax errors give file, line and column", () => {
    rejects({ toml: 'hosts = ["a"]\n[c2s]\nport = = 1\n' }, /hearth\.toml:3:\d+: invalid TOML/);
  });

  test("file: false ignores ./hearth.toml", () => {
    assert.deepEqual(load({ toml: 'hosts = ["x.example"]', file: false }).config.hosts, ["localhost"]);
  });
});

describe("unknown keys are errors, naming the key", () => {
  test("a typo in a section, with a suggestion", () => {
    rejects({ toml: "[c2s]\nprot = 5222\n" }, /unknown key "c2s\.prot"; did you mean "c2s\.port"\?/);
  });
  test("an unknown top-level key", () => {
    rejects({ toml: 'domain = "example.org"\n' }, /unknown key "domain"/);
  });
  test("an unknown section", () => {
    rejects({ toml: "[s2s]\nport = 5269\n" }, /unknown key "s2s"/);
  });
  test("an unknown key inside a component", () => {
    rejects(
      { toml: '[components."gw.localhost"]\nsecret = "x"\npassword = "y"\n' },
      /unknown key "components\."gw\.localhost"\.password"/,
    );
  });
});

describe("wrong types are errors", () => {
  test("string for an integer", () => {
    rejects({ toml: '[c2s]\nport = "5222"\n' }, /c2s\.port must be an integer from -1 to 65535.*got "5222"/);
  });
  test("out of range", () => {
    rejects({ toml: "[c2s]\nport = 70000\n" }, /c2s\.port must be an integer from -1 to 65535/);
  });
  test("non-integer number", () => {
    rejects({ toml: "[c2s]\nping_interval = 1.5\n" }, /c2s\.ping_interval must be an integer/);
  });
  test("string for a list", () => {
    rejects({ toml: 'hosts = "example.org"\n' }, /hosts must be an array of strings/);
  });
  test("string for a boolean", () => {
    rejects({ toml: '[c2s]\nrequire_encryption = "no"\n' }, /c2s\.require_encryption must be true or false/);
  });
  test("value outside an enumeration", () => {
    rejects({ toml: '[log]\nlevel = "verbose"\n' }, /log\.level must be one of "trace", .*got "verbose"/);
  });
  test("a value where a section belongs", () => {
    rejects({ toml: "c2s = 5\n" }, /c2s must be a table/);
  });
  test("stanza limit below the RFC 6120 minimum", () => {
    rejects({ toml: "[c2s]\nstanza_size_limit = 9999\n" }, /RFC 6120 §13\.12/);
  });
  test("fewer than 4096 SCRAM iterations are refused", () => {
    rejects({ toml: "[auth]\nscram_iterations = 1000\n" }, /auth\.scram_iterations .*at least 4096/);
  });
});

describe("environment", () => {
  test("XMPP_* aliases", () => {
    const { config } = load({
      env: {
        XMPP_DOMAIN: "a.example, b.example",
        XMPP_PORT: "15222",
        XMPP_TLS_PORT: "15223",
        XMPP_HTTP_PORT: "0",
        XMPP_HTTPS_PORT: "-1",
        XMPP_DATA_DIR: "/srv/hearth",
        XMPP_LOG_LEVEL: "warn",
      },
    });
    assert.deepEqual(config.hosts, ["a.example", "b.example"]);
    assert.equal(config.c2s.port, 15222);
    assert.equal(config.c2s.tls_port, 15223);
    assert.equal(config.http.port, 0);
    assert.equal(config.http.tls_port, -1);
    assert.equal(config.data_dir, "/srv/hearth");
    assert.equal(config.log.level, "warn");
  });

  test("generic HEARTH_SECTION__KEY, parsed per type", () => {
    const { config, warnings } = load({
      env: {
        HEARTH_C2S__REQUIRE_ENCRYPTION: "false",
        HEARTH_AUTH__SCRAM_ITERATIONS: "10000",
        HEARTH_HTTP__INTERFACES: "127.0.0.1,::1",
        HEARTH_ADMINS: "root@localhost",
        HEARTH_LOG__FORMAT: "json",
      },
    });
    assert.equal(config.c2s.require_encryption, false);
    assert.equal(config.auth.scram_iterations, 10000);
    assert.deepEqual(config.http.interfaces, ["127.0.0.1", "::1"]);
    assert.deepEqual(config.admins, ["root@localhost"]);
    assert.equal(config.log.format, "json");
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /require_encryption is OFF/);
  });

  test("environment beats the file; the generic form beats the alias", () => {
    const { config } = load({
      toml: "[c2s]\nport = 1000\ntls_port = 1001\n",
      env: { XMPP_PORT: "2000", HEARTH_C2S__PORT: "3000", XMPP_TLS_PORT: "2001" },
    });
    assert.equal(config.c2s.port, 3000);
    assert.equal(config.c2s.tls_port, 2001);
  });

  test("bad values name the variable", () => {
    rejects({ env: { XMPP_PORT: "abc" } }, /environment variable XMPP_PORT must be an integer/);
    rejects(
      { env: { HEARTH_C2S__REQUIRE_ENCRYPTION: "maybe" } },
      /HEARTH_C2S__REQUIRE_ENCRYPTION must be true or false/,
    );
    rejects({ env: { XMPP_PORT: "99999" } }, /environment variable XMPP_PORT: c2s\.port must be an integer from -1/);
  });

  test("an unknown HEARTH_X__Y is an error; unrelated HEARTH_ variables are ignored", () => {
    rejects({ env: { HEARTH_C2S__PROT: "1" } }, /HEARTH_C2S__PROT does not name a configuration key/);
    rejects({ env: { HEARTH_COMPONENTS__X__SECRET: "1" } }, /only be configured in the config file/);
    assert.equal(load({ env: { HEARTH_SOMETHING_ELSE: "1" } }).config.c2s.port, 5222);
  });
});

describe("command-line overrides", () => {
  test("flags beat environment and file", () => {
    const { config } = load({
      toml: 'hosts = ["file.example"]\n[c2s]\nport = 1000\n',
      env: { XMPP_DOMAIN: "env.example", XMPP_PORT: "2000" },
      overrides: { hosts: ["flag.example"], c2s: { port: 0, require_encryption: false }, data_dir: "/tmp/flag" },
    });
    assert.deepEqual(config.hosts, ["flag.example"]);
    assert.equal(config.c2s.port, 0);
    assert.equal(config.c2s.tls_port, 5223);
    assert.equal(config.c2s.require_encryption, false);
    assert.equal(config.data_dir, "/tmp/flag");
  });

  test("buildConfig: defaults plus overrides only", () => {
    const config = buildConfig({ hosts: ["t.example"], c2s: { port: 0, tls_port: 0 } }, dir('hosts = ["no"]'));
    assert.deepEqual(config.hosts, ["t.example"]);
    assert.equal(config.c2s.tls_port, 0);
  });
});

describe("hosts", () => {
  test("DNS names, bare hostnames and IP literals, normalized", () => {
    const { config } = load({
      overrides: { hosts: ["Example.ORG", "chatbox", "192.168.1.10", "::1", "[2001:DB8::1]"] },
    });
    assert.deepEqual(config.hosts, ["example.org", "chatbox", "192.168.1.10", "[::1]", "[2001:db8::1]"]);
  });

  test("several virtual hosts from the environment", () => {
    assert.deepEqual(load({ env: { XMPP_DOMAIN: "a.example,b.example,c.example" } }).config.hosts, [
      "a.example",
      "b.example",
      "c.example",
    ]);
  });

  test("invalid, duplicate and missing hosts are refused", () => {
    rejects({ overrides: { hosts: ["exa mple.org"] } }, /hosts: "exa mple\.org" is not a valid domain/);
    rejects({ overrides: { hosts: ["a.example", "A.example"] } }, /"a\.example" is listed twice/);
    rejects({ overrides: { hosts: [] } }, /at least one host/);
  });
});

describe("other validation", () => {
  test("components need a valid domain and a secret", () => {
    rejects({ toml: '[components."gw.localhost"]\n' }, /components\."gw\.localhost"\.secret must be set/);
    rejects({ toml: '[components."bad domain"]\nsecret = "x"\n' }, /components: "bad domain" is not a valid domain/);
    rejects({ toml: '[components.localhost]\nsecret = "x"\n' }, /also in hosts/);
  });

  test("admins must be bare JIDs", () => {
    rejects({ overrides: { admins: ["localhost"] } }, /admins: "localhost" must be a bare JID/);
    rejects({ overrides: { admins: ["a@localhost/res"] } }, /must be a bare JID/);
  });

  test("two listeners on one port are refused; 0 may repeat", () => {
    rejects({ overrides: { c2s: { port: 5280 } } }, /http\.port and c2s\.port are both 5280|c2s\.port and http\.port/);
    const { config } = load({ overrides: { c2s: { port: 0, tls_port: 0 }, http: { port: 0, tls_port: 0 } } });
    assert.equal(config.c2s.port, 0);
  });

  test("tls.cert and tls.key go together; relative paths resolve against the cwd for flags", () => {
    rejects({ overrides: { tls: { cert: "/x.pem" } } }, /tls\.cert and tls\.key must be set together/);
    const cwd = dir();
    const { config } = load({ cwd, overrides: { tls: { cert: "c.pem", key: "k.pem" } } });
    assert.equal(config.tls.cert, join(cwd, "c.pem"));
    assert.equal(config.tls.key, join(cwd, "k.pem"));
  });

  test("contact addresses must be URIs", () => {
    rejects(
      { toml: '[contact]\nadmin = ["admin@example.org"]\n' },
      /contact\.admin: "admin@example\.org" must be a URI/,
    );
  });
});
