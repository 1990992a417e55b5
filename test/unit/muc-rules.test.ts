/** Pure MUC rules: permissions (XEP-0045 §5, §8-§10), history selection (§7.2.15), configuration forms, rate limit. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  applyConfigForm,
  configChangeCodes,
  defaultRoomConfig,
  type ServiceLimits,
} from "../../src/modules/muc/config.ts";
import { type HistoryEntry, parseHistoryRequest, RoomHistory } from "../../src/modules/muc/history.ts";
import { TokenBucket } from "../../src/modules/muc/rate-limit.ts";
import { canChangeAffiliation, canChangeRole, defaultRole } from "../../src/modules/muc/roles.ts";
import { xml } from "../../src/xml/element.ts";
import type { ParsedForm } from "../../src/xmpp/data-forms.ts";

const LIMITS: ServiceLimits = {
  maxOccupants: 100,
  maxHistory: 50,
  defaultHistory: 20,
  defaultPersistent: false,
  defaultPublic: true,
  archive: true,
};

function form(values: Record<string, string | string[]>): ParsedForm {
  return {
    type: "submit",
    formType: "http://jabber.org/protocol/muc#roomconfig",
    values: new Map(Object.entries(values).map(([k, v]) => [k, Array.isArray(v) ? v : [v]])),
  };
}

describe("MUC roles and affiliations", () => {
  it("gives the default role of §5.1.2", () => {
    assert.equal(defaultRole("owner", false), "moderator");
    assert.equal(defaultRole("admin", true), "moderator");
    assert.equal(defaultRole("member", true), "participant");
    assert.equal(defaultRole("none", false), "participant");
    assert.equal(defaultRole("none", true), "visitor");
    assert.equal(defaultRole("outcast", false), "none");
  });

  it("lets moderators kick and mute, admins make moderators, nobody mute an admin (§8, §9.6)", () => {
    const mod = { affiliation: "none" as const, role: "moderator" as const };
    const admin = { affiliation: "admin" as const, role: "moderator" as const };
    const owner = { affiliation: "owner" as const, role: "moderator" as const };
    const participant = { affiliation: "none" as const, role: "participant" as const };
    assert.equal(canChangeRole(participant, participant, "none"), "forbidden");
    assert.equal(canChangeRole(mod, participant, "none"), null);
    assert.equal(canChangeRole(mod, participant, "visitor"), null);
    assert.equal(canChangeRole(mod, participant, "moderator"), "forbidden");
    assert.equal(canChangeRole(admin, participant, "moderator"), null);
    assert.equal(canChangeRole(mod, { affiliation: "none", role: "moderator" }, "participant"), "forbidden");
    assert.equal(canChangeRole(mod, { affiliation: "none", role: "moderator" }, "none"), null);
    assert.equal(canChangeRole(mod, admin, "none"), "not-allowed");
    assert.equal(canChangeRole(admin, admin, "none"), "not-allowed");
    assert.equal(canChangeRole(owner, admin, "none"), null);
    assert.equal(canChangeRole(owner, admin, "visitor"), "not-allowed");
    assert.equal(canChangeRole(owner, owner, "none"), "not-allowed");
  });

  it("lets admins manage members and bans, owners everything (§9, §10)", () => {
    assert.equal(canChangeAffiliation("member", "none", "member"), "forbidden");
    assert.equal(canChangeAffiliation("admin", "none", "outcast"), null);
    assert.equal(canChangeAffiliation("admin", "member", "none"), null);
    assert.equal(canChangeAffiliation("admin", "none", "admin"), "forbidden");
    assert.equal(canChangeAffiliation("admin", "admin", "outcast"), "not-allowed");
    assert.equal(canChangeAffiliation("admin", "owner", "member"), "not-allowed");
    assert.equal(canChangeAffiliation("owner", "admin", "outcast"), null);
    assert.equal(canChangeAffiliation("owner", "none", "owner"), null);
  });
});

describe("MUC discussion history (§7.2.14, §7.2.15)", () => {
  const entry = (n: number, at: number, chars = 100): HistoryEntry => ({
    stanza: xml("message", null, xml("body", null, `m${n}`)),
    at,
    id: `id${n}`,
    author: "a@example.com",
    chars,
  });
  const bodies = (h: RoomHistory, req: Parameters<RoomHistory["select"]>[0], now = 10_000) =>
    h.select(req, now).map((e) => e.id);

  it("keeps the last `limit` messages", () => {
    const h = new RoomHistory(3);
    for (let i = 1; i <= 5; i++) h.push(entry(i, i * 1000));
    assert.deepEqual(bodies(h, {}), ["id3", "id4", "id5"]);
    h.setLimit(2);
    assert.deepEqual(bodies(h, {}), ["id4", "id5"]);
    assert.equal(h.mark, 5);
    h.push(entry(6, 6000));
    assert.deepEqual(
      h.after(5).map((e) => e.id),
      ["id6"],
    );
  });

  it("applies maxstanzas, maxchars, seconds and since together", () => {
    const h = new RoomHistory(10);
    for (let i = 1; i <= 5; i++) h.push(entry(i, i * 1000, 100));
    assert.deepEqual(bodies(h, { maxstanzas: 2 }), ["id4", "id5"]);
    assert.deepEqual(bodies(h, { maxstanzas: 0 }), []);
    assert.deepEqual(bodies(h, { maxchars: 250 }), ["id4", "id5"]);
    assert.deepEqual(bodies(h, { maxchars: 99 }), []);
    assert.deepEqual(bodies(h, { seconds: 7 }), ["id3", "id4", "id5"]);
    assert.deepEqual(bodies(h, { since: 4000 }), ["id4", "id5"]);
    assert.deepEqual(bodies(h, { since: 2000, maxstanzas: 1 }), ["id5"]);
  });

  it("reads <history/> and ignores attributes it cannot parse", () => {
    const req = parseHistoryRequest(
      xml("history", { maxstanzas: "5", maxchars: "-1", seconds: "x", since: "1970-01-01T00:00:10Z" }),
    );
    assert.deepEqual(req, { maxstanzas: 5, maxchars: undefined, seconds: undefined, since: 10_000 });
    assert.deepEqual(parseHistoryRequest(undefined), {});
  });

  it("replaces a message by its tombstone", () => {
    const h = new RoomHistory(5);
    h.push(entry(1, 1000));
    const grave = xml("message", null, xml("retracted", { xmlns: "urn:xmpp:message-retract:1" }));
    assert.equal(h.replace("id1", grave), true);
    assert.equal(h.replace("nope", grave), false);
    assert.equal(h.find("id1")?.stanza, grave);
  });
});

describe("MUC room configuration form (§10.2)", () => {
  it("keeps what the form does not mention (an empty form is an instant room)", () => {
    const before = defaultRoomConfig(LIMITS);
    assert.deepEqual(applyConfigForm(before, form({}), LIMITS), before);
  });

  it("applies values and refuses unacceptable ones", () => {
    const c = applyConfigForm(
      defaultRoomConfig(LIMITS),
      form({
        "muc#roomconfig_roomname": "Kitchen",
        "muc#roomconfig_persistentroom": "true",
        "muc#roomconfig_maxusers": "none",
        "muc#roomconfig_roomsecret": "pw",
        "muc#maxhistoryfetch": "500",
        "muc#roomconfig_allowpm": "0",
        "muc#roomconfig_presencebroadcast": ["moderator", "participant"],
      }),
      LIMITS,
    );
    assert.equal(c.name, "Kitchen");
    assert.equal(c.persistent, true);
    assert.equal(c.maxUsers, 100);
    assert.equal(c.password, "pw", "a secret alone protects the room");
    assert.equal(c.historyLength, 50, "clamped to max_history");
    assert.equal(c.allowPm, "none", "the old boolean form");
    assert.deepEqual(c.presenceBroadcast, ["moderator", "participant"]);
    const bads: Record<string, string | string[]>[] = [
      { "muc#roomconfig_maxusers": "101" },
      { "muc#roomconfig_maxusers": "0" },
      { "muc#roomconfig_whois": "nobody" },
      { "muc#roomconfig_moderatedroom": "yes" },
      { "muc#roomconfig_passwordprotectedroom": "1" },
      { "muc#roomconfig_presencebroadcast": ["none"] },
      { "muc#maxhistoryfetch": "-3" },
    ];
    for (const bad of bads) {
      assert.throws(
        () => applyConfigForm(defaultRoomConfig(LIMITS), form(bad), LIMITS),
        /not-acceptable/,
        JSON.stringify(bad),
      );
    }
    const unprotected = applyConfigForm(c, form({ "muc#roomconfig_passwordprotectedroom": "0" }), LIMITS);
    assert.equal(unprotected.password, "");
  });

  it("says what changed with status codes (§10.2.1)", () => {
    const a = defaultRoomConfig(LIMITS);
    assert.deepEqual(configChangeCodes(a, { ...a, name: "x" }), ["104"]);
    assert.deepEqual(configChangeCodes(a, { ...a, archiving: false, whois: "anyone" }), ["104", "171", "172"]);
    assert.deepEqual(configChangeCodes({ ...a, archiving: false, whois: "anyone" }, a), ["104", "170", "173"]);
  });
});

describe("MUC rate limit", () => {
  it("allows a burst, then the sustained rate; 0 means unlimited", () => {
    const b = new TokenBucket(2, 3, 0);
    assert.deepEqual([b.take(0), b.take(0), b.take(0), b.take(0)], [true, true, true, false]);
    assert.equal(b.take(499), false);
    assert.equal(b.take(500), true);
    assert.equal(b.take(10_000), true);
    const unlimited = new TokenBucket(0, 1, 0);
    for (let i = 0; i < 100; i++) assert.equal(unlimited.take(0), true);
  });
});
