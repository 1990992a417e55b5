import type { XmlElement } from "../../xml/element.ts";
import { escapeAttr } from "../../xml/escape.ts";
import { NS } from "../../xmpp/ns.ts";

/** XEP-0124 §4: the `<body/>` wrapper's namespace. */
export const NS_HTTPBIND = "http://jabber.org/protocol/httpbind";
/** XEP-0206 §8: attributes XMPP adds to the wrapper (`xmpp:version`, `xmpp:restart`). */
export const NS_XBOSH = "urn:xmpp:xbosh";
/** The protocol version we implement (XEP-0124 §7.1 `ver`). */
export const BOSH_VERSION = "1.11";

/** XEP-0124 §17.2 terminal binding conditions we send. */
export type BoshCondition =
  | "bad-request"
  | "host-unknown"
  | "improper-addressing"
  | "internal-server-error"
  | "item-not-found"
  | "policy-violation"
  | "remote-stream-error"
  | "system-shutdown";

/** Thrown while handling a request: the session (if any) ends and the client gets this condition. */
export class BoshError extends Error {
  constructor(
    readonly condition: BoshCondition,
    message: string,
  ) {
    super(message);
    this.name = "BoshError";
  }
}

/** Serializes a response `<body/>` with the given attributes around already serialized payloads. */
export function bodyXml(attrs: Record<string, string>, payloads: string[] = []): string {
  let s = `<body xmlns='${NS_HTTPBIND}'`;
  for (const [k, v] of Object.entries(attrs)) s += ` ${k}='${escapeAttr(v)}'`;
  if (payloads.length === 0) return `${s}/>`;
  // Payloads may be stream features or errors: declare the prefix once on the wrapper (XEP-0206 §6).
  return `${s} xmlns:stream='${NS.stream}'>${payloads.join("")}</body>`;
}

/** A terminating `<body type='terminate'/>`, with a condition when it ends in error (XEP-0124 §17.2). */
export function terminateXml(condition?: BoshCondition, payloads: string[] = []): string {
  return bodyXml(condition ? { type: "terminate", condition } : { type: "terminate" }, payloads);
}

/**
 * Reads an attribute in the xbosh namespace (`xmpp:restart`, `xmpp:version`) whatever prefix the client bound
 * to it.
 */
export function xboshAttr(body: XmlElement, local: string): string | undefined {
  for (const [name, value] of Object.entries(body.attrs)) {
    if (name.startsWith("xmlns:") && value === NS_XBOSH) return body.attrs[`${name.slice(6)}:${local}`];
  }
  return undefined;
}

/** Parses a non-negative integer attribute; undefined if absent, NaN if malformed. */
export function intAttr(body: XmlElement, name: string): number | undefined {
  const v = body.attrs[name];
  if (v === undefined) return undefined;
  return /^\d{1,16}$/.test(v) ? Number(v) : Number.NaN;
}
