/** Namespaces of publish-subscribe (XEP-0060) and the personal data built on it. */
export const PUBSUB = {
  main: "http://jabber.org/protocol/pubsub",
  owner: "http://jabber.org/protocol/pubsub#owner",
  event: "http://jabber.org/protocol/pubsub#event",
  errors: "http://jabber.org/protocol/pubsub#errors",
  nodeConfig: "http://jabber.org/protocol/pubsub#node_config",
  publishOptions: "http://jabber.org/protocol/pubsub#publish-options",
  metaData: "http://jabber.org/protocol/pubsub#meta-data",
} as const;

/** The `http://jabber.org/protocol/pubsub#<name>` feature of XEP-0060 §10. */
export function pubsubFeature(name: string): string {
  return `${PUBSUB.main}#${name}`;
}
