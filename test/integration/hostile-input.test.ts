/**
 * Hostile input over XMPP: a bounded fuzzer (fixed seed) sends well-formed but wrong stanzas to every namespace the
 * server handles, at every kind of address, from a logged-in client; then protocol edges that a stream error is the
 * right answer to. The promise checked: every iq get/set gets exactly one answer, the connection stays up unless
 * a stream error is the right answer, the server logs no error and keeps serving others, and an error answer never
 * comes with something stored.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { xml } from "../../src/xml/element.ts";
import { NS } from "../../src/xmpp/ns.ts";
import { connectClient, RawConnection, type TestClient } from "../helpers/client.ts";
import { connectComponent } from "../helpers/component.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { preAuth } from "./accounts-fixtures.ts";
import { INVALID_JIDS, StanzaFuzzer, StorageProbe, seeded } from "./hostile-fixtures.ts";
import { errorCondition, withBody } from "./im-fixtures.ts";
import { createRoom, join as joinRoom } from "./muc-fixtures.ts";

const SEED = Number(process.env.HEARTH_FUZZ_SEED ?? 0x5eed);
const IQS = Number(process.env.HEARTH_FUZZ_IQS ?? 1500);
const OTHERS = Number(process.env.HEARTH_FUZZ_OTHERS ?? 500);
const COMPONENT_IQS = Number(process.env.HEARTH_FUZZ_COMPONENT ?? 300);
const ADMIN_STEPS = Number(process.env.HEARTH_FUZZ_ADMIN ?? 200);
/** Generated stanzas stay below this, well under c2s.stanza_size_limit (a bigger one is a stream error). */
const MAX_STANZA = 200_000;
const ROOM = "fuzz@conference.localhost";
/** Destinations for fuzzers that only use the value and mutation helpers. */
const DESTS = {
  host: "localhost",
  self: "",
  contact: "",
  contactFull: "",
  room: "",
  ownRoom: "",
  occupant: "",
  muc: "",
  upload: "",
};

/** Log records the server wrote (JSON lines). */
type LogRecord = { level: number; msg?: string; [k: string]: unknown };

/** Answers every iq get/set a client receives with service-unavailable, as a client that understands nothing. */
function answerEverything(c: TestClient): void {
  c.conn.socket.on("data", () => {
    setImmediate(() => {
      for (let i = 0; i < c.conn.received.length; ) {
        const r = c.conn.received[i];
        if (r?.kind === "element" && r.el.name === "iq" && (r.el.attrs.type === "get" || r.el.attrs.type === "set")) {
          c.conn.received.splice(i, 1);
          c.send(
            xml(
              "iq",
              { type: "error", id: r.el.attrs.id, to: r.el.attrs.from },
              xml("error", { type: "cancel" }, xml("service-unavailable", { xmlns: NS.stanzaErrors })),
            ),
          );
        } else i++;
      }
    });
  });
}

/** Every namespace some host answers iq get/set in (`iq-<type>/<dest>/<ns>` handlers). */
function handledNamespaces(ts: TestServer): string[] {
  const out = new Set<string>();
  for (const host of ts.server.core.hosts.values()) {
    for (const name of host.events.names()) {
      const m = /^iq-(?:get|set)\/(?:host|bare|full)\/(.+)$/.exec(name);
      if (m?.[1]) out.add(m[1]);
    }
  }
  return [...out].sort();
}

describe("hostile input: XMPP", () => {
  let ts: TestServer;
  const logs: LogRecord[] = [];
  const open: TestClient[] = [];
  const login = async (user: string, opts: Parameters<typeof connectClient>[3] = {}) => {
    const c = await connectClient(ts, `${user}@localhost`, "pw", opts);
    open.push(c);
    return c;
  };
  /** Records at error level or above, and the "handler failed" family at any level. */
  const serverErrors = () =>
    logs.filter(
      (r) => r.level >= 50 || /failed/.test(String(r.msg ?? "")) || /internal-server-error/.test(JSON.stringify(r)),
    );

  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  before(async () => {
    process.on("unhandledRejection", onRejection);
    ts = await startTestServer({
      users: ["alice", "bob", "carol", "dave", "erin"].map((u) => [`${u}@localhost`, "pw"]),
      config: {
        log: { level: "warn", format: "json" },
        http: { port: 0, tls_port: -1 },
        muc: { message_rate: 1000 },
        components: { "comp.localhost": { secret: "s" } },
        admins: ["erin@localhost"],
      },
      logDestination: {
        write(line: string) {
          for (const l of line.split("\n")) if (l.trim()) logs.push(JSON.parse(l) as LogRecord);
        },
      },
    });
  });
  after(async () => {
    await Promise.all(open.map((c) => c.close()));
    await ts.stop();
    process.off("unhandledRejection", onRejection);
    assert.deepEqual(rejections, [], "no promise rejection went unhandled");
  });

  it(`answers ${IQS} random iq get/set exactly once each, stores nothing with an error, and stays up (seed ${SEED})`, async () => {
    const bob = await login("bob", { presence: true, resource: "fuzz" });
    answerEverything(bob);
    await createRoom(bob, "fuzz", "Bob");
    const alice = await login("alice", { presence: true, resource: "fuzz", roster: true });
    await joinRoom(alice, "fuzz", "Alice");
    answerEverything(alice);

    await createRoom(alice, "afuzz", "Alice");
    const fuzzer = new StanzaFuzzer(seeded(SEED), {
      dests: {
        host: "localhost",
        self: "alice@localhost",
        contact: "bob@localhost",
        contactFull: bob.jid,
        room: ROOM,
        ownRoom: "afuzz@conference.localhost",
        occupant: `${ROOM}/Bob`,
        muc: "conference.localhost",
        upload: "upload.localhost",
      },
      addresses: [
        "",
        "localhost",
        "alice@localhost",
        alice.jid,
        "bob@localhost",
        bob.jid,
        "bob@localhost/gone",
        "ghost@localhost",
        "ghost@localhost/r",
        "conference.localhost",
        ROOM,
        `${ROOM}/Bob`,
        `${ROOM}/Alice`,
        `${ROOM}/Nobody`,
        "nowhere@conference.localhost",
        "upload.localhost",
        "example.net",
        "user@example.net/r",
        ...INVALID_JIDS.filter((j) => j !== ""),
      ],
      jids: [
        "alice@localhost",
        "bob@localhost",
        bob.jid,
        "localhost",
        ROOM,
        `${ROOM}/Bob`,
        "example.net",
        "ghost@localhost",
      ],
    });
    // Every namespace a module answers iq in, on any host, is one the templates produce.
    const reached = fuzzer.templateNamespaces();
    const missing = handledNamespaces(ts).filter((ns) => !reached.has(ns));
    assert.deepEqual(missing, [], "namespaces the fuzzer never sends");

    const probe = new StorageProbe(join(ts.dataDir, ts.config.storage.sqlite_file));
    const answers = new Map<string, number>();
    const stored: string[] = [];
    const internal: string[] = [];
    alice.conn.socket.on("data", () => {
      for (const r of alice.conn.received) {
        if (r.kind !== "element" || r.el.name !== "iq") continue;
        const id = r.el.attrs.id ?? "";
        if (id.startsWith("fz-") && (r.el.attrs.type === "result" || r.el.attrs.type === "error")) {
          answers.set(id, (answers.get(id) ?? 0) + 1);
        }
      }
    });
    try {
      let state = probe.snapshot();
      for (let i = 0; i < IQS; i++) {
        const id = `fz-${i}`;
        let iq = fuzzer.iq(id);
        while (iq.toString().length > MAX_STANZA) iq = fuzzer.iq(id);
        // Deleting her own account is legitimate, and ends the session: not this test's business.
        if (iq.getChild("query", NS.register)?.getChild("remove")) continue;
        alice.send(iq);
        const reply = await alice
          .expect(
            (el) => el.name === "iq" && el.attrs.id === id && (el.attrs.type === "result" || el.attrs.type === "error"),
            5000,
          )
          .catch((err: Error) => {
            throw new Error(`no answer to ${iq.toString().slice(0, 2000)}: ${err.message.slice(0, 500)}`);
          });
        if (errorCondition(reply) === "internal-server-error") internal.push(iq.toString().slice(0, 1000));
        const now = probe.snapshot();
        if (reply.attrs.type === "error") {
          const changed = StorageProbe.changed(state, now);
          if (changed.length > 0)
            stored.push(`${changed.join(",")} after ${reply} for ${iq.toString().slice(0, 1000)}`);
        }
        state = now;
      }
    } finally {
      probe.close();
    }
    // Late duplicates would arrive now.
    await new Promise((r) => setTimeout(r, 300));
    const twice = [...answers].filter(([, n]) => n !== 1);
    assert.deepEqual(twice, [], "every iq is answered exactly once");
    assert.deepEqual(internal, [], "no internal-server-error");
    assert.deepEqual(stored, [], "an error answer never comes with a storage change");
    assert.equal(alice.conn.closed, false, "the fuzzing connection is still up");
    assert.deepEqual(serverErrors(), [], "the server logged no error");
  });

  it(`takes ${OTHERS} random messages, presences and iq results without breaking (seed ${SEED + 1})`, async () => {
    const dave = await login("dave", { presence: true });
    answerEverything(dave);
    await createRoom(dave, "fuzz2", "Dave");
    const room = "fuzz2@conference.localhost";
    const fuzzer = new StanzaFuzzer(seeded(SEED + 1), {
      dests: {
        host: "localhost",
        self: "dave@localhost",
        contact: "carol@localhost",
        contactFull: "carol@localhost/r",
        room,
        ownRoom: room,
        occupant: `${room}/Dave`,
        muc: "conference.localhost",
        upload: "upload.localhost",
      },
      addresses: [
        "",
        "localhost",
        "dave@localhost",
        dave.jid,
        "carol@localhost",
        "ghost@localhost",
        room,
        `${room}/Dave`,
        `${room}/Nobody`,
        "upload.localhost",
        "example.net",
        ...INVALID_JIDS.filter((j) => j !== ""),
      ],
      jids: ["dave@localhost", "carol@localhost", room, dave.jid],
    });
    for (let i = 0; i < OTHERS; i++) {
      let s = fuzzer.other(`fo-${i}`);
      while (s.toString().length > MAX_STANZA) s = fuzzer.other(`fo-${i}`);
      dave.send(s);
    }
    const pong = await dave.iq(xml("iq", { type: "get", to: "localhost" }, xml("ping", { xmlns: NS.ping })), 10_000);
    assert.equal(pong.attrs.type, "result");
    const internal = dave.conn.received.filter(
      (r) => r.kind === "element" && errorCondition(r.el) === "internal-server-error",
    );
    assert.deepEqual(internal, []);
    assert.equal(dave.conn.closed, false);
    assert.deepEqual(serverErrors(), [], "the server logged no error");
  });

  it(`answers ${COMPONENT_IQS} random iq get/set from a component exactly once each (seed ${SEED + 4})`, async () => {
    const comp = await connectComponent(ts, "comp.localhost", "s");
    const fuzzer = new StanzaFuzzer(seeded(SEED + 4), {
      dests: {
        host: "localhost",
        self: "alice@localhost",
        contact: "bob@localhost",
        contactFull: "bob@localhost/fuzz",
        room: ROOM,
        ownRoom: ROOM,
        occupant: `${ROOM}/Bob`,
        muc: "conference.localhost",
        upload: "upload.localhost",
      },
      addresses: ["localhost", "alice@localhost", "ghost@localhost", ROOM, "conference.localhost", "upload.localhost"],
      jids: ["alice@localhost", "bob@localhost", "x@comp.localhost", ROOM],
    });
    for (let i = 0; i < COMPONENT_IQS; i++) {
      const id = `fc-${i}`;
      let iq = fuzzer.iq(id);
      while (iq.toString().length > MAX_STANZA || iq.attrs.to === undefined) iq = fuzzer.iq(id);
      // A component sends from any address of its domain (XEP-0114 §3), and must say where to.
      iq.attrs.from = fuzzer.pick(["comp.localhost", "x@comp.localhost", "x@comp.localhost/r"]);
      comp.send(iq);
      const reply = await comp
        .expect(
          (el) => el.name === "iq" && el.attrs.id === id && (el.attrs.type === "result" || el.attrs.type === "error"),
          5000,
        )
        .catch((err: Error) => {
          throw new Error(`no answer to ${iq.toString().slice(0, 2000)}: ${err.message.slice(0, 300)}`);
        });
      assert.notEqual(errorCondition(reply), "internal-server-error", `${iq.toString().slice(0, 1000)}`);
    }
    assert.equal(comp.conn.closed, false);
    comp.close();
    assert.deepEqual(serverErrors(), [], "the server logged no error");
  });

  it(`answers ${ADMIN_STEPS} admin command steps with odd forms, as an administrator, exactly once each (seed ${SEED + 5})`, async () => {
    const erin = await login("erin", { resource: "admin" });
    const fuzz = new StanzaFuzzer(seeded(SEED + 5), { addresses: [], jids: ["ghost@localhost"], dests: DESTS });
    const ADMIN = "http://jabber.org/protocol/admin";
    const commands = [
      "add-user",
      "delete-user",
      "change-user-password",
      "get-online-users-list",
      "get-online-users-num",
      "get-registered-users-num",
      "announce",
    ];
    // Only accounts that do not exist (or that this test creates) are named: the others are other tests' users.
    const account = () =>
      fuzz.pick([
        `ghost${fuzz.int(5)}@localhost`,
        "ghost@other.example",
        fuzz.pick(INVALID_JIDS),
        fuzz.value().slice(0, 100),
      ]);
    const sessions = new Map<string, string>();
    for (let i = 0; i < ADMIN_STEPS; i++) {
      const node = `${ADMIN}#${fuzz.pick(commands)}`;
      const form = xml(
        "x",
        { xmlns: NS.dataForms, type: fuzz.pick(["submit", "submit", "cancel", "form"]) },
        xml("field", { var: "FORM_TYPE" }, xml("value", null, fuzz.pick([ADMIN, "urn:x"]))),
        ...["accountjid", "accountjids", "password", "password-verify", "announcement"].map((v) =>
          xml(
            "field",
            { var: v },
            ...Array.from({ length: fuzz.int(3) }, () =>
              xml("value", null, v.startsWith("account") ? account() : fuzz.value().slice(0, 300)),
            ),
          ),
        ),
      );
      for (let k = fuzz.int(3); k > 0; k--) fuzz.mutate(form);
      const command = xml(
        "command",
        {
          xmlns: NS.commands,
          node,
          action: fuzz.pick([undefined, "execute", "complete", "next", "prev", "cancel", "bogus"]),
          sessionid: fuzz.chance(0.6) ? sessions.get(node) : fuzz.chance(0.5) ? fuzz.value().slice(0, 60) : undefined,
        },
        fuzz.chance(0.8) ? form : undefined,
      );
      const r = await erin.iq(xml("iq", { type: "set", to: "localhost" }, command));
      assert.ok(r.attrs.type === "result" || r.attrs.type === "error", `${r}`);
      assert.notEqual(errorCondition(r), "internal-server-error", `${command}`);
      const sid = r.getChild("command", NS.commands)?.attrs.sessionid;
      if (sid) sessions.set(node, sid);
    }
    for (const user of ["alice", "bob", "carol", "dave", "erin"]) {
      assert.ok(await ts.server.core.storage.accounts.exists("localhost", user), `${user} is still there`);
    }
    assert.deepEqual(serverErrors(), [], "the server logged no error");
  });

  it("keeps serving other clients after the fuzzing", async () => {
    const carol = await login("carol", { presence: true, resource: "after" });
    const bob = await login("bob", { presence: true, resource: "after" });
    carol.send(xml("message", { to: bob.jid, type: "chat" }, xml("body", null, "still here?")));
    await bob.expect(withBody("still here?"));
    assert.equal((await carol.iq(xml("iq", { type: "get" }, xml("query", { xmlns: NS.roster })))).attrs.type, "result");
  });

  it("answers requests carrying one attribute as large as a stanza allows, each within a second", async () => {
    const c = await login("carol", { resource: "huge" });
    const huge = "0".repeat(250_000);
    const requests: [string, ReturnType<typeof xml>][] = [
      ["upload.localhost", xml("request", { xmlns: "urn:xmpp:http:upload:0", filename: `${huge}.png`, size: "10" })],
      ["", xml("query", { xmlns: NS.roster }, xml("item", { jid: "x@localhost", name: huge }))],
      ["", xml("pubsub", { xmlns: "http://jabber.org/protocol/pubsub" }, xml("items", { node: huge }))],
      ["", xml("query", { xmlns: "urn:xmpp:mam:2", queryid: huge })],
      ["localhost", xml("command", { xmlns: NS.commands, node: huge })],
      ["conference.localhost", xml("query", { xmlns: NS.discoItems, node: huge })],
      [`${huge}@localhost`, xml("query", { xmlns: NS.discoInfo })],
      ["", xml("blocklist", { xmlns: "urn:xmpp:blocking", [`a${huge.slice(0, 1000)}`]: huge })],
    ];
    for (const [to, payload] of requests) {
      const started = Date.now();
      const r = await c.iq(xml("iq", { type: "get", to: to || undefined }, payload), 5000);
      assert.ok(Date.now() - started < 1000, `${payload.name} took ${Date.now() - started} ms`);
      assert.notEqual(errorCondition(r), "internal-server-error");
    }
    assert.deepEqual(serverErrors(), []);
  });

  it("keeps at most 20 push registrations per account, dropping the least recent (XEP-0357: no flood relay)", async () => {
    const c = await login("carol", { resource: "push" });
    for (let i = 0; i < 30; i++) {
      const r = await c.iq(
        xml("iq", { type: "set" }, xml("enable", { xmlns: "urn:xmpp:push:0", jid: `push${i}.example.net`, node: "n" })),
      );
      assert.equal(r.attrs.type, "result");
    }
    const keys = await ts.server.core.storage.kv.keys("localhost", "carol", "push");
    assert.equal(keys.length, 20);
    assert.ok(
      keys.some((k) => k.startsWith("push29.example.net")),
      "the newest is kept",
    );
    assert.ok(!keys.some((k) => k.startsWith("push0.example.net\n")), "the oldest went");
  });

  // ---- edges where the answer is defined by the RFCs ---------------------------------------------------

  it("answers iq without an id, with a bad type, or without exactly one payload with bad-request (RFC 6120 §8.2.3)", async () => {
    const c = await login("carol", { resource: "edges" });
    const badRequest = async (raw: string, id?: string) => {
      c.send(raw);
      const r = await c.expect((el) => el.name === "iq" && el.attrs.type === "error" && el.attrs.id === id);
      assert.equal(errorCondition(r), "bad-request", `${raw} → ${r}`);
    };
    await badRequest(`<iq type='get'><ping xmlns='${NS.ping}'/></iq>`);
    await badRequest(`<iq type='fetch' id='e1'><ping xmlns='${NS.ping}'/></iq>`, "e1");
    await badRequest("<iq type='get' id='e2'/>", "e2");
    await badRequest(`<iq type='get' id='e3'><ping xmlns='${NS.ping}'/><ping xmlns='${NS.ping}'/></iq>`, "e3");
    await badRequest(`<iq type='set' id='e4'>only text</iq>`, "e4");
    const pong = await c.iq(xml("iq", { type: "get", to: "localhost" }, xml("ping", { xmlns: NS.ping })));
    assert.equal(pong.attrs.type, "result", "the stream is still up");
  });

  it("ends the stream for input no stanza answer fits (RFC 6120 §4.9.3)", async () => {
    const cases: [string, string][] = [
      ["<message to='bob@localhost' to='carol@localhost'/>", "not-well-formed"],
      ["<message><body>unclosed</message>", "not-well-formed"],
      ["<message><body>&undefined;</body></message>", "restricted-xml"],
      ["<!DOCTYPE x [<!ENTITY a 'b'>]>", "restricted-xml"],
      ["<!-- comment -->", "restricted-xml"],
      ["<?pi data?>", "restricted-xml"],
      [`<message><body>${"x".repeat(300_000)}</body></message>`, "policy-violation"],
      [`${"<x>".repeat(40)}${"</x>".repeat(40)}`, "policy-violation"],
      ["<unknown xmlns='urn:example:nothing'/>", "unsupported-stanza-type"],
      ["<message from='dave@localhost/x'/>", "invalid-from"],
      [`<message from='${"@".repeat(3)}'/>`, "invalid-from"],
      ["<p:message xmlns:p='jabber:client' to='bob@localhost'/>", "unsupported-stanza-type"],
    ];
    for (const [raw, condition] of cases) {
      const c = await login("carol", { resource: "stream-errors" });
      c.send(raw);
      const got = await c.conn.streamError().catch(() => "(no stream error)");
      // A second stanza: the server must not process anything after the error.
      assert.equal(got, condition, raw.slice(0, 80));
      await c.conn.disconnected;
    }
    assert.deepEqual(serverErrors(), []);
  });

  it("answers stream management and CSI elements with junk attributes by the XEP's rules (XEP-0198, XEP-0352)", async () => {
    const SM = "urn:xmpp:sm:3";
    const fuzz = new StanzaFuzzer(seeded(SEED + 2), { addresses: [], jids: ["carol@localhost"], dests: DESTS });
    for (let i = 0; i < 30; i++) {
      const c = await login("carol", { resource: `sm-${i}` });
      if (fuzz.chance(0.5)) {
        c.send(xml("enable", { xmlns: SM, resume: "true" }));
        await c.expect((x) => x.name === "enabled" && x.attrs.xmlns === SM);
      }
      const el = xml(fuzz.pick(["enable", "resume", "r", "a", "inactive", "active", "enabled"]), {
        xmlns: fuzz.pick([SM, "urn:xmpp:csi:0"]),
        h: fuzz.value().slice(0, 100),
        previd: fuzz.value().slice(0, 100),
        resume: fuzz.value().slice(0, 100),
        max: fuzz.value().slice(0, 100),
      });
      c.send(el);
      c.send(xml("iq", { type: "get", id: "alive", to: "localhost" }, xml("ping", { xmlns: NS.ping })));
      const r = await c.conn.next(
        (x) =>
          (x.kind === "element" && (x.el.attrs.id === "alive" || x.el.name === "stream:error")) || x.kind === "close",
        3000,
      );
      if (r.kind === "element" && r.el.name === "stream:error") {
        const condition = r.el.elements()[0]?.name ?? "";
        assert.ok(
          ["bad-format", "undefined-condition", "unsupported-stanza-type"].includes(condition),
          `${el} → ${r.el}`,
        );
      }
      await c.close();
    }
    assert.deepEqual(serverErrors(), []);
  });

  it("answers random iq before authentication once each, and never lets it through (RFC 6120 §5.3.1)", async () => {
    const p = await preAuth(ts);
    const fuzz = new StanzaFuzzer(seeded(SEED + 3), { addresses: [], jids: ["alice@localhost"], dests: DESTS });
    for (let i = 0; i < 100; i++) {
      const payload = fuzz.chance(0.7)
        ? xml(
            "query",
            { xmlns: NS.register },
            xml("username", null, fuzz.value().slice(0, 100)),
            xml("password", null, fuzz.value().slice(0, 100)),
          )
        : xml("preauth", { xmlns: NS.pars, token: fuzz.value().slice(0, 100) });
      for (let k = fuzz.int(3); k > 0; k--) fuzz.mutate(payload);
      const type = fuzz.pick(["get", "set"]);
      const r = await p.iq(xml("iq", { type, to: fuzz.pick([undefined, "localhost"]) }, payload));
      assert.ok(r.attrs.type === "result" || r.attrs.type === "error", `${r}`);
      assert.notEqual(errorCondition(r), "internal-server-error", `${payload}`);
    }
    p.conn.send(xml("iq", { type: "get", id: "x" }, xml("query", { xmlns: NS.roster })));
    assert.equal(await p.conn.streamError(), "not-authorized");
    assert.deepEqual(serverErrors(), []);
  });

  it("refuses a stream header that is not one, and garbage instead of XML", async () => {
    for (const raw of [
      "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
      "\u0000\u0001\u0002",
      "<stream:stream xmlns='jabber:client' xmlns:stream='urn:wrong' to='localhost' version='1.0'>",
      "<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>",
      "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='nowhere.example' version='1.0'>",
      "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='0.9'>",
    ]) {
      const conn = await RawConnection.open(ts.c2sPort);
      conn.write(raw);
      await Promise.race([conn.disconnected, new Promise((r) => setTimeout(r, 3000))]);
      assert.ok(conn.closed, `the server closed the connection after ${JSON.stringify(raw.slice(0, 60))}`);
    }
    assert.deepEqual(serverErrors(), []);
  });
});
