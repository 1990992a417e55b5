import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { isIP } from "node:net";
import { join } from "node:path";
import type { HearthConfig } from "../config/types.ts";
import type { Logger } from "../log.ts";

/** A certificate problem the operator must fix (unreadable file, key not matching the certificate). */
export class CertError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CertError";
  }
}

/** The certificate the server will present, with what the banner and `hearth cert show` print. */
export interface LoadedCertificate {
  /** PEM, possibly a chain (leaf first). */
  cert: string;
  key: string;
  /** SHA-256 of the leaf certificate, colon-separated uppercase hex. */
  fingerprint: string;
  /** `configured`: tls.cert/tls.key or one installed with `hearth cert use`; otherwise the self-signed one. */
  source: "configured" | "generated" | "reused";
  /** Names the certificate is valid for (subjectAltName, or the CN when there is none). */
  names: string[];
  notAfter: Date;
  certPath: string;
  keyPath: string;
}

/** What a certificate says about itself, for display. */
export interface CertificateInfo {
  fingerprint: string;
  names: string[];
  subject: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  selfSigned: boolean;
}

/** A self-signed certificate is replaced this long before it expires. */
export const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;
/** Validity of generated certificates: long enough not to nag, short enough to follow current guidance. */
export const SELF_SIGNED_DAYS = 730;

/** Where the generated self-signed pair lives. */
export function selfSignedPaths(dataDir: string): { cert: string; key: string } {
  return { cert: join(dataDir, "tls", "selfsigned.crt"), key: join(dataDir, "tls", "selfsigned.key") };
}

/** Where `hearth cert use` installs a given pair; used when tls.cert/tls.key are not set. */
export function installedPaths(dataDir: string): { cert: string; key: string } {
  return { cert: join(dataDir, "tls", "server.crt"), key: join(dataDir, "tls", "server.key") };
}

/** A host as it appears in a certificate: IPv6 literals lose the brackets a JID needs. */
function bare(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

/** Canonical text of an IP address (`0:0:0:0:0:0:0:1` → `::1`), so names compare equal. */
function canonicalIp(ip: string): string {
  return isIP(ip) === 6 ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip;
}

/**
 * Every name the server's certificate must cover: each host (IP literals as IP names), plus the service
 * subdomains `conference.<host>` and `upload.<host>` of every non-IP host (clients reach upload over HTTPS).
 * XEP-0114 component domains are left out: clients never open TLS to them, and adding a component should not
 * change the fingerprint users have accepted.
 */
export function requiredNames(config: HearthConfig): { dns: string[]; ips: string[] } {
  const dns = new Set<string>();
  const ips = new Set<string>();
  for (const host of config.hosts) {
    const name = bare(host);
    if (isIP(name)) {
      ips.add(canonicalIp(name));
    } else {
      dns.add(name);
      dns.add(`conference.${name}`);
      dns.add(`upload.${name}`);
    }
  }
  return { dns: [...dns], ips: [...ips] };
}

function namesOf(x509: X509Certificate): string[] {
  if (!x509.subjectAltName) {
    const cn = /(?:^|\n)CN=([^\n]+)/.exec(x509.subject);
    return cn ? [cn[1]!] : [];
  }
  return x509.subjectAltName.split(", ").flatMap((entry) => {
    if (entry.startsWith("DNS:")) return [entry.slice(4)];
    if (entry.startsWith("IP Address:")) return [canonicalIp(entry.slice(11).toLowerCase())];
    return [];
  });
}

/** Reads the facts of a PEM certificate (the first one of a chain). */
export function describeCertificate(pem: string): CertificateInfo {
  const x509 = new X509Certificate(pem);
  return {
    fingerprint: x509.fingerprint256,
    names: namesOf(x509),
    subject: x509.subject.replace(/\n/g, ", "),
    issuer: x509.issuer.replace(/\n/g, ", "),
    notBefore: new Date(x509.validFrom),
    notAfter: new Date(x509.validTo),
    selfSigned: x509.subject === x509.issuer && x509.verify(x509.publicKey),
  };
}

/** The required names a certificate does not cover (wildcards count, as TLS clients accept them). */
export function missingNames(pem: string, config: HearthConfig): string[] {
  const x509 = new X509Certificate(pem);
  const { dns, ips } = requiredNames(config);
  return [
    ...dns.filter((name) => x509.checkHost(name, { subject: "never" }) === undefined),
    ...ips.filter((ip) => x509.checkIP(ip) === undefined),
  ];
}

async function readPem(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    throw new CertError(`cannot read ${what} ${path}: ${(e as Error).message}`);
  }
}

/**
 * Parses a certificate and a private key and checks that they belong together. Throws CertError with a
 * message naming the files otherwise.
 */
export function checkPair(certPem: string, keyPem: string, certPath: string, keyPath: string): X509Certificate {
  let x509: X509Certificate;
  let key: KeyObject;
  try {
    x509 = new X509Certificate(certPem);
  } catch {
    throw new CertError(`${certPath} is not a PEM certificate`);
  }
  try {
    key = createPrivateKey(keyPem);
  } catch (e) {
    const encrypted = /ENCRYPTED/.test(keyPem) ? " (encrypted keys are not supported; decrypt it first)" : "";
    throw new CertError(`${keyPath} is not a usable PEM private key${encrypted}: ${(e as Error).message}`);
  }
  if (!x509.checkPrivateKey(key)) {
    throw new CertError(`the private key ${keyPath} does not belong to the certificate ${certPath}`);
  }
  return x509;
}

async function exists(path: string): Promise<boolean> {
  try {
    await readFile(path);
    return true;
  } catch {
    return false;
  }
}

/** Writes a file via a temporary name so a crash never leaves half a key behind. */
async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data, { mode });
  await chmod(tmp, mode); // the umask may have masked bits off; make the mode exact
  await rename(tmp, path);
}

/** Writes a certificate and key pair into the data dir's `tls` folder (key readable by the owner only). */
export async function writePair(paths: { cert: string; key: string }, cert: string, key: string): Promise<void> {
  await mkdir(join(paths.cert, ".."), { recursive: true, mode: 0o700 });
  await writeAtomic(paths.key, key, 0o600);
  await writeAtomic(paths.cert, cert, 0o644);
}

/**
 * Generates a new self-signed certificate for every required name and stores it in the data dir,
 * replacing any previous one. EC P-256 keys: fast to generate, accepted by every current TLS stack.
 */
export async function generateSelfSigned(config: HearthConfig, log?: Logger): Promise<LoadedCertificate> {
  const { dns, ips } = requiredNames(config);
  const notBefore = new Date(Date.now() - 24 * 3600 * 1000); // tolerate clients whose clock runs behind
  const notAfter = new Date(notBefore.getTime() + SELF_SIGNED_DAYS * 24 * 3600 * 1000);
  // Loaded on demand: the X.509 toolkit costs ~10 MB of memory and is only needed on first start.
  const { generate } = await import("selfsigned");
  const pems = await generate([{ name: "commonName", value: bare(config.hosts[0]!) }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate: notBefore,
    notAfterDate: notAfter,
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          ...dns.map((value) => ({ type: 2 as const, value })),
          ...ips.map((ip) => ({ type: 7 as const, ip })),
        ],
      },
    ],
  });
  const paths = selfSignedPaths(config.data_dir);
  await writePair(paths, pems.cert, pems.private);
  const info = describeCertificate(pems.cert);
  log?.info(
    { fingerprint: info.fingerprint, names: info.names, path: paths.cert },
    "generated a self-signed certificate",
  );
  return {
    cert: pems.cert,
    key: pems.private,
    fingerprint: info.fingerprint,
    source: "generated",
    names: info.names,
    notAfter: info.notAfter,
    certPath: paths.cert,
    keyPath: paths.key,
  };
}

/** Loads a pair the operator provided, warning (not failing) about expiry and names it does not cover. */
async function loadGiven(config: HearthConfig, paths: { cert: string; key: string }, log?: Logger) {
  const cert = await readPem(paths.cert, "certificate");
  const key = await readPem(paths.key, "private key");
  checkPair(cert, key, paths.cert, paths.key);
  const info = describeCertificate(cert);
  const missing = missingNames(cert, config);
  if (missing.length > 0) {
    log?.warn({ missing, path: paths.cert }, "the certificate does not cover every served name; clients may reject it");
  }
  if (info.notAfter.getTime() < Date.now()) {
    log?.error({ notAfter: info.notAfter.toISOString(), path: paths.cert }, "the certificate has EXPIRED");
  } else if (info.notAfter.getTime() - Date.now() < RENEW_BEFORE_MS) {
    log?.warn({ notAfter: info.notAfter.toISOString(), path: paths.cert }, "the certificate expires soon");
  }
  return { cert, key, info };
}

/** Why an existing self-signed pair cannot be reused, or null if it can. */
export function reuseProblem(cert: string, key: string, config: HearthConfig, paths: { cert: string; key: string }) {
  try {
    checkPair(cert, key, paths.cert, paths.key);
  } catch (e) {
    return (e as Error).message;
  }
  const missing = missingNames(cert, config);
  if (missing.length > 0) return `it does not cover ${missing.join(", ")}`;
  const notAfter = describeCertificate(cert).notAfter;
  if (notAfter.getTime() - Date.now() < RENEW_BEFORE_MS) return `it expires on ${notAfter.toISOString()}`;
  return null;
}

/**
 * Finds the certificate to serve: `tls.cert`/`tls.key` if configured; else one installed with `hearth cert
 * use`; else the self-signed one in the data dir if it still covers every host and is not about to expire;
 * else a freshly generated self-signed one.
 */
export async function loadCertificate(config: HearthConfig, log?: Logger): Promise<LoadedCertificate> {
  const installed = installedPaths(config.data_dir);
  let given: { cert: string; key: string } | null = null;
  if (config.tls.cert !== "") given = { cert: config.tls.cert, key: config.tls.key };
  else if ((await exists(installed.cert)) || (await exists(installed.key))) given = installed;
  if (given) {
    const { cert, key, info } = await loadGiven(config, given, log);
    return {
      cert,
      key,
      fingerprint: info.fingerprint,
      source: "configured",
      names: info.names,
      notAfter: info.notAfter,
      certPath: given.cert,
      keyPath: given.key,
    };
  }

  const paths = selfSignedPaths(config.data_dir);
  if (await exists(paths.cert)) {
    const cert = await readFile(paths.cert, "utf8");
    const key = await readFile(paths.key, "utf8").catch(() => "");
    const problem = reuseProblem(cert, key, config, paths);
    if (problem === null) {
      const info = describeCertificate(cert);
      return {
        cert,
        key,
        fingerprint: info.fingerprint,
        source: "reused",
        names: info.names,
        notAfter: info.notAfter,
        certPath: paths.cert,
        keyPath: paths.key,
      };
    }
    log?.warn({ reason: problem, path: paths.cert }, "replacing the self-signed certificate; its fingerprint changes");
  }
  return generateSelfSigned(config, log);
}
