import { randomBytes } from "node:crypto";
import { StreamError } from "../core/errors.ts";
import type { ModuleDefinition } from "../core/module.ts";
import type { C2sSession, FilterHandle } from "../core/session.ts";
import { type XmlElement, xml } from "../xml/element.ts";
import { NS } from "../xmpp/ns.ts";
import { nextH, parseH, UnackedQueue } from "./sm/queue.ts";
import { rerouteUnacked, stamped } from "./sm/reroute.ts";

const NS_SM = "urn:xmpp:sm:3";
/** Output filter priority: last before the wire, so what is counted is what really goes out. */
const FILTER_PRIORITY = -1000;
/** Ended sessions remembered so that a late `<resume/>` learns how many of its stanzas arrived (XEP-0198 §5). */
const REMEMBER_ENDED = 1000;

declare module "../core/host.ts" {
  interface HostEvents {
    /** A resumable session lost its connection and hibernates; `unacked` may never have reached the client. */
    "sm.hibernating": { session: C2sSession; unacked: XmlElement[] };
    /** A hibernating (or zombie) session was resumed on a new connection. */
    "sm.resumed": { session: C2sSession };
  }
}

/** Stream management state of one session. */
interface SmState {
  session: C2sSession;
  /** SM-ID when resumable, else null. */
  id: string | null;
  /** Seconds the session may hibernate. */
  timeout: number;
  /** Stanzas handled from the client (the 'h' we report). */
  inbound: number;
  readonly out: UnackedQueue;
  /** An `<r/>` is on its way or scheduled; the next one waits for its answer. */
  requesting: boolean;
  ackTimer: NodeJS.Timeout | null;
  hibernateTimer: NodeJS.Timeout | null;
  filters: (() => void)[];
}

function failed(condition: string, h?: number, text?: string, extra?: XmlElement): XmlElement {
  return xml(
    "failed",
    { xmlns: NS_SM, h: h === undefined ? undefined : String(h) },
    xml(condition, { xmlns: NS.stanzaErrors }),
    text ? xml("text", { xmlns: NS.stanzaErrors, "xml:lang": "en" }, text) : undefined,
    extra,
  );
}

function tooHigh(h: number, sent: number): XmlElement {
  return xml("handled-count-too-high", { xmlns: NS_SM, h: String(h), "send-count": String(sent) });
}

/**
 * XEP-0198 Stream Management: acks both ways, and resumption of a session whose connection was lost. A resumable
 * session hibernates for `c2s.sm_resume_timeout` seconds: it stays bound and present, stanzas for it queue up,
 * and a client that reconnects, authenticates and sends `<resume/>` gets them all (stamped, XEP-0203). If it does
 * not come back in time, the session ends and what the client never acknowledged is rerouted (sm/reroute.ts),
 * so nothing is silently lost.
 */
export const streamManagementModule: ModuleDefinition = {
  name: "stream-management",
  specs: [
    { spec: "XEP-0198", version: "1.6.3" },
    { spec: "XEP-0203", version: "2.0", note: "stamps on stanzas resent or rerouted" },
  ],
  load(ctx) {
    const cfg = ctx.config.c2s;
    const states = new WeakMap<C2sSession, SmState>();
    const resumable = new Map<string, SmState>();
    /** SM-ID → final inbound count and account of sessions that ended, for `<failed h=''/>`. */
    const ended = new Map<string, { h: number; account: string }>();
    const account = (s: C2sSession) => `${s.username}@${s.host}`;

    ctx.streamFeature({ stage: "post-auth", element: () => xml("sm", { xmlns: NS_SM }) });

    // ---- enabling (§3) ----------------------------------------------------------------------------

    ctx.streamElement(NS_SM, "enable", (el, session) => {
      // §3: only once, and only after binding a resource.
      if (!session.stream.bound || states.has(session)) {
        session.stream.sendNonza(failed("unexpected-request"));
        return;
      }
      const wantsResume = el.attrs.resume === "true" || el.attrs.resume === "1";
      const clientMax = parseH(el.attrs.max);
      let timeout = cfg.sm_resume_timeout;
      if (clientMax !== null && clientMax > 0) timeout = Math.min(timeout, clientMax);
      const sm: SmState = {
        session,
        id: wantsResume && timeout > 0 ? randomBytes(18).toString("base64url") : null,
        timeout,
        inbound: 0,
        out: new UnackedQueue(),
        requesting: false,
        ackTimer: null,
        hibernateTimer: null,
        filters: [],
      };
      states.set(session, sm);
      if (sm.id) resumable.set(sm.id, sm);
      session.stream.sendNonza(
        xml("enabled", {
          xmlns: NS_SM,
          id: sm.id ?? undefined,
          resume: sm.id ? "true" : undefined,
          max: sm.id ? String(timeout) : undefined,
        }),
      );
      sm.filters.push(
        session.stream.addInputFilter((stanza) => {
          sm.inbound = nextH(sm.inbound);
          return stanza;
        }),
      );
      const out: FilterHandle = session.stream.addOutputFilter((stanza) => {
        sm.out.push(stanza);
        if (sm.out.length > cfg.sm_max_unacked) {
          // Ending the session reroutes everything queued (this stanza too); do it outside the send call.
          queueMicrotask(() => session.close(new StreamError("policy-violation", "Too many unacknowledged stanzas")));
          return null;
        }
        requestAck(sm);
        return stanza;
      }, FILTER_PRIORITY);
      sm.filters.push(out.remove);
      if (sm.id) session.stream.setHibernation(() => hibernate(sm));
      ctx.log.debug({ jid: session.jid.toString(), resumable: sm.id !== null }, "stream management enabled");
    });

    // ---- acks (§4) --------------------------------------------------------------------------------

    ctx.streamElement(NS_SM, "r", (_el, session) => {
      const sm = states.get(session);
      if (sm) session.stream.sendNonza(xml("a", { xmlns: NS_SM, h: String(sm.inbound) }));
    });

    ctx.streamElement(NS_SM, "a", (el, session) => {
      const sm = states.get(session);
      if (!sm) return;
      const h = parseH(el.attrs.h);
      if (h === null) throw new StreamError("bad-format", "The 'h' of <a/> must be an unsigned 32-bit integer");
      // §4: acknowledging stanzas never sent is a protocol error that ends the stream.
      if (!sm.out.ack(h)) {
        throw new StreamError(
          "undefined-condition",
          "You acknowledged more stanzas than were sent",
          tooHigh(h, sm.out.sent),
        );
      }
      if (sm.ackTimer) clearTimeout(sm.ackTimer);
      sm.ackTimer = null;
      sm.requesting = false;
      if (sm.out.length > 0) requestAck(sm);
    });

    /**
     * Asks the client for an ack once per batch of stanzas, with at most one request in flight. A request left
     * unanswered for `c2s.ping_timeout` seconds means the connection is dead: the session hibernates early.
     */
    const requestAck = (sm: SmState) => {
      if (sm.requesting || sm.session.stream.hibernating) return;
      sm.requesting = true;
      setImmediate(() => {
        if (sm.session.closed || sm.session.stream.hibernating || sm.out.length === 0) {
          sm.requesting = false;
          return;
        }
        sm.session.stream.sendNonza(xml("r", { xmlns: NS_SM }));
        sm.ackTimer = setTimeout(
          () => sm.session.close(new StreamError("connection-timeout", "No acknowledgement")),
          cfg.ping_timeout * 1000,
        );
        sm.ackTimer.unref();
      });
    };

    // ---- hibernation and resumption (§5) ----------------------------------------------------------

    const hibernate = (sm: SmState): boolean => {
      if (sm.ackTimer) clearTimeout(sm.ackTimer);
      sm.ackTimer = null;
      sm.requesting = false;
      sm.hibernateTimer = setTimeout(() => {
        ctx.log.debug({ jid: sm.session.jid.toString() }, "resumption timeout: ending the session");
        sm.session.close();
      }, sm.timeout * 1000);
      sm.hibernateTimer.unref();
      const unacked = sm.out.entries().map((u) => u.stanza);
      ctx.host.events
        .fire("sm.hibernating", { session: sm.session, unacked })
        .catch((err) => ctx.log.error({ err }, "sm.hibernating handler failed"));
      return true;
    };

    ctx.streamElement(NS_SM, "resume", (el, session) => {
      // §5: resumption replaces binding; a session that bound or enabled already cannot resume another.
      if (session.stream.bound || states.has(session)) {
        session.stream.sendNonza(failed("unexpected-request"));
        return;
      }
      const previd = el.attrs.previd ?? "";
      const sm = resumable.get(previd);
      if (!sm || sm.session.closed || account(sm.session) !== account(session)) {
        const gone = ended.get(previd);
        const h = gone && gone.account === account(session) ? gone.h : undefined;
        session.stream.sendNonza(failed("item-not-found", h, "No session to resume"));
        return;
      }
      let h: number | null = null;
      if (el.attrs.h !== undefined) {
        h = parseH(el.attrs.h);
        if (h === null || sm.out.released(h) === null) {
          session.stream.sendNonza(
            failed(
              "undefined-condition",
              sm.inbound,
              "You acknowledged more stanzas than were sent",
              h === null ? undefined : tooHigh(h, sm.out.sent),
            ),
          );
          sm.session.close();
          return;
        }
        sm.out.ack(h);
      }
      if (sm.hibernateTimer) clearTimeout(sm.hibernateTimer);
      sm.hibernateTimer = null;
      if (sm.ackTimer) clearTimeout(sm.ackTimer);
      sm.ackTimer = null;
      sm.requesting = false;

      const resumed = sm.session;
      resumed.stream.takeOver(session);
      resumed.stream.sendNonza(xml("resumed", { xmlns: NS_SM, previd, h: String(sm.inbound) }));
      // §5: resend what the client did not acknowledge, as it was, but stamped (XEP-0203).
      for (const item of sm.out.entries()) {
        if (!item.stamped) {
          item.stanza = stamped(item.stanza, ctx.host.name, item.queuedAt);
          item.stamped = true;
        }
        resumed.stream.sendNonza(item.stanza);
      }
      if (sm.out.length > 0) requestAck(sm);
      ctx.log.debug({ jid: resumed.jid.toString(), resent: sm.out.length }, "session resumed");
      ctx.host.events
        .fire("sm.resumed", { session: resumed })
        .catch((err) => ctx.log.error({ err }, "sm.resumed handler failed"));
    });

    // ---- the end of a session ---------------------------------------------------------------------

    ctx.on("c2s.session.closed", async ({ session }) => {
      const sm = states.get(session);
      if (!sm) return;
      states.delete(session);
      for (const t of [sm.ackTimer, sm.hibernateTimer]) if (t) clearTimeout(t);
      for (const remove of sm.filters) remove();
      session.stream.setHibernation(null);
      if (sm.id) {
        resumable.delete(sm.id);
        ended.set(sm.id, { h: sm.inbound, account: account(session) });
        if (ended.size > REMEMBER_ENDED) ended.delete(ended.keys().next().value as string);
      }
      await rerouteUnacked(ctx, session, sm.out.takeAll());
    });

    ctx.onStop(() => {
      for (const sm of resumable.values()) {
        for (const t of [sm.ackTimer, sm.hibernateTimer]) if (t) clearTimeout(t);
      }
    });
  },
};
