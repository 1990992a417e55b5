import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { MucAffiliationRecord, MucRoomRecord } from "../../src/storage/muc.ts";
import type { Storage } from "../../src/storage/types.ts";

const HOST = "conference.example.com";

function room(name: string, fields: Partial<MucRoomRecord> = {}): MucRoomRecord {
  return {
    name,
    config: JSON.stringify({ name: `Room ${name}`, persistent: true }),
    subject: "",
    subjectBy: null,
    subjectAt: null,
    createdAt: 1_700_000_000_000,
    data: "{}",
    ...fields,
  };
}

function aff(jid: string, affiliation: MucAffiliationRecord["affiliation"], nick: string | null = null) {
  return { jid, affiliation, nick, reason: null };
}

/**
 * The behaviour every backend's `MucStore` must have. Call once per backend from a `*.test.ts` file; `open`
 * returns an empty backend.
 */
export function mucStoreConformance(name: string, open: () => Promise<Storage>): void {
  describe(`muc store conformance: ${name}`, () => {
    let storage: Storage;
    beforeEach(async () => {
      storage = await open();
    });
    afterEach(async () => {
      await storage.close();
    });

    it("saves, reads back and lists rooms per service in name order", async () => {
      const b = room("bravo", { subject: "Hi 😀 <&>", subjectBy: "Ünïcode", subjectAt: 42, data: '{"k":"v"}' });
      await storage.muc.saveRoom(HOST, b);
      await storage.muc.saveRoom(HOST, room("alpha"));
      await storage.muc.saveRoom("conference.example.org", room("zulu"));
      assert.deepEqual(await storage.muc.getRoom(HOST, "bravo"), b);
      assert.equal(await storage.muc.getRoom(HOST, "zulu"), null);
      assert.deepEqual(
        (await storage.muc.listRooms(HOST)).map((r) => r.name),
        ["alpha", "bravo"],
      );
      assert.deepEqual(await storage.muc.listRooms("conference.nowhere"), []);
    });

    it("replaces a room's configuration, subject and data on save but keeps its creation time", async () => {
      await storage.muc.saveRoom(HOST, room("alpha"));
      const changed = room("alpha", {
        config: '{"name":"Renamed"}',
        subject: "New topic",
        subjectBy: "mod",
        subjectAt: 99,
        createdAt: 5,
        data: '{"x":1}',
      });
      await storage.muc.saveRoom(HOST, changed);
      assert.deepEqual(await storage.muc.getRoom(HOST, "alpha"), { ...changed, createdAt: 1_700_000_000_000 });
      assert.equal((await storage.muc.listRooms(HOST)).length, 1);
    });

    it("keeps affiliations per room, ordered by JID, and replaces one on set", async () => {
      await storage.muc.saveRoom(HOST, room("alpha"));
      await storage.muc.setAffiliation(HOST, "alpha", aff("juliet@example.com", "owner"));
      await storage.muc.setAffiliation(HOST, "alpha", aff("bad@example.net", "outcast"));
      await storage.muc.setAffiliation(HOST, "alpha", {
        ...aff("romeo@example.com", "member", "Romeo"),
        reason: "friend",
      });
      await storage.muc.setAffiliation(HOST, "beta", aff("romeo@example.com", "admin"));
      assert.deepEqual(await storage.muc.affiliations(HOST, "alpha"), [
        aff("bad@example.net", "outcast"),
        aff("juliet@example.com", "owner"),
        { ...aff("romeo@example.com", "member", "Romeo"), reason: "friend" },
      ]);
      await storage.muc.setAffiliation(HOST, "alpha", aff("romeo@example.com", "admin"));
      assert.deepEqual(
        (await storage.muc.affiliations(HOST, "alpha")).find((a) => a.jid === "romeo@example.com"),
        aff("romeo@example.com", "admin"),
      );
      assert.deepEqual(await storage.muc.affiliations(HOST, "beta"), [aff("romeo@example.com", "admin")]);
    });

    it("removes one affiliation and reports whether it existed", async () => {
      await storage.muc.setAffiliation(HOST, "alpha", aff("romeo@example.com", "member"));
      assert.equal(await storage.muc.removeAffiliation(HOST, "alpha", "romeo@example.com"), true);
      assert.equal(await storage.muc.removeAffiliation(HOST, "alpha", "romeo@example.com"), false);
      assert.deepEqual(await storage.muc.affiliations(HOST, "alpha"), []);
    });

    it("replaces a room's whole affiliation list at once", async () => {
      await storage.muc.setAffiliation(HOST, "alpha", aff("old@example.com", "member"));
      await storage.muc.replaceAffiliations(HOST, "alpha", [
        aff("b@example.com", "admin"),
        aff("a@example.com", "owner"),
      ]);
      assert.deepEqual(await storage.muc.affiliations(HOST, "alpha"), [
        aff("a@example.com", "owner"),
        aff("b@example.com", "admin"),
      ]);
    });

    it("deletes a room with its affiliations, leaving other rooms alone", async () => {
      await storage.muc.saveRoom(HOST, room("alpha"));
      await storage.muc.saveRoom(HOST, room("beta"));
      await storage.muc.setAffiliation(HOST, "alpha", aff("juliet@example.com", "owner"));
      await storage.muc.setAffiliation(HOST, "beta", aff("juliet@example.com", "owner"));
      assert.equal(await storage.muc.deleteRoom(HOST, "alpha"), true);
      assert.equal(await storage.muc.deleteRoom(HOST, "alpha"), false);
      assert.equal(await storage.muc.getRoom(HOST, "alpha"), null);
      assert.deepEqual(await storage.muc.affiliations(HOST, "alpha"), []);
      assert.deepEqual(await storage.muc.affiliations(HOST, "beta"), [aff("juliet@example.com", "owner")]);
    });

    it("removes a JID from every room of one service", async () => {
      await storage.muc.setAffiliation(HOST, "alpha", aff("juliet@example.com", "owner"));
      await storage.muc.setAffiliation(HOST, "beta", aff("juliet@example.com", "member"));
      await storage.muc.setAffiliation(HOST, "beta", aff("romeo@example.com", "member"));
      await storage.muc.setAffiliation("conference.example.org", "alpha", aff("juliet@example.com", "owner"));
      assert.equal(await storage.muc.removeJid(HOST, "juliet@example.com"), 2);
      assert.deepEqual(await storage.muc.affiliations(HOST, "alpha"), []);
      assert.deepEqual(await storage.muc.affiliations(HOST, "beta"), [aff("romeo@example.com", "member")]);
      assert.equal((await storage.muc.affiliations("conference.example.org", "alpha")).length, 1);
    });
  });
}
