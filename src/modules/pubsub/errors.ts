import { StanzaError, type StanzaErrorCondition, type StanzaErrorType } from "../../core/errors.ts";
import { errorReplyFrom } from "../../core/stanza.ts";
import { type XmlElement, xml } from "../../xml/element.ts";
import { PUBSUB } from "./ns.ts";

/**
 * A pubsub error: a stanza error plus the pubsub-specific condition of XEP-0060 §7–§8 (e.g. `<conflict/>` with
 * `<precondition-not-met/>`), which clients use to tell the cases apart.
 */
export class PubsubError extends StanzaError {
  constructor(
    type: StanzaErrorType,
    condition: StanzaErrorCondition,
    /** Name of the element in the pubsub#errors namespace, if any. */
    readonly pubsubCondition?: string,
    text?: string,
    /** For `<unsupported/>`: the feature that is not supported. */
    readonly feature?: string,
  ) {
    super(type, condition, text);
    this.name = "PubsubError";
  }
}

/** The error reply to a request, with the pubsub-specific condition when there is one. */
export function pubsubErrorReply(stanza: XmlElement, err: StanzaError): XmlElement | null {
  const reply = errorReplyFrom(stanza, err);
  if (reply && err instanceof PubsubError && err.pubsubCondition) {
    reply.getChild("error")?.append(xml(err.pubsubCondition, { xmlns: PUBSUB.errors, feature: err.feature }));
  }
  return reply;
}

/** Shorthands for the errors XEP-0060 names. */
export const pubsubErrors = {
  nodeNotFound: () => new PubsubError("cancel", "item-not-found", undefined, "No such node"),
  itemNotFound: () => new PubsubError("cancel", "item-not-found", undefined, "No such item"),
  nodeRequired: () => new PubsubError("modify", "bad-request", "nodeid-required"),
  itemRequired: () => new PubsubError("modify", "bad-request", "item-required"),
  payloadRequired: () => new PubsubError("modify", "bad-request", "payload-required"),
  invalidPayload: (text?: string) => new PubsubError("modify", "bad-request", "invalid-payload", text),
  invalidJid: () => new PubsubError("modify", "bad-request", "invalid-jid"),
  ownerOnly: () => new PubsubError("auth", "forbidden", undefined, "Only the account owner may do this"),
  preconditionNotMet: (text?: string) => new PubsubError("cancel", "conflict", "precondition-not-met", text),
  nodeExists: () => new PubsubError("cancel", "conflict", undefined, "The node already exists"),
  unsupported: (feature: string, text?: string) =>
    new PubsubError("cancel", "feature-not-implemented", "unsupported", text, feature),
  notSubscribed: () => new PubsubError("cancel", "unexpected-request", "not-subscribed"),
  /** XEP-0060 §6.5.9: why an entity may not see a node, per access model. */
  presenceRequired: () => new PubsubError("auth", "not-authorized", "presence-subscription-required"),
  notInRosterGroup: () => new PubsubError("auth", "not-authorized", "not-in-roster-group"),
  closedNode: () => new PubsubError("cancel", "not-allowed", "closed-node"),
  outcast: () => new PubsubError("auth", "forbidden", undefined, "You are banned from this node"),
  notAcceptable: (text?: string) => new PubsubError("modify", "not-acceptable", undefined, text),
  tooManyNodes: () => new PubsubError("wait", "resource-constraint", undefined, "Too many nodes"),
};
