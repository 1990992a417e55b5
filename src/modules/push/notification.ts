import { type XmlElement, xml } from "../../xml/element.ts";
import { dataForm, type FieldSpec, FORM_TYPE } from "../../xmpp/data-forms.ts";
import { NS } from "../../xmpp/ns.ts";
import type { PushRegistration } from "./registrations.ts";

export const NS_PUSH = "urn:xmpp:push:0";
const NS_PUBSUB = "http://jabber.org/protocol/pubsub";
export const PUBLISH_OPTIONS = "http://jabber.org/protocol/pubsub#publish-options";

/** What the XEP-0357 §7 summary says about the messages waiting for the user. */
export interface PushSummary {
  messageCount: number;
  /** Omitted when the server is configured not to reveal it. */
  lastSender?: string;
  lastBody?: string;
}

/** A summary field, left out when the server does not reveal its value. */
function field(name: string, value: string | undefined): FieldSpec[] {
  return value === undefined ? [] : [{ var: name, values: [value] }];
}

/**
 * The pubsub publish a user's server sends to an app server (XEP-0357 §7), from the user's bare JID, with the
 * `urn:xmpp:push:summary` form and the publish-options the device registered with.
 */
export function notificationIq(from: string, reg: PushRegistration, summary: PushSummary, id: string): XmlElement {
  const form = dataForm("form", {
    fields: [
      // COMPAT: FORM_TYPE as XEP-0357 §7 shows it, without type='hidden'; app servers are written against the example.
      ...field(FORM_TYPE, "urn:xmpp:push:summary"),
      ...field("message-count", String(summary.messageCount)),
      ...field("last-message-sender", summary.lastSender),
      ...field("last-message-body", summary.lastBody),
    ],
  });
  return xml(
    "iq",
    { type: "set", id, from, to: reg.jid },
    xml(
      "pubsub",
      { xmlns: NS_PUBSUB },
      xml("publish", { node: reg.node }, xml("item", null, xml("notification", { xmlns: NS_PUSH }, form))),
      reg.options ? xml("publish-options", null, reg.options.clone()) : undefined,
    ),
  );
}

/**
 * Whether an error an app server answered with means the registration is dead (the app server will never accept
 * notifications for it, e.g. `item-not-found` for a node it removed) rather than a passing failure; XEP-0357 leaves
 * the policy to the server. `wait` errors and failures to reach the app server (component not connected, timeouts)
 * are passing; other `cancel`, `auth` and `modify` errors are permanent.
 */
export function isPermanentError(iqError: XmlElement): boolean {
  const error = iqError.getChild("error");
  if (!error) return false;
  if (error.attrs.type === "wait") return false;
  const condition = error.elements().find((c) => c.attrs.xmlns === NS.stanzaErrors && c.name !== "text")?.name;
  const passing = [
    "remote-server-not-found",
    "remote-server-timeout",
    "service-unavailable",
    "internal-server-error",
    "resource-constraint",
    "recipient-unavailable",
  ];
  return condition !== undefined && !passing.includes(condition);
}
