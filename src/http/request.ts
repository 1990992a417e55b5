import type { IncomingMessage } from "node:http";
import { BlockList, isIP } from "node:net";
import { TLSSocket } from "node:tls";
import { normalizeAddress } from "../c2s/tcp-transport.ts";
import type { HttpRequestInfo } from "./routes.ts";

/** Builds a BlockList (used here as an allow list) from addresses and CIDR networks, as validated by the config. */
export function addressList(entries: string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = "", bits] = entry.split("/");
    const type = isIP(address) === 6 ? "ipv6" : "ipv4";
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(bits), type);
  }
  return list;
}

/** True if the address is in the list (IPv4 and IPv6 forms both checked). */
export function inList(list: BlockList, address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return list.check(address, family === 6 ? "ipv6" : "ipv4");
}

export function isLoopback(address: string): boolean {
  return address === "::1" || (isIP(address) === 4 && address.startsWith("127."));
}

/** What a Host header may contain: a DNS name, IPv4 or bracketed IPv6, and a port. Anything else is refused. */
const AUTHORITY = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

export interface RequestInfoOptions {
  trustedProxies: BlockList;
  /** `http.external_url`, without trailing slash, or "". */
  externalUrl: string;
}

/**
 * Works out who the client is and whether its channel is confidential.
 *
 * - HTTPS straight to us: secure.
 * - Through a trusted proxy (`http.trusted_proxies`) that sends X-Forwarded-*: secure only if
 *   X-Forwarded-Proto says https; the client address is the last untrusted X-Forwarded-For hop.
 * - Plain HTTP from a loopback address with no proxy headers at all: secure, since the bytes never leave the
 *   machine (a browser on the server itself). A local proxy that forwards without proxy headers would defeat
 *   this, which is why docs/web.md's proxy example sets X-Forwarded-Proto.
 * - Anything else: not secure.
 *
 * Returns null when the Host header is malformed (the caller answers 400).
 */
export function requestInfo(req: IncomingMessage, opts: RequestInfoOptions): HttpRequestInfo | null {
  const socket = req.socket;
  const encrypted = socket instanceof TLSSocket && socket.encrypted === true;
  const peer = normalizeAddress(socket.remoteAddress);
  const h = req.headers;
  const proxied =
    h["x-forwarded-for"] !== undefined || h["x-forwarded-proto"] !== undefined || h.forwarded !== undefined;
  const trusted = proxied && inList(opts.trustedProxies, peer);

  let client = peer;
  let scheme: "http" | "https" = encrypted ? "https" : "http";
  let authority = h.host ?? "";
  let secure = encrypted || (!proxied && isLoopback(peer));
  if (trusted) {
    const hops = headerList(h["x-forwarded-for"]);
    // Walk back from the nearest hop: the first address that is not one of our proxies is the client.
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = normalizeAddress(hops[i]);
      if (isIP(hop) === 0) break;
      client = hop;
      if (!inList(opts.trustedProxies, hop)) break;
    }
    const proto = headerList(h["x-forwarded-proto"])[0]?.toLowerCase();
    if (proto === "https" || proto === "http") scheme = proto;
    // A proxy that reached us over TLS but says its client spoke plain HTTP does not make the channel secure.
    secure = encrypted ? scheme === "https" : proto === "https";
    const fwdHost = headerList(h["x-forwarded-host"])[0];
    if (fwdHost) authority = fwdHost;
  }
  if (authority === "") authority = `${formatHost(normalizeAddress(socket.localAddress))}:${socket.localPort ?? 0}`;
  if (!AUTHORITY.test(authority)) return null;

  const baseUrl = opts.externalUrl || `${scheme}://${authority}`;
  // Origin-form only (RFC 9112 §3.2.1); a fixed origin so that `//host/x` stays a path.
  const target = req.url ?? "";
  if (!target.startsWith("/")) return null;
  let url: URL;
  try {
    url = new URL(`http://base.invalid${target}`);
  } catch {
    return null;
  }
  return { url, clientAddress: client, peerAddress: peer, proxied, secure, scheme, authority, baseUrl };
}

function headerList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const joined = Array.isArray(value) ? value.join(",") : value;
  return joined
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

function formatHost(address: string): string {
  return address.includes(":") ? `[${address}]` : address;
}
