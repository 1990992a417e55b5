import { type SaslChoice, type TlsMode, XmppClient } from "./client/connection.ts";
import { childText, escapeXml, localName, type StartTag } from "./client/stanza-splitter.ts";
import { nowUs, sleep } from "./lib/clock.ts";
import { Histogram, type HistogramData } from "./lib/histogram.ts";

/** What one load-generating agent (one process) is responsible for. */
export interface AgentInit {
  workerId: number;
  host: string;
  port: number;
  domain: string;
  mucDomain: string | undefined;
  tls: TlsMode;
  sasl: SaslChoice;
  prefix: string;
  password: string;
  totalUsers: number;
  /** This agent's accounts: firstUser..lastUser (inclusive, 1-based). */
  firstUser: number;
  lastUser: number;
  timeoutMs: number;
}

/** Error kind → count (`timeout:auth`, `message-error`, `connection-lost:closed`, ...). */
export type ErrorCounts = Record<string, number>;

/** Outcome of a batch of logins. */
export interface LoginReport {
  ok: number;
  failed: number;
  errors: ErrorCounts;
  /** Login latency (connect → online), µs. */
  latency: HistogramData;
  mechanisms: Record<string, number>;
  elapsedMs: number;
  /** CPU time this process used meanwhile, ms. */
  clientCpuMs: number;
}

/** Traffic counters of the current phase. */
export interface TrafficReport {
  phase: string;
  sent: number;
  /** Deliveries expected for what was sent (sent × occupants for MUC). */
  expected: number;
  received: number;
  duplicates: number;
  /** Bench messages of another phase (should be 0: phases are drained). */
  stale: number;
  /** Fixed-rate mode: sends skipped because this process could not keep up. */
  behind: number;
  /** Presence stanzas received from other users (presence scenario). */
  presenceIn: number;
  /** Login/logout cycles done (presence churn). */
  cycles: number;
  errors: ErrorCounts;
  /** Delivery latency (stamped by the sender, read by the receiver), µs. */
  latency: HistogramData;
  /** CPU time this process used since the phase started, ms. */
  clientCpuMs: number;
}

/** Options of a traffic phase. */
export interface PhaseOptions {
  phase: string;
  kind: "chat" | "muc";
  mode: "max" | "rate";
  /** Messages per second this agent sends (rate mode). */
  rate: number;
  /** Messages this agent keeps in flight (max mode): each delivery triggers the next send. */
  tokens: number;
}

const TWO32 = 2 ** 32;
const TICK_MS = 5;

function inc(counts: ErrorCounts, kind: string, n = 1): void {
  counts[kind] = (counts[kind] ?? 0) + n;
}

/** Runs `fn` over `items` with at most `concurrency` in flight; when `ratePerSec` > 0 starts are also paced. */
async function runPool<T>(items: T[], concurrency: number, ratePerSec: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  const t0 = Date.now();
  const workers = Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
    while (next < items.length) {
      const k = next++;
      if (ratePerSec > 0) {
        const due = t0 + (k * 1000) / ratePerSec;
        if (due > Date.now()) await sleep(due - Date.now());
      }
      await fn(items[k]!);
    }
  });
  await Promise.all(workers);
}

/**
 * The load generator of one process: owns the connections of a range of accounts and runs the traffic of each
 * scenario phase. All methods take and return plain JSON values, so the coordinator can drive it in-process or in a
 * forked worker alike.
 */
export class Agent {
  private readonly clients = new Map<number, XmppClient>();
  private online: XmppClient[] = [];
  private onlineDirty = false;
  private readonly bareJids: string[] = [];

  // Phase state.
  private phase = "";
  private kind: "chat" | "muc" | "presence" | "" = "";
  private mode: "max" | "rate" = "rate";
  private generating = false;
  private seq = 0;
  private sent = 0;
  private expected = 0;
  private received = 0;
  private duplicates = 0;
  private stale = 0;
  private behind = 0;
  private presenceIn = 0;
  private cycles = 0;
  private errors: ErrorCounts = {};
  private readonly latency = new Histogram();
  private seen = new Set<number>();
  private lastSeqFrom = new Map<number, number>();
  private cpuAtStart = process.cpuUsage();
  private ticker: NodeJS.Timeout | undefined;

  // Roster provisioning state: `subscribed` presences received per local user.
  private provisioning = false;
  private subscribedIn = 0;

  // MUC state.
  private roomSize = 0;
  private readonly waiters = new Map<string, { resolve: (xml: string) => void; reject: (e: Error) => void }>();

  constructor(readonly init: AgentInit) {
    for (let i = 0; i <= init.totalUsers; i++) this.bareJids.push(`${init.prefix}${i}@${init.domain}`);
  }

  /** Local account indexes. */
  private localUsers(): number[] {
    const out: number[] = [];
    for (let i = this.init.firstUser; i <= this.init.lastUser; i++) out.push(i);
    return out;
  }

  private onlineClients(): XmppClient[] {
    if (this.onlineDirty) {
      this.online = [...this.clients.values()].filter((c) => c.online);
      this.onlineDirty = false;
    }
    return this.online;
  }

  private newClient(user: number, rosterGet: boolean, presence: boolean, status?: () => string): XmppClient {
    return new XmppClient({
      host: this.init.host,
      port: this.init.port,
      domain: this.init.domain,
      username: `${this.init.prefix}${user}`,
      password: this.init.password,
      resource: `bench${this.init.workerId}`,
      tls: this.init.tls,
      sasl: this.init.sasl,
      rosterGet,
      presence,
      presenceStatus: status,
      timeoutMs: this.init.timeoutMs,
      onStanza: this.onStanza,
      onLost: this.onLost,
    });
  }

  private readonly onLost = (client: XmppClient, reason: string): void => {
    inc(this.errors, `connection-lost:${reason}`);
    if (this.clients.get(client.user) === client) {
      this.clients.delete(client.user);
      this.onlineDirty = true;
    }
  };

  /** Logs in local accounts (all, or `users`) and keeps them online. */
  async connect(args: {
    concurrency: number;
    ratePerSec?: number;
    rosterGet: boolean;
    presence: boolean;
    users?: number[];
  }): Promise<LoginReport> {
    const report = newLoginReport();
    const hist = new Histogram();
    const t0 = Date.now();
    const users = (args.users ?? this.localUsers()).filter((u) => !this.clients.has(u));
    await runPool(users, args.concurrency, args.ratePerSec ?? 0, async (user) => {
      const c = this.newClient(user, args.rosterGet, args.presence, this.statusStamp);
      c.user = user;
      try {
        await c.login();
        this.clients.set(user, c);
        this.onlineDirty = true;
        report.ok++;
        hist.record(c.timings.online);
        inc(report.mechanisms, c.mechanism);
      } catch (err) {
        report.failed++;
        inc(report.errors, (err as Error).message);
      }
    });
    report.elapsedMs = Date.now() - t0;
    report.latency = hist.toJSON();
    return report;
  }

  /** Closes every connection of this agent politely. */
  async disconnect(): Promise<number> {
    const all = [...this.clients.values()];
    this.clients.clear();
    this.onlineDirty = true;
    await runPool(all, 200, 0, (c) => c.close());
    return all.length;
  }

  /**
   * Login scenario: `concurrency` slots each loop login → close over the local accounts until `durationMs` passed.
   * Latency is connect → initial presence reflected.
   */
  async loginLoop(args: { concurrency: number; durationMs: number; presence: boolean }): Promise<LoginReport> {
    const report = newLoginReport();
    const hist = new Histogram();
    const free = this.localUsers();
    const cpu0 = process.cpuUsage();
    const t0 = Date.now();
    const end = t0 + args.durationMs;
    const slots = Array.from({ length: Math.min(args.concurrency, free.length) }, async () => {
      while (Date.now() < end) {
        const user = free.shift()!;
        const c = this.newClient(user, false, args.presence);
        c.user = user;
        try {
          await c.login();
          report.ok++;
          hist.record(c.timings.online);
          inc(report.mechanisms, c.mechanism);
          await c.close();
        } catch (err) {
          report.failed++;
          inc(report.errors, (err as Error).message);
          await sleep(50); // do not spin on a refusing server
        }
        free.push(user);
      }
    });
    await Promise.all(slots);
    report.elapsedMs = Date.now() - t0;
    report.latency = hist.toJSON();
    const cpu = process.cpuUsage(cpu0);
    report.clientCpuMs = (cpu.user + cpu.system) / 1000;
    return report;
  }

  /** Resets counters and starts a traffic phase (chat or MUC messages). */
  startPhase(opts: PhaseOptions): void {
    this.resetCounters(opts.phase, opts.kind);
    this.mode = opts.mode;
    this.generating = true;
    const send = opts.kind === "chat" ? this.sendChat : this.sendMuc;
    if (opts.mode === "max") {
      const senders = this.onlineClients();
      for (let t = 0; t < opts.tokens && senders.length > 0; t++) send(senders[t % senders.length]!);
      return;
    }
    const started = nowUs();
    // After a stall, catch up (open loop: the server must not get a pause because the client had one), but by at
    // most 1 s of traffic; anything older is skipped and reported.
    const burst = Math.max(1, Math.ceil(opts.rate));
    this.ticker = setInterval(() => {
      if (!this.generating) return;
      const senders = this.onlineClients();
      if (senders.length === 0) return;
      const due = Math.floor((opts.rate * (nowUs() - started)) / 1e6) - this.sent - this.behind;
      const n = Math.min(due, burst);
      if (due > burst) this.behind += due - burst;
      for (let k = 0; k < n; k++) send(senders[Math.floor(Math.random() * senders.length)]!);
    }, TICK_MS);
  }

  /** Stops generating traffic; deliveries still in flight keep being counted. */
  stopPhase(): TrafficReport {
    this.generating = false;
    clearInterval(this.ticker);
    this.ticker = undefined;
    return this.stats();
  }

  /** Counters of the current phase. */
  stats(): TrafficReport {
    const cpu = process.cpuUsage(this.cpuAtStart);
    return {
      phase: this.phase,
      sent: this.sent,
      expected: this.expected,
      received: this.received,
      duplicates: this.duplicates,
      stale: this.stale,
      behind: this.behind,
      presenceIn: this.presenceIn,
      cycles: this.cycles,
      errors: { ...this.errors },
      latency: this.latency.toJSON(),
      clientCpuMs: (cpu.user + cpu.system) / 1000,
    };
  }

  /** Starts counting a phase without generating messages (idle, presence). */
  beginPhase(args: { phase: string; kind: "presence" | "" }): void {
    this.resetCounters(args.phase, args.kind);
  }

  private resetCounters(phase: string, kind: Agent["kind"]): void {
    this.phase = phase;
    this.kind = kind;
    this.sent = 0;
    this.expected = 0;
    this.received = 0;
    this.duplicates = 0;
    this.stale = 0;
    this.behind = 0;
    this.presenceIn = 0;
    this.cycles = 0;
    this.errors = {};
    this.latency.reset();
    this.seen = new Set();
    this.lastSeqFrom = new Map();
    this.cpuAtStart = process.cpuUsage();
  }

  private randomOther(user: number): number {
    const n = this.init.totalUsers;
    let to = 1 + Math.floor(Math.random() * (n - 1));
    if (to >= user) to++;
    return to;
  }

  private readonly sendChat = (from: XmppClient): void => {
    const seq = ++this.seq;
    const to = this.randomOther(from.user);
    // Body: tag, phase, worker, sequence, send time (µs, CLOCK_MONOTONIC), sender.
    from.send(
      `<message to='${this.bareJids[to]}' type='chat' id='m${seq}'><body>hb ${this.phase} ${this.init.workerId} ` +
        `${seq} ${nowUs()} ${from.user}</body></message>`,
    );
    this.sent++;
    this.expected++;
  };

  private readonly sendMuc = (from: XmppClient): void => {
    const seq = ++this.seq;
    const room = this.roomOf(from.user);
    from.send(
      `<message to='${this.roomJid(room)}' type='groupchat' id='g${seq}'><body>hb ${this.phase} ` +
        `${this.init.workerId} ${seq} ${nowUs()} ${from.user}</body></message>`,
    );
    this.sent++;
    this.expected += this.occupants(room);
  };

  private readonly statusStamp = (): string => `hp ${nowUs()}`;

  private readonly onStanza = (xml: string, tag: StartTag, client: XmppClient): void => {
    const name = localName(tag.name);
    if (name === "message") {
      this.onMessage(xml, tag, client);
      return;
    }
    if (name === "presence") {
      this.onPresence(xml, tag, client);
      return;
    }
    if (name === "iq") {
      const id = tag.attrs.id;
      const w = id === undefined ? undefined : this.waiters.get(id);
      if (w !== undefined) {
        this.waiters.delete(id!);
        if (tag.attrs.type === "result") w.resolve(xml);
        else w.reject(new Error(`iq-error:${id}`));
      }
    }
  };

  private onMessage(xml: string, tag: StartTag, client: XmppClient): void {
    if (tag.attrs.type === "error") {
      inc(this.errors, "message-error");
      return;
    }
    const body = childText(xml, "body");
    if (body === undefined || !body.startsWith("hb ")) return;
    const parts = body.split(" ");
    if (parts[1] !== this.phase) {
      this.stale++;
      return;
    }
    const worker = Number(parts[2]);
    const seq = Number(parts[3]);
    const sender = Number(parts[5]);
    if (this.kind === "muc") {
      // RFC 6120 §10.1: stanzas from one sender arrive in order, so per (receiver, sender) the sequence must grow.
      const key = client.user * 1_048_576 + sender;
      const last = this.lastSeqFrom.get(key) ?? -1;
      if (seq <= last) {
        this.duplicates++;
        return;
      }
      this.lastSeqFrom.set(key, seq);
    } else {
      const key = worker * TWO32 + seq;
      if (this.seen.has(key)) {
        this.duplicates++;
        return;
      }
      this.seen.add(key);
    }
    this.received++;
    this.latency.record(nowUs() - Number(parts[4]));
    if (!this.generating || this.mode !== "max") return;
    if (this.kind === "chat") this.sendChat(client);
    else if (this.kind === "muc" && sender === client.user) this.sendMuc(client); // our own reflection: next one
  }

  private onPresence(xml: string, tag: StartTag, client: XmppClient): void {
    const from = tag.attrs.from ?? "";
    if (this.provisioning) {
      const type = tag.attrs.type;
      // RFC 6121 §3.1.3-4: approve every request; each approval we get back is one half of a "both" pair.
      if (type === "subscribe") client.send(`<presence type='subscribed' to='${escapeXml(from)}'/>`);
      else if (type === "subscribed") this.subscribedIn++;
      if (type === "subscribe" || type === "subscribed") return;
    }
    const w = this.waiters.get(from);
    if (w !== undefined && from.includes("/")) {
      if (tag.attrs.type === "error") {
        this.waiters.delete(from);
        w.reject(
          new Error(`muc-join-error:${/<([a-z-]+) xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/.exec(xml)?.[1]}`),
        );
        return;
      }
      // XEP-0045 §7.2.3: the occupant's own presence carries status code 110.
      if (/code=['"]110['"]/.test(xml)) {
        this.waiters.delete(from);
        w.resolve(xml);
        return;
      }
    }
    if (this.kind !== "presence" || from.startsWith(client.bare)) return;
    this.presenceIn++;
    const status = childText(xml, "status");
    if (status?.startsWith("hp ")) {
      const ts = Number(status.slice(3));
      // Replies to our probes (RFC 6121 §4.3.2) carry the contact's earlier status: only presence the contact sent
      // after our initial presence is a broadcast whose latency means something.
      if (client.presenceSentUs > 0 && ts > client.presenceSentUs) this.latency.record(nowUs() - ts);
    }
  }

  /**
   * Presence scenario: `concurrency` slots each take a random online local user, send unavailable presence, close,
   * log in again with roster get and initial presence (RFC 6121 §4.2), for `durationMs`.
   */
  async presenceChurn(args: { concurrency: number; durationMs: number }): Promise<void> {
    const end = Date.now() + args.durationMs;
    const busy = new Set<number>();
    const slots = Array.from({ length: args.concurrency }, async () => {
      while (Date.now() < end) {
        const candidates = this.onlineClients().filter((c) => !busy.has(c.user));
        if (candidates.length === 0) {
          await sleep(20);
          continue;
        }
        const old = candidates[Math.floor(Math.random() * candidates.length)]!;
        busy.add(old.user);
        this.clients.delete(old.user);
        this.onlineDirty = true;
        old.send(`<presence type='unavailable'><status>${this.statusStamp()}</status></presence>`);
        await old.close();
        const c = this.newClient(old.user, true, true, this.statusStamp);
        c.user = old.user;
        try {
          await c.login();
          this.clients.set(c.user, c);
          this.onlineDirty = true;
          this.cycles++;
        } catch (err) {
          inc(this.errors, (err as Error).message);
        }
        busy.delete(c.user);
      }
    });
    await Promise.all(slots);
  }

  /**
   * Builds the ring rosters through the protocol, for servers without a bulk import: every online local user sends a
   * subscription request to each of its `contacts` (the ring is symmetric, so both directions get asked) and approves
   * every request it receives. Resolves when every local user got all its approvals, or when no approval arrived
   * for `stallMs` (servers that rewrite a whole roster per change get slow as rosters grow, but keep progressing).
   */
  async provisionRosters(args: { contacts: number[][]; stallMs: number }): Promise<{ got: number; want: number }> {
    this.provisioning = true;
    this.subscribedIn = 0;
    let want = 0;
    for (const c of this.onlineClients()) {
      const contacts = args.contacts[c.user - this.init.firstUser] ?? [];
      want += contacts.length;
      for (const k of contacts) c.send(`<presence type='subscribe' to='${this.bareJids[k]}'/>`);
    }
    let last = -1;
    let lastChange = Date.now();
    while (this.subscribedIn < want && Date.now() - lastChange < args.stallMs) {
      await sleep(100);
      if (this.subscribedIn !== last) {
        last = this.subscribedIn;
        lastChange = Date.now();
      }
    }
    await sleep(500); // the last approvals we sent are still on their way
    this.provisioning = false;
    return { got: this.subscribedIn, want };
  }

  // ---- MUC (XEP-0045) ----

  private roomOf(user: number): number {
    return Math.floor((user - 1) / this.roomSize);
  }

  private roomJid(room: number): string {
    return `bench-s${this.roomSize}-r${room}@${this.init.mucDomain}`;
  }

  private occupants(room: number): number {
    return Math.min(this.roomSize, this.init.totalUsers - room * this.roomSize);
  }

  private wait(key: string, timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters.delete(key);
        reject(new Error(`timeout:${key.includes("/") ? "muc-join" : "iq"}`));
      }, timeoutMs);
      this.waiters.set(key, {
        resolve: (x) => {
          clearTimeout(t);
          resolve(x);
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      });
    });
  }

  /**
   * Joins the local online users to their rooms of `roomSize` (user i → room ⌊(i-1)/roomSize⌋). With `owners`, only
   * each room's first user joins, creating the room and accepting the default configuration (XEP-0045 §10.1.2,
   * instant room); the coordinator runs owners first so nobody else hits a locked room.
   */
  async mucJoin(args: { roomSize: number; owners: boolean; concurrency: number }): Promise<LoginReport> {
    if (this.init.mucDomain === undefined) throw new Error("server has no MUC service");
    this.roomSize = args.roomSize;
    const report = newLoginReport();
    const hist = new Histogram();
    const t0 = Date.now();
    const isOwner = (u: number) => (u - 1) % args.roomSize === 0;
    const joiners = this.onlineClients().filter((c) => isOwner(c.user) === args.owners);
    await runPool(joiners, args.concurrency, 0, async (c) => {
      const room = this.roomJid(this.roomOf(c.user));
      const occupant = `${room}/${this.init.prefix}${c.user}`;
      const start = nowUs();
      try {
        const joined = this.wait(occupant, this.init.timeoutMs);
        c.send(
          `<presence to='${escapeXml(occupant)}'><x xmlns='http://jabber.org/protocol/muc'>` +
            `<history maxstanzas='0'/></x></presence>`,
        );
        const self = await joined;
        if (/code=['"]201['"]/.test(self)) {
          const id = `cfg${c.user}`;
          const configured = this.wait(id, this.init.timeoutMs);
          c.send(
            `<iq type='set' id='${id}' to='${room}'><query xmlns='http://jabber.org/protocol/muc#owner'>` +
              `<x xmlns='jabber:x:data' type='submit'/></query></iq>`,
          );
          await configured;
        }
        report.ok++;
        hist.record(nowUs() - start);
      } catch (err) {
        report.failed++;
        inc(report.errors, (err as Error).message);
      }
    });
    report.elapsedMs = Date.now() - t0;
    report.latency = hist.toJSON();
    return report;
  }

  /** Leaves the rooms (unavailable presence to the occupant JID); does not wait for the echoes. */
  mucLeave(): void {
    for (const c of this.onlineClients()) {
      c.send(`<presence type='unavailable' to='${this.roomJid(this.roomOf(c.user))}/${this.init.prefix}${c.user}'/>`);
    }
  }

  /** Number of online connections. */
  onlineCount(): number {
    return this.onlineClients().length;
  }
}

function newLoginReport(): LoginReport {
  return {
    ok: 0,
    failed: 0,
    errors: {},
    latency: new Histogram().toJSON(),
    mechanisms: {},
    elapsedMs: 0,
    clientCpuMs: 0,
  };
}

/** The agent methods the coordinator calls (by name, with one JSON argument). */
export type AgentMethod =
  | "connect"
  | "disconnect"
  | "loginLoop"
  | "startPhase"
  | "stopPhase"
  | "stats"
  | "beginPhase"
  | "presenceChurn"
  | "mucJoin"
  | "mucLeave"
  | "provisionRosters"
  | "onlineCount";
