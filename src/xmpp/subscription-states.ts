/**
 * The presence subscription state machine of RFC 6121 Appendix A, as pure data and functions.
 *
 * States are named exactly as in §A.1 and always describe one roster item from the side of the account that
 * owns the roster ("the user"): "To" = the user receives the contact's presence, "From" = the contact receives
 * the user's presence, "Pending Out" = the user asked and the contact has not answered, "Pending In" = the
 * contact asked and the user has not answered.
 */
import type { Subscription } from "../storage/types.ts";

export type SubState =
  | "None"
  | "None + Pending Out"
  | "None + Pending In"
  | "None + Pending Out/In"
  | "To"
  | "To + Pending In"
  | "From"
  | "From + Pending Out"
  | "Both";

/** Every state of §A.1, in the RFC's order. */
export const SUB_STATES: readonly SubState[] = [
  "None",
  "None + Pending Out",
  "None + Pending In",
  "None + Pending Out/In",
  "To",
  "To + Pending In",
  "From",
  "From + Pending Out",
  "Both",
];

/** The four presence types that manage subscriptions (RFC 6121 §3). */
export type SubscriptionType = "subscribe" | "subscribed" | "unsubscribe" | "unsubscribed";

export function isSubscriptionType(type: string | undefined): type is SubscriptionType {
  return type === "subscribe" || type === "subscribed" || type === "unsubscribe" || type === "unsubscribed";
}

/** One table row: does the stanza go on (route for outbound, deliver for inbound), and the new state (null = none). */
type Row = readonly [boolean, SubState | null];
type Table = Readonly<Record<SubState, Row>>;

const yes = true;
const no = false;

// biome-ignore format: the tables are laid out like the RFC's.
const OUTBOUND: Readonly<Record<SubscriptionType, Table>> = {
  // §A.2.1 Client generates an outbound "subscribe"
  subscribe: {
    "None":                  [yes, "None + Pending Out"],
    "None + Pending Out":    [yes, null],
    "None + Pending In":     [yes, "None + Pending Out/In"],
    "None + Pending Out/In": [yes, null],
    "To":                    [yes, null],
    "To + Pending In":       [yes, null],
    "From":                  [yes, "From + Pending Out"],
    "From + Pending Out":    [yes, null],
    "Both":                  [yes, null],
  },
  // §A.2.2 Client generates an outbound "unsubscribe"
  unsubscribe: {
    "None":                  [yes, null],
    "None + Pending Out":    [yes, "None"],
    "None + Pending In":     [yes, null],
    "None + Pending Out/In": [yes, "None + Pending In"],
    "To":                    [yes, "None"],
    "To + Pending In":       [yes, "None + Pending In"],
    "From":                  [yes, null],
    "From + Pending Out":    [yes, "From"],
    "Both":                  [yes, "From"],
  },
  // §A.2.3 Client generates an outbound "subscribed" (the non-routed rows without "From" become pre-approvals, §3.4)
  subscribed: {
    "None":                  [no,  null],
    "None + Pending Out":    [no,  null],
    "None + Pending In":     [yes, "From"],
    "None + Pending Out/In": [yes, "From + Pending Out"],
    "To":                    [no,  null],
    "To + Pending In":       [yes, "Both"],
    "From":                  [no,  null],
    "From + Pending Out":    [no,  null],
    "Both":                  [no,  null],
  },
  // §A.2.4 Client generates an outbound "unsubscribed"
  unsubscribed: {
    "None":                  [no,  null],
    "None + Pending Out":    [no,  null],
    "None + Pending In":     [yes, "None"],
    "None + Pending Out/In": [yes, "None + Pending Out"],
    "To":                    [no,  null],
    "To + Pending In":       [yes, "To"],
    "From":                  [yes, "None"],
    "From + Pending Out":    [yes, "None + Pending Out"],
    "Both":                  [yes, "To"],
  },
};

// biome-ignore format: the tables are laid out like the RFC's.
const INBOUND: Readonly<Record<SubscriptionType, Table>> = {
  // §A.3.1 Server receives an inbound "subscribe" (rows with "From" are auto-answered, see `inbound`)
  subscribe: {
    "None":                  [yes, "None + Pending In"],
    "None + Pending Out":    [yes, "None + Pending Out/In"],
    "None + Pending In":     [no,  null],
    "None + Pending Out/In": [no,  null],
    "To":                    [yes, "To + Pending In"],
    "To + Pending In":       [no,  null],
    "From":                  [no,  null],
    "From + Pending Out":    [no,  null],
    "Both":                  [no,  null],
  },
  // §A.3.2 Server receives an inbound "unsubscribe"
  unsubscribe: {
    "None":                  [no,  null],
    "None + Pending Out":    [no,  null],
    "None + Pending In":     [yes, "None"],
    "None + Pending Out/In": [yes, "None + Pending Out"],
    "To":                    [no,  null],
    "To + Pending In":       [yes, "To"],
    "From":                  [yes, "None"],
    "From + Pending Out":    [yes, "None + Pending Out"],
    "Both":                  [yes, "To"],
  },
  // §A.3.3 Server receives an inbound "subscribed"
  subscribed: {
    "None":                  [no,  null],
    "None + Pending Out":    [yes, "To"],
    "None + Pending In":     [no,  null],
    "None + Pending Out/In": [yes, "To + Pending In"],
    "To":                    [no,  null],
    "To + Pending In":       [no,  null],
    "From":                  [no,  null],
    "From + Pending Out":    [yes, "Both"],
    "Both":                  [no,  null],
  },
  // §A.3.4 Server receives an inbound "unsubscribed"
  unsubscribed: {
    "None":                  [no,  null],
    "None + Pending Out":    [yes, "None"],
    "None + Pending In":     [no,  null],
    "None + Pending Out/In": [yes, "None + Pending In"],
    "To":                    [yes, "None"],
    "To + Pending In":       [yes, "None + Pending In"],
    "From":                  [no,  null],
    "From + Pending Out":    [yes, "From"],
    "Both":                  [yes, "From"],
  },
};

/** The raw Appendix A row, for tests and documentation. */
export function tableRow(direction: "outbound" | "inbound", type: SubscriptionType, state: SubState): Row {
  return (direction === "outbound" ? OUTBOUND : INBOUND)[type][state];
}

/** The storage fields that encode a state. */
export interface SubFields {
  subscription: Subscription;
  askOut: boolean;
  askIn: boolean;
}

// biome-ignore format: one state per line.
const FIELDS: Readonly<Record<SubState, SubFields>> = {
  "None":                  { subscription: "none", askOut: false, askIn: false },
  "None + Pending Out":    { subscription: "none", askOut: true,  askIn: false },
  "None + Pending In":     { subscription: "none", askOut: false, askIn: true },
  "None + Pending Out/In": { subscription: "none", askOut: true,  askIn: true },
  "To":                    { subscription: "to",   askOut: false, askIn: false },
  "To + Pending In":       { subscription: "to",   askOut: false, askIn: true },
  "From":                  { subscription: "from", askOut: false, askIn: false },
  "From + Pending Out":    { subscription: "from", askOut: true,  askIn: false },
  "Both":                  { subscription: "both", askOut: false, askIn: false },
};

export function fieldsOf(state: SubState): SubFields {
  return FIELDS[state];
}

/**
 * The state stored fields encode. Flags that cannot apply are ignored (a pending request in the direction that
 * is already subscribed means nothing), so any stored combination maps to one of the nine states.
 */
export function stateOf(f: SubFields): SubState {
  switch (f.subscription) {
    case "both":
      return "Both";
    case "from":
      return f.askOut ? "From + Pending Out" : "From";
    case "to":
      return f.askIn ? "To + Pending In" : "To";
    default:
      if (f.askOut && f.askIn) return "None + Pending Out/In";
      if (f.askOut) return "None + Pending Out";
      return f.askIn ? "None + Pending In" : "None";
  }
}

/** The contact receives the user's presence. */
export function hasFrom(state: SubState): boolean {
  return state === "From" || state === "From + Pending Out" || state === "Both";
}

/** The user receives the contact's presence. */
export function hasTo(state: SubState): boolean {
  return state === "To" || state === "To + Pending In" || state === "Both";
}

/** The state after the user approves the contact's subscription (pending-in is consumed by the approval). */
function withFrom(state: SubState): SubState {
  if (hasTo(state)) return "Both";
  return state === "None + Pending Out" || state === "None + Pending Out/In" || state === "From + Pending Out"
    ? "From + Pending Out"
    : "From";
}

/** What processing a subscription stanza decided. */
export interface Transition {
  /** Route the stanza (outbound) or deliver it to the user's available resources (inbound). */
  forward: boolean;
  before: SubState;
  next: SubState;
  /** The pre-approval flag after the stanza (RFC 6121 §3.4). */
  approved: boolean;
  /** An inbound "subscribe" the server answers itself with "subscribed" (§3.1.3 already subscribed, §3.4 pre-approved). */
  autoReply: boolean;
}

function result(before: SubState, row: Row, approved: boolean, autoReply = false): Transition {
  const next = row[1] ?? before;
  // A pre-approval only means something while the contact is not subscribed yet.
  return { forward: row[0], before, next, approved: approved && !hasFrom(next), autoReply };
}

/** The user's server processing a subscription stanza its client sent (RFC 6121 §3, Appendix A.2). */
export function outbound(state: SubState, approved: boolean, type: SubscriptionType): Transition {
  const row = OUTBOUND[type][state];
  if (type === "subscribed" && !row[0] && !hasFrom(state)) {
    // §3.4.1: "subscribed" with no request to answer pre-approves the contact's future request.
    return result(state, row, true);
  }
  // §3.4: "unsubscribed" also withdraws a pre-approval.
  return result(state, row, type === "unsubscribed" ? false : approved);
}

/** The user's server processing a subscription stanza that arrives for the user (RFC 6121 §3, Appendix A.3). */
export function inbound(state: SubState, approved: boolean, type: SubscriptionType): Transition {
  if (type === "subscribe") {
    // §3.1.3 / §A.3.1 footnote: the contact is already subscribed, so the server answers on the user's behalf.
    if (hasFrom(state)) return result(state, [false, null], approved, true);
    // §3.4.2: a pre-approved request is approved by the server and not shown to the user.
    if (approved) return result(state, [false, withFrom(state)], false, true);
  }
  // Inbound stanzas never cancel a pre-approval (§4.3.2 says so for the "unsubscribed" answer to a probe).
  return result(state, INBOUND[type][state], approved);
}
