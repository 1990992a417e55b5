import { existsSync } from "node:fs";
import { join } from "node:path";
import { run } from "./process.ts";

/** Key type for the self-signed certificate every server under test gets. */
export type CertType = "rsa" | "ec";

/**
 * Creates (once per directory) a self-signed certificate for `domain` and its subdomains with openssl. The same
 * certificate is given to every server in a run, so TLS costs the same for all of them.
 */
export function selfSignedCert(dir: string, domain: string, type: CertType): { certFile: string; keyFile: string } {
  const certFile = join(dir, `${domain}.crt`);
  const keyFile = join(dir, `${domain}.key`);
  if (existsSync(certFile) && existsSync(keyFile)) return { certFile, keyFile };
  const keyArgs =
    type === "ec" ? ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"] : ["-newkey", "rsa:2048"];
  run("openssl", [
    "req",
    "-x509",
    ...keyArgs,
    "-nodes",
    "-days",
    "365",
    "-subj",
    `/CN=${domain}`,
    "-addext",
    `subjectAltName=DNS:${domain},DNS:*.${domain},DNS:conference.${domain},DNS:upload.${domain}`,
    "-keyout",
    keyFile,
    "-out",
    certFile,
  ]);
  return { certFile, keyFile };
}
