/**
 * Node configuration (XEP-0060 §8.2, §16.4.3): the fields this service supports, their defaults for PEP
 * (XEP-0163 §4.4), validation of a submitted configuration, and the publish-options preconditions of §7.1.5.
 */
import type { PubsubConfig } from "../../storage/pubsub.ts";
import type { XmlElement } from "../../xml/element.ts";
import { dataForm, parseBoolean } from "../../xmpp/data-forms.ts";
import { pubsubErrors } from "./errors.ts";
import { PUBSUB } from "./ns.ts";

/** Access models we enforce (XEP-0060 §4.5); "authorize" needs subscription approval, which PEP does not use. */
export const ACCESS_MODELS = ["open", "presence", "roster", "whitelist"] as const;
export type AccessModel = (typeof ACCESS_MODELS)[number];

/** The most items a node keeps, whatever it asks for; `max` means this (XEP-0060 §16.4.3 config-node-max). */
export const MAX_ITEMS = 1000;

interface FieldSpec {
  type: "boolean" | "list-single" | "list-multi" | "text-single";
  label: string;
  default: string[];
  options?: readonly string[];
  /** Normalizes the submitted values, or returns null when they are not acceptable. */
  normalize?: (values: string[]) => string[] | null;
}

/** XEP-0004 §3.3 boolean, stored as "1" or "0". */
function bool(values: string[]): string[] | null {
  const b = values.length === 1 ? parseBoolean(values[0]) : undefined;
  return b === undefined ? null : [b ? "1" : "0"];
}

function oneOf(options: readonly string[]) {
  return (values: string[]) => (values.length === 1 && options.includes(values[0] as string) ? values : null);
}

function maxItems(values: string[]): string[] | null {
  const v = values[0]?.trim();
  if (values.length !== 1 || v === undefined) return null;
  if (v === "max") return ["max"];
  if (!/^\d{1,9}$/.test(v)) return null;
  const n = Number.parseInt(v, 10);
  return n >= 1 ? [String(n)] : null;
}

const SEND_LAST = ["never", "on_sub", "on_sub_and_presence"] as const;

/** Every configuration field we support, with PEP defaults (XEP-0163 §4.4: presence access, last item kept). */
export const FIELDS: Record<string, FieldSpec> = {
  "pubsub#title": { type: "text-single", label: "A friendly name for the node", default: [] },
  "pubsub#description": { type: "text-single", label: "A description of the node", default: [] },
  "pubsub#type": { type: "text-single", label: "The type of node data, usually a namespace", default: [] },
  "pubsub#access_model": {
    type: "list-single",
    label: "Who may retrieve items and get notifications",
    default: ["presence"],
    options: ACCESS_MODELS,
    normalize: oneOf(ACCESS_MODELS),
  },
  "pubsub#roster_groups_allowed": {
    type: "list-multi",
    label: "Roster groups allowed under the roster access model",
    default: [],
    normalize: (values) => [...new Set(values)],
  },
  "pubsub#publish_model": {
    type: "list-single",
    label: "Who may publish (on a personal service, only its owner)",
    default: ["publishers"],
    options: ["publishers"],
    normalize: oneOf(["publishers"]),
  },
  "pubsub#persist_items": { type: "boolean", label: "Keep items in storage", default: ["1"], normalize: bool },
  "pubsub#max_items": {
    type: "text-single",
    label: `Most items to keep (a number, or 'max' for ${MAX_ITEMS})`,
    default: ["1"],
    normalize: maxItems,
  },
  "pubsub#deliver_notifications": { type: "boolean", label: "Send notifications", default: ["1"], normalize: bool },
  "pubsub#deliver_payloads": {
    type: "boolean",
    label: "Include the payload in notifications",
    default: ["1"],
    normalize: bool,
  },
  "pubsub#notify_config": {
    type: "boolean",
    label: "Notify when the configuration changes",
    default: ["0"],
    normalize: bool,
  },
  "pubsub#notify_delete": {
    type: "boolean",
    label: "Notify when the node is deleted",
    default: ["1"],
    normalize: bool,
  },
  "pubsub#notify_retract": { type: "boolean", label: "Notify when items are removed", default: ["1"], normalize: bool },
  "pubsub#send_last_published_item": {
    type: "list-single",
    label: "When to send the last published item",
    default: ["on_sub_and_presence"],
    options: SEND_LAST,
    normalize: oneOf(SEND_LAST),
  },
  "pubsub#notification_type": {
    type: "list-single",
    label: "Message type of notifications",
    default: ["headline"],
    options: ["headline", "normal"],
    normalize: oneOf(["headline", "normal"]),
  },
  "pubsub#itemreply": {
    type: "list-single",
    label: "Whom replies to items go to",
    default: ["owner"],
    options: ["owner", "publisher"],
    normalize: oneOf(["owner", "publisher"]),
  },
};

/** The default configuration, optionally overridden per node (e.g. bookmarks are private by default). */
export function defaultConfig(overrides: PubsubConfig = {}): PubsubConfig {
  const config: PubsubConfig = {};
  for (const [name, spec] of Object.entries(FIELDS)) config[name] = [...spec.default];
  for (const [name, values] of Object.entries(overrides)) config[name] = [...values];
  return config;
}

/**
 * Validates submitted fields and returns them normalized. Unknown fields or bad values are refused with
 * `not-acceptable` (XEP-0060 §8.2.5.3) rather than silently ignored: a client that asks for a private node must
 * not get a public one.
 */
export function normalizeFields(fields: Map<string, string[]>): PubsubConfig {
  const out: PubsubConfig = {};
  for (const [name, values] of fields) {
    const spec = FIELDS[name];
    if (!spec) throw pubsubErrors.notAcceptable(`Unsupported configuration field ${name}`);
    const normalized = spec.normalize ? spec.normalize(values) : values.slice(0, 1);
    if (!normalized) throw pubsubErrors.notAcceptable(`Invalid value for ${name}`);
    out[name] = normalized;
  }
  return out;
}

/**
 * XEP-0060 §7.1.5: each publish option is a precondition the existing node's configuration must meet. Returns the
 * first option that does not match, or null. Unknown options never match.
 */
export function unmetPrecondition(config: PubsubConfig, options: Map<string, string[]>): string | null {
  for (const [name, values] of options) {
    const spec = FIELDS[name];
    const wanted = spec?.normalize ? spec.normalize(values) : values;
    if (!spec || !wanted) return name;
    const have = config[name] ?? spec.default;
    if (name === "pubsub#max_items") {
      if (effectiveMaxItems(have) !== effectiveMaxItems(wanted)) return name;
    } else if (spec.type === "list-multi") {
      if ([...have].sort().join("\n") !== [...wanted].sort().join("\n")) return name;
    } else if ((have[0] ?? "") !== (wanted[0] ?? "")) {
      return name;
    }
  }
  return null;
}

/** A typed view of a stored configuration. */
export interface NodeSettings {
  accessModel: AccessModel;
  rosterGroups: string[];
  persistItems: boolean;
  maxItems: number;
  deliverNotifications: boolean;
  deliverPayloads: boolean;
  notifyConfig: boolean;
  notifyDelete: boolean;
  notifyRetract: boolean;
  sendLast: (typeof SEND_LAST)[number];
  notificationType: "headline" | "normal";
  itemReplyPublisher: boolean;
}

function flag(config: PubsubConfig, name: string): boolean {
  return ((config[name] ?? FIELDS[name]?.default)?.[0] ?? "0") === "1";
}

function single(config: PubsubConfig, name: string): string {
  return (config[name] ?? FIELDS[name]?.default)?.[0] ?? "";
}

function effectiveMaxItems(values: string[]): number {
  const v = values[0] ?? "1";
  return v === "max" ? MAX_ITEMS : Math.min(MAX_ITEMS, Math.max(1, Number.parseInt(v, 10) || 1));
}

export function settingsOf(config: PubsubConfig): NodeSettings {
  return {
    accessModel: single(config, "pubsub#access_model") as AccessModel,
    rosterGroups: config["pubsub#roster_groups_allowed"] ?? [],
    persistItems: flag(config, "pubsub#persist_items"),
    maxItems: effectiveMaxItems(config["pubsub#max_items"] ?? ["1"]),
    deliverNotifications: flag(config, "pubsub#deliver_notifications"),
    deliverPayloads: flag(config, "pubsub#deliver_payloads"),
    notifyConfig: flag(config, "pubsub#notify_config"),
    notifyDelete: flag(config, "pubsub#notify_delete"),
    notifyRetract: flag(config, "pubsub#notify_retract"),
    sendLast: single(config, "pubsub#send_last_published_item") as NodeSettings["sendLast"],
    notificationType: single(config, "pubsub#notification_type") as NodeSettings["notificationType"],
    itemReplyPublisher: single(config, "pubsub#itemreply") === "publisher",
  };
}

/** The configuration as a node_config form (for `<configure/>` and `<default/>` results, XEP-0060 §8.2, §8.3). */
export function configForm(config: PubsubConfig): XmlElement {
  return dataForm("form", {
    formType: PUBSUB.nodeConfig,
    fields: Object.entries(FIELDS).map(([name, spec]) => ({
      var: name,
      type: spec.type,
      label: spec.label,
      values: config[name] ?? spec.default,
      options: spec.options?.map((value) => ({ value })),
    })),
  });
}
