import { createHash, X509Certificate } from "node:crypto";
import type { TLSSocket } from "node:tls";

/**
 * Channel binding data for SCRAM-*-PLUS.
 * - tls-exporter (RFC 9266): 32 bytes of exported keying material, label "EXPORTER-Channel-Binding",
 *   no context. Only defined for TLS 1.3 here (TLS 1.2 needs the extended master secret, which we
 *   cannot verify from Node).
 * - tls-server-end-point (RFC 5929 §4): hash of our certificate, computed once per certificate.
 */
export function tlsChannelBindingTypes(socket: TLSSocket, serverEndPoint: Buffer | null): string[] {
  const types: string[] = [];
  if (socket.getProtocol() === "TLSv1.3") types.push("tls-exporter");
  if (serverEndPoint) types.push("tls-server-end-point");
  return types;
}

export function tlsChannelBinding(socket: TLSSocket, type: string, serverEndPoint: Buffer | null): Buffer | null {
  if (type === "tls-exporter") {
    if (socket.getProtocol() !== "TLSv1.3") return null;
    return socket.exportKeyingMaterial(32, "EXPORTER-Channel-Binding", Buffer.alloc(0));
  }
  if (type === "tls-server-end-point") return serverEndPoint;
  return null;
}

/**
 * RFC 5929 §4.1: hash the DER certificate with the hash of its signature algorithm, using SHA-256 when
 * that is MD5 or SHA-1.
 */
export function serverEndPointHash(certPem: string): Buffer {
  const cert = new X509Certificate(certPem);
  const algo = signatureHash(cert);
  return createHash(algo).update(cert.raw).digest();
}

/** Hash of the certificate's signature algorithm, read from the DER (Node does not expose it). */
function signatureHash(cert: X509Certificate): string {
  const oid = signatureAlgorithmOid(cert.raw);
  return (oid && HASH_BY_SIGNATURE_OID[oid]) || "sha256";
}

// OIDs of the usual signature algorithms whose hash is not SHA-256 (RSA PKCS#1 and ECDSA).
const HASH_BY_SIGNATURE_OID: Record<string, string> = {
  "1.2.840.113549.1.1.12": "sha384",
  "1.2.840.113549.1.1.13": "sha512",
  "1.2.840.10045.4.3.3": "sha384",
  "1.2.840.10045.4.3.4": "sha512",
};

/** Certificate ::= SEQUENCE { tbsCertificate SEQUENCE, signatureAlgorithm SEQUENCE { OID, ... }, ... } */
function signatureAlgorithmOid(der: Buffer): string | null {
  const outer = readTlv(der, 0);
  if (!outer) return null;
  const tbs = readTlv(der, outer.contentStart);
  if (!tbs) return null;
  const algo = readTlv(der, tbs.end);
  if (!algo) return null;
  const oid = readTlv(der, algo.contentStart);
  if (!oid || der[oid.start] !== 0x06) return null;
  return decodeOid(der.subarray(oid.contentStart, oid.end));
}

function readTlv(buf: Buffer, start: number): { start: number; contentStart: number; end: number } | null {
  if (start + 2 > buf.length) return null;
  let len = buf[start + 1] as number;
  let p = start + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > buf.length) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[p + i] as number);
    p += n;
  }
  if (p + len > buf.length) return null;
  return { start, contentStart: p, end: p + len };
}

function decodeOid(bytes: Buffer): string {
  const first = bytes[0] ?? 0;
  const parts = [Math.floor(first / 40), first % 40];
  let v = 0;
  for (let i = 1; i < bytes.length; i++) {
    const b = bytes[i] as number;
    v = v * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join(".");
}
