import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { generate } from "selfsigned";
import { buildConfig } from "../../src/config/load.ts";
import type { HearthConfig } from "../../src/config/types.ts";
import {
  CertError,
  installedPaths,
  loadCertificate,
  requiredNames,
  selfSignedPaths,
  writePair,
} from "../../src/tls/certs.ts";
import { inspectCertificate } from "../../src/tls/status.ts";

const root = mkdtempSync(join(tmpdir(), "hearth-certs-"));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

function config(hosts: string[], extra: Partial<HearthConfig> = {}): HearthConfig {
  const dataDir = join(root, `d${n++}`);
  return { ...buildConfig({ hosts, data_dir: dataDir }, root), ...extra };
}

/** A certificate/key pair written to files, for the "configured" cases. */
async function pairOnDisk(cn: string, days = 90): Promise<{ cert: string; key: string; certPem: string }> {
  const pems = await generate([{ name: "commonName", value: cn }], {
    keyType: "ec",
    algorithm: "sha256",
    notAfterDate: new Date(Date.now() + days * 86400000),
    extensions: [{ name: "subjectAltName", altNames: [{ type: 2, value: cn }] }],
  });
  const dir = join(root, `p${n++}`);
  mkdirSync(dir);
  writeFileSync(join(dir, "cert.pem"), pems.cert);
  writeFileSync(join(dir, "key.pem"), pems.private);
  return { cert: join(dir, "cert.pem"), key: join(dir, "key.pem"), certPem: pems.cert };
}

describe("self-signed generation", () => {
  test("covers DNS names with service subdomains, bare hostnames, IPv4 and IPv6 literals", async () => {
    const cfg = config(["example.org", "chatbox", "192.0.2.5", "2001:db8::1"]);
    const cert = await loadCertificate(cfg);
    assert.equal(cert.source, "generated");
    const x509 = new X509Certificate(cert.cert);
    for (const name of ["example.org", "conference.example.org", "upload.example.org", "chatbox"]) {
      assert.equal(x509.checkHost(name, { subject: "never" }), name, `DNS SAN ${name}`);
    }
    assert.equal(x509.checkIP("192.0.2.5"), "192.0.2.5");
    assert.ok(x509.checkIP("2001:db8::1"), "IPv6 SAN");
    assert.equal(x509.checkHost("other.example", { subject: "never" }), undefined);
    // IP literals are IP SANs, not DNS names.
    assert.doesNotMatch(x509.subjectAltName ?? "", /DNS:[^,]*(192\.0\.2\.5|2001)/);
    assert.ok(cert.names.includes("2001:db8::1"), `names: ${cert.names.join(", ")}`);
    assert.ok(cert.names.includes("conference.chatbox"));
    assert.equal(cert.fingerprint, x509.fingerprint256);
    assert.match(cert.fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  test("writes the key readable by the owner only, and a validity of at most two years", async () => {
    const cfg = config(["localhost"]);
    const cert = await loadCertificate(cfg);
    const paths = selfSignedPaths(cfg.data_dir);
    assert.equal(cert.keyPath, paths.key);
    assert.equal(statSync(paths.key).mode & 0o777, 0o600);
    const x509 = new X509Certificate(cert.cert);
    assert.ok(x509.checkPrivateKey((await import("node:crypto")).createPrivateKey(cert.key)));
    const lifetime = new Date(x509.validTo).getTime() - new Date(x509.validFrom).getTime();
    assert.ok(lifetime <= 731 * 86400000 && lifetime >= 365 * 86400000, `lifetime ${lifetime / 86400000} days`);
  });

  test("is reused on the next call (same fingerprint)", async () => {
    const cfg = config(["localhost"]);
    const first = await loadCertificate(cfg);
    const second = await loadCertificate(cfg);
    assert.equal(second.source, "reused");
    assert.equal(second.fingerprint, first.fingerprint);
    assert.equal((await inspectCertificate(cfg)).onStart, "use");
  });

  test("is regenerated when a host is added, and then covers it", async () => {
    const cfg = config(["localhost"]);
    const first = await loadCertificate(cfg);
    const grown = { ...cfg, hosts: ["localhost", "10.1.2.3"] };
    const status = await inspectCertificate(grown);
    assert.equal(status.onStart, "regenerate");
    assert.match(status.warnings[0]!, /does not cover 10\.1\.2\.3/);
    const second = await loadCertificate(grown);
    assert.equal(second.source, "generated");
    assert.notEqual(second.fingerprint, first.fingerprint);
    assert.ok(new X509Certificate(second.cert).checkIP("10.1.2.3"));
    // Removing a host does not force a new certificate: it still covers what is left.
    assert.equal((await loadCertificate(cfg)).source, "reused");
  });

  test("is regenerated when it expires within 30 days", async () => {
    const cfg = config(["localhost"]);
    const soon = await generate([{ name: "commonName", value: "localhost" }], {
      keyType: "ec",
      algorithm: "sha256",
      notAfterDate: new Date(Date.now() + 10 * 86400000),
      extensions: [
        { name: "subjectAltName", altNames: requiredNames(cfg).dns.map((value) => ({ type: 2 as const, value })) },
      ],
    });
    await writePair(selfSignedPaths(cfg.data_dir), soon.cert, soon.private);
    const cert = await loadCertificate(cfg);
    assert.equal(cert.source, "generated");
    assert.ok(cert.notAfter.getTime() > Date.now() + 365 * 86400000);
  });
});

describe("provided certificates", () => {
  test("tls.cert and tls.key are loaded and checked", async () => {
    const pair = await pairOnDisk("example.org");
    const cfg = config(["example.org"], { tls: { cert: pair.cert, key: pair.key } });
    const cert = await loadCertificate(cfg);
    assert.equal(cert.source, "configured");
    assert.equal(cert.fingerprint, new X509Certificate(pair.certPem).fingerprint256);
    assert.deepEqual(cert.names, ["example.org"]);
    assert.equal(cert.certPath, pair.cert);
  });

  test("a key that does not belong to the certificate is refused", async () => {
    const a = await pairOnDisk("a.example");
    const b = await pairOnDisk("a.example");
    const cfg = config(["a.example"], { tls: { cert: a.cert, key: b.key } });
    await assert.rejects(
      loadCertificate(cfg),
      (e: unknown) => e instanceof CertError && /does not belong/.test(e.message),
    );
    const status = await inspectCertificate(cfg);
    assert.match(status.error ?? "", /does not belong/);
  });

  test("files that are not PEM are refused with the file name", async () => {
    const a = await pairOnDisk("a.example");
    const cfg = config(["a.example"], { tls: { cert: a.key, key: a.key } });
    await assert.rejects(loadCertificate(cfg), /is not a PEM certificate/);
    const missing = config(["a.example"], { tls: { cert: "/nonexistent.pem", key: a.key } });
    await assert.rejects(loadCertificate(missing), /cannot read certificate \/nonexistent\.pem/);
  });

  test("a pair installed in the data dir (hearth cert use) wins over the self-signed one", async () => {
    const cfg = config(["b.example"]);
    const generated = await loadCertificate(cfg);
    const pair = await pairOnDisk("b.example");
    const { readFileSync } = await import("node:fs");
    await writePair(installedPaths(cfg.data_dir), pair.certPem, readFileSync(pair.key, "utf8"));
    const cert = await loadCertificate(cfg);
    assert.equal(cert.source, "configured");
    assert.notEqual(cert.fingerprint, generated.fingerprint);
    assert.equal((await inspectCertificate(cfg)).source, "installed");
    assert.equal(statSync(installedPaths(cfg.data_dir).key).mode & 0o777, 0o600);
  });

  test("a certificate that misses a host still loads (with a warning in the status)", async () => {
    const pair = await pairOnDisk("c.example");
    const cfg = config(["c.example", "d.example"], { tls: { cert: pair.cert, key: pair.key } });
    assert.equal((await loadCertificate(cfg)).source, "configured");
    const status = await inspectCertificate(cfg);
    assert.match(status.warnings.join(" "), /does not cover .*d\.example/);
  });
});
