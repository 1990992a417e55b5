import { readFile } from "node:fs/promises";
import type { HearthConfig } from "../config/types.ts";
import {
  type CertificateInfo,
  checkPair,
  describeCertificate,
  installedPaths,
  missingNames,
  RENEW_BEFORE_MS,
  reuseProblem,
  selfSignedPaths,
} from "./certs.ts";

/** What `hearth check` and `hearth cert show` report, found without generating or changing anything. */
export interface CertificateStatus {
  /** `configured`: tls.cert/tls.key; `installed`: via `hearth cert use`; `self-signed`: generated; `none` yet. */
  source: "configured" | "installed" | "self-signed" | "none";
  certPath: string | null;
  keyPath: string | null;
  info: CertificateInfo | null;
  /** A problem that will stop the server from starting (unreadable file, key not matching). */
  error: string | null;
  /** Problems clients will notice: names not covered, expired or expiring. */
  warnings: string[];
  /** What `hearth start` will do with it. */
  onStart: "use" | "generate" | "regenerate";
}

async function read(path: string): Promise<string | null> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return null;
  }
}

/** Inspects the certificate `loadCertificate` would pick, read-only. */
export async function inspectCertificate(config: HearthConfig): Promise<CertificateStatus> {
  const installed = installedPaths(config.data_dir);
  const installedCert = await read(installed.cert);
  const installedKey = await read(installed.key);
  if (config.tls.cert !== "" || installedCert !== null || installedKey !== null) {
    const source = config.tls.cert !== "" ? "configured" : "installed";
    const paths = source === "configured" ? { cert: config.tls.cert, key: config.tls.key } : installed;
    const status: CertificateStatus = {
      source,
      certPath: paths.cert,
      keyPath: paths.key,
      info: null,
      error: null,
      warnings: [],
      onStart: "use",
    };
    const cert = source === "configured" ? await read(paths.cert) : installedCert;
    const key = source === "configured" ? await read(paths.key) : installedKey;
    if (cert === null) status.error = `cannot read the certificate ${paths.cert}`;
    else if (key === null) status.error = `cannot read the private key ${paths.key}`;
    else {
      try {
        checkPair(cert, key, paths.cert, paths.key);
        status.info = describeCertificate(cert);
        const missing = missingNames(cert, config);
        if (missing.length > 0) status.warnings.push(`does not cover ${missing.join(", ")}`);
        const left = status.info.notAfter.getTime() - Date.now();
        if (left < 0) status.warnings.push("has EXPIRED");
        else if (left < RENEW_BEFORE_MS) status.warnings.push(`expires in ${Math.ceil(left / 86400000)} days`);
      } catch (e) {
        status.error = (e as Error).message;
      }
    }
    return status;
  }

  const paths = selfSignedPaths(config.data_dir);
  const cert = await read(paths.cert);
  if (cert === null) {
    return {
      source: "none",
      certPath: null,
      keyPath: null,
      info: null,
      error: null,
      warnings: [],
      onStart: "generate",
    };
  }
  const key = (await read(paths.key)) ?? "";
  let info: CertificateInfo | null = null;
  try {
    info = describeCertificate(cert);
  } catch {
    // unreadable: reuseProblem below says so, and start will replace it
  }
  const problem = reuseProblem(cert, key, config, paths);
  return {
    source: "self-signed",
    certPath: paths.cert,
    keyPath: paths.key,
    info,
    error: null,
    warnings: problem ? [`will be replaced on start: ${problem}`] : [],
    onStart: problem ? "regenerate" : "use",
  };
}
