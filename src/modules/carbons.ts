import { StanzaError } from "../core/errors.ts";
import type { StanzaEvent } from "../core/host.ts";
import type { ModuleDefinition } from "../core/module.ts";
import { type C2sSession, isC2s } from "../core/session.ts";
import type { Jid } from "../jid/jid.ts";
import { type XmlElement, xml } from "../xml/element.ts";
import { NS } from "../xmpp/ns.ts";
import { bareRecipients, type MessageType } from "./message.ts";

const NS_CARBONS = "urn:xmpp:carbons:2";
const NS_FORWARD = "urn:xmpp:forward:0";
const NS_HINTS = "urn:xmpp:hints";
const NS_MUC_USER = "http://jabber.org/protocol/muc#user";
/** Payloads that make a message without a body worth copying (XEP-0280 §6): receipts, chat states, markers. */
const IM_PAYLOADS = new Set(["urn:xmpp:receipts", "http://jabber.org/protocol/chatstates", "urn:xmpp:chat-markers:0"]);

/** The `carbons` service, for stream management (not to redeliver what devices already got) and others. */
export interface CarbonsService {
  /** The session enabled carbons (XEP-0280 §4). */
  enabled(session: C2sSession): boolean;
  /** The message is copied to carbons-enabled devices (XEP-0280 §6, `<private/>` and `<no-copy/>` hints). */
  eligible(message: XmlElement): boolean;
}

declare module "../core/module.ts" {
  interface HostServices {
    carbons: CarbonsService;
  }
}

function messageType(type: string | undefined): MessageType {
  return type === "chat" || type === "error" || type === "groupchat" || type === "headline" ? type : "normal";
}

/**
 * XEP-0280 §6 eligibility. Copied: chat messages, normal messages with a body, and messages carrying IM payloads
 * (receipts, chat states, markers). Never: errors and groupchat, MUC traffic (private messages carry a muc#user
 * element, XEP-0045 §7.5), messages marked `<private/>` (XEP-0280 §7) or `<no-copy/>` (XEP-0334), and carbons
 * themselves.
 */
export function carbonEligible(message: XmlElement): boolean {
  const type = messageType(message.attrs.type);
  if (type === "error" || type === "groupchat" || type === "headline") return false;
  let imPayload = false;
  for (const el of message.elements()) {
    const ns = el.attrs.xmlns;
    if (ns === NS_CARBONS) return false; // <private/>, or a carbon itself
    if (ns === NS_HINTS && el.name === "no-copy") return false;
    if (ns === NS_MUC_USER) return false;
    if (ns !== undefined && IM_PAYLOADS.has(ns)) imPayload = true;
  }
  if (type === "chat" || imPayload) return true;
  return message.getChild("body") !== undefined;
}

/** Wraps a message for a device: `<message from=bare to=device><sent|received><forwarded>…` (XEP-0280 §5, §6). */
function carbon(kind: "sent" | "received", message: XmlElement, account: Jid, device: C2sSession): XmlElement {
  const inner = message.clone();
  // XEP-0297: the forwarded stanza keeps its own namespace inside <forwarded/>.
  inner.attrs.xmlns = NS.client;
  return xml(
    "message",
    { from: account.bareString, to: device.jid.toString(), type: message.attrs.type },
    xml(kind, { xmlns: NS_CARBONS }, xml("forwarded", { xmlns: NS_FORWARD }, inner)),
  );
}

/**
 * XEP-0280 Message Carbons: a user's devices that enable carbons see the chats the account's other devices
 * have. Received carbons go to enabled devices that the delivery rules (RFC 6121 §8.5) do not pick; sent carbons
 * go to every other enabled device. Runs at priority 100, before delivery (see docs/architecture.md).
 */
export const carbonsModule: ModuleDefinition = {
  name: "carbons",
  specs: [
    { spec: "XEP-0280", version: "1.0.1" },
    { spec: "XEP-0334", version: "0.3.0", note: "no-copy hint" },
  ],
  load(ctx) {
    const enabled = new WeakSet<C2sSession>();
    ctx.feature(NS_CARBONS);

    // XEP-0280 §4: a client enables (or disables) carbons for itself, on its own server or account.
    const toggle = (ev: StanzaEvent): null => {
      const session = ev.origin;
      if (!isC2s(session) || ev.from.bareString !== session.jid.bareString)
        throw new StanzaError("cancel", "not-allowed");
      if (ev.to.local !== "" && ev.to.bareString !== ev.from.bareString) throw new StanzaError("cancel", "forbidden");
      const name = ev.stanza.firstElement()?.name;
      if (name === "enable") enabled.add(session);
      else if (name === "disable") enabled.delete(session);
      else throw new StanzaError("modify", "bad-request", "Expected <enable/> or <disable/>");
      return null;
    };
    ctx.iq("set", NS_CARBONS, toggle, "host");
    ctx.iq("set", NS_CARBONS, toggle, "bare");

    const copiesFor = (account: Jid, exclude: C2sSession[]): C2sSession[] =>
      ctx.sessions.resources(account).filter((s) => enabled.has(s) && !exclude.includes(s));

    // Received carbons (XEP-0280 §6).
    const inbound = (ev: StanzaEvent): undefined => {
      const { stanza, to } = ev;
      if (!carbonEligible(stanza)) return undefined;
      const type = messageType(stanza.attrs.type);
      let direct: C2sSession[];
      if (to.resource !== "") {
        const target = ctx.sessions.get(to);
        if (target) direct = [target];
        // A gone resource: chat follows the bare-JID rules, the rest bounces (RFC 6121 §8.5.3.2.1).
        else if (type === "chat") direct = bareRecipients(ctx.sessions.resources(to), type);
        else return undefined;
      } else {
        direct = bareRecipients(ctx.sessions.resources(to), type);
      }
      // A device writing to another device of its own account does not get a copy of its own message.
      const exclude = isC2s(ev.origin) ? [...direct, ev.origin] : direct;
      for (const device of copiesFor(to, exclude)) device.send(carbon("received", stanza, to, device));
      return undefined;
    };
    ctx.on("message/bare", inbound, 100);
    ctx.on("message/full", inbound, 100);

    // Sent carbons (XEP-0280 §5): what one device sends, the account's other enabled devices see.
    ctx.on(
      "pre-message",
      (ev) => {
        const { stanza, session } = ev;
        if (ev.to === null || ev.to.bareString === session.jid.bareString) return undefined; // to self: received carbons
        if (!carbonEligible(stanza)) return undefined;
        for (const device of copiesFor(session.jid.bare, [session])) {
          device.send(carbon("sent", stanza, session.jid, device));
        }
        return undefined;
      },
      100,
    );

    ctx.provide("carbons", {
      enabled: (s) => enabled.has(s),
      eligible: carbonEligible,
    });
  },
};
