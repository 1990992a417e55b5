import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  fieldsOf,
  hasFrom,
  hasTo,
  inbound,
  outbound,
  SUB_STATES,
  type SubState,
  type SubscriptionType,
  stateOf,
  tableRow,
} from "../../src/xmpp/subscription-states.ts";

/**
 * RFC 6121 Appendix A, transcribed row by row in the RFC's own layout ("EXISTING STATE | ROUTE?/DELIVER? |
 * NEW STATE"). Footnoted rows ("no *") are written as "no".
 */
const RFC: Record<"outbound" | "inbound", Record<SubscriptionType, string>> = {
  outbound: {
    // A.2.1
    subscribe: `
      "None"                  | yes | "None + Pending Out"
      "None + Pending Out"    | yes | no state change
      "None + Pending In"     | yes | "None + Pending Out/In"
      "None + Pending Out/In" | yes | no state change
      "To"                    | yes | no state change
      "To + Pending In"       | yes | no state change
      "From"                  | yes | "From + Pending Out"
      "From + Pending Out"    | yes | no state change
      "Both"                  | yes | no state change`,
    // A.2.2
    unsubscribe: `
      "None"                  | yes | no state change
      "None + Pending Out"    | yes | "None"
      "None + Pending In"     | yes | no state change
      "None + Pending Out/In" | yes | "None + Pending In"
      "To"                    | yes | "None"
      "To + Pending In"       | yes | "None + Pending In"
      "From"                  | yes | no state change
      "From + Pending Out"    | yes | "From"
      "Both"                  | yes | "From"`,
    // A.2.3
    subscribed: `
      "None"                  | no  | no state change
      "None + Pending Out"    | no  | no state change
      "None + Pending In"     | yes | "From"
      "None + Pending Out/In" | yes | "From + Pending Out"
      "To"                    | no  | no state change
      "To + Pending In"       | yes | "Both"
      "From"                  | no  | no state change
      "From + Pending Out"    | no  | no state change
      "Both"                  | no  | no state change`,
    // A.2.4
    unsubscribed: `
      "None"                  | no  | no state change
      "None + Pending Out"    | no  | no state change
      "None + Pending In"     | yes | "None"
      "None + Pending Out/In" | yes | "None + Pending Out"
      "To"                    | no  | no state change
      "To + Pending In"       | yes | "To"
      "From"                  | yes | "None"
      "From + Pending Out"    | yes | "None + Pending Out"
      "Both"                  | yes | "To"`,
  },
  inbound: {
    // A.3.1
    subscribe: `
      "None"                  | yes | "None + Pending In"
      "None + Pending Out"    | yes | "None + Pending Out/In"
      "None + Pending In"     | no  | no state change
      "None + Pending Out/In" | no  | no state change
      "To"                    | yes | "To + Pending In"
      "To + Pending In"       | no  | no state change
      "From"                  | no  | no state change
      "From + Pending Out"    | no  | no state change
      "Both"                  | no  | no state change`,
    // A.3.2
    unsubscribe: `
      "None"                  | no  | no state change
      "None + Pending Out"    | no  | no state change
      "None + Pending In"     | yes | "None"
      "None + Pending Out/In" | yes | "None + Pending Out"
      "To"                    | no  | no state change
      "To + Pending In"       | yes | "To"
      "From"                  | yes | "None"
      "From + Pending Out"    | yes | "None + Pending Out"
      "Both"                  | yes | "To"`,
    // A.3.3
    subscribed: `
      "None"                  | no  | no state change
      "None + Pending Out"    | yes | "To"
      "None + Pending In"     | no  | no state change
      "None + Pending Out/In" | yes | "To + Pending In"
      "To"                    | no  | no state change
      "To + Pending In"       | no  | no state change
      "From"                  | no  | no state change
      "From + Pending Out"    | yes | "Both"
      "Both"                  | no  | no state change`,
    // A.3.4
    unsubscribed: `
      "None"                  | no  | no state change
      "None + Pending Out"    | yes | "None"
      "None + Pending In"     | no  | no state change
      "None + Pending Out/In" | yes | "None + Pending In"
      "To"                    | yes | "None"
      "To + Pending In"       | yes | "None + Pending In"
      "From"                  | no  | no state change
      "From + Pending Out"    | yes | "From"
      "Both"                  | yes | "From"`,
  },
};

const TYPES: SubscriptionType[] = ["subscribe", "unsubscribe", "subscribed", "unsubscribed"];

interface RfcRow {
  state: SubState;
  forward: boolean;
  next: SubState;
}

function rfcRows(direction: "outbound" | "inbound", type: SubscriptionType): RfcRow[] {
  return RFC[direction][type]
    .trim()
    .split("\n")
    .map((line) => {
      const [state, fwd, next] = line.split("|").map((c) => c.trim().replace(/^"|"$/g, "")) as [string, string, string];
      return {
        state: state as SubState,
        forward: fwd === "yes",
        next: (next === "no state change" ? state : next) as SubState,
      };
    });
}

describe("RFC 6121 Appendix A tables", () => {
  for (const direction of ["outbound", "inbound"] as const) {
    for (const type of TYPES) {
      it(`${direction} ${type}: every one of the nine states matches the RFC`, () => {
        const rows = rfcRows(direction, type);
        assert.deepEqual(
          rows.map((r) => r.state),
          [...SUB_STATES],
        );
        for (const row of rows) {
          const [forward, next] = tableRow(direction, type, row.state);
          assert.equal(forward, row.forward, `${row.state}: forward`);
          assert.equal(next ?? row.state, row.next, `${row.state}: next state`);
        }
      });
    }
  }
});

describe("outbound()", () => {
  it("follows the table for every state and type when nothing is pre-approved, except §3.4 pre-approvals", () => {
    for (const type of TYPES) {
      for (const row of rfcRows("outbound", type)) {
        const t = outbound(row.state, false, type);
        assert.equal(t.forward, row.forward, `${type} in ${row.state}`);
        assert.equal(t.next, row.next, `${type} in ${row.state}`);
        assert.equal(t.before, row.state);
        assert.equal(t.autoReply, false);
        // §3.4.1: "subscribed" with no pending request and no subscription from the contact pre-approves.
        const preApproves = type === "subscribed" && !row.forward && !hasFrom(row.state);
        assert.equal(t.approved, preApproves, `${type} in ${row.state}: approved`);
      }
    }
  });

  it("creates pre-approvals exactly in None, None + Pending Out and To", () => {
    const approving = SUB_STATES.filter((s) => outbound(s, false, "subscribed").approved);
    assert.deepEqual(approving, ["None", "None + Pending Out", "To"]);
  });

  it("keeps a pre-approval across unrelated stanzas and withdraws it with 'unsubscribed'", () => {
    assert.equal(outbound("None", true, "subscribe").approved, true);
    assert.equal(outbound("None", true, "unsubscribe").approved, true);
    assert.equal(outbound("None", true, "subscribed").approved, true);
    assert.equal(outbound("None", true, "unsubscribed").approved, false);
    assert.equal(outbound("To", true, "unsubscribed").approved, false);
  });

  it("drops the pre-approval flag once the contact is subscribed", () => {
    assert.equal(outbound("None + Pending In", true, "subscribed").approved, false);
    assert.equal(outbound("From", true, "subscribe").approved, false);
  });
});

describe("inbound()", () => {
  it("follows the table when nothing is pre-approved, auto-answering 'subscribe' when already subscribed", () => {
    for (const type of TYPES) {
      for (const row of rfcRows("inbound", type)) {
        const t = inbound(row.state, false, type);
        assert.equal(t.forward, row.forward, `${type} in ${row.state}`);
        assert.equal(t.next, row.next, `${type} in ${row.state}`);
        assert.equal(t.approved, false);
        // §A.3.1 footnote: the server replies "subscribed" on the user's behalf when the contact has "From".
        assert.equal(t.autoReply, type === "subscribe" && hasFrom(row.state), `${type} in ${row.state}: auto-reply`);
      }
    }
  });

  it("approves a pre-approved request without delivering it (§3.4.2)", () => {
    const cases: [SubState, SubState][] = [
      ["None", "From"],
      ["None + Pending Out", "From + Pending Out"],
      ["To", "Both"],
    ];
    for (const [before, after] of cases) {
      const t = inbound(before, true, "subscribe");
      assert.deepEqual(
        { forward: t.forward, next: t.next, approved: t.approved, autoReply: t.autoReply },
        { forward: false, next: after, approved: false, autoReply: true },
        before,
      );
    }
  });

  it("never cancels a pre-approval itself", () => {
    for (const type of ["unsubscribe", "subscribed", "unsubscribed"] as const) {
      for (const s of ["None", "None + Pending Out", "To"] as const) {
        const t = inbound(s, true, type);
        assert.equal(t.approved, !hasFrom(t.next), `${type} in ${s}`);
      }
    }
  });
});

describe("state encoding", () => {
  it("round-trips every state through the stored fields", () => {
    for (const s of SUB_STATES) assert.equal(stateOf(fieldsOf(s)), s);
  });

  it("maps the subscription attribute as RFC 6121 §2.1.2.5 defines it", () => {
    for (const s of SUB_STATES) {
      const sub = fieldsOf(s).subscription;
      assert.equal(hasTo(s), sub === "to" || sub === "both", s);
      assert.equal(hasFrom(s), sub === "from" || sub === "both", s);
    }
  });

  it("ignores pending flags that cannot apply", () => {
    assert.equal(stateOf({ subscription: "both", askOut: true, askIn: true }), "Both");
    assert.equal(stateOf({ subscription: "to", askOut: true, askIn: false }), "To");
    assert.equal(stateOf({ subscription: "from", askOut: false, askIn: true }), "From");
  });
});
