import type { ModuleDefinition } from "../core/module.ts";
import type { C2sSession, FilterHandle } from "../core/session.ts";
import { type XmlElement, xml } from "../xml/element.ts";
import { NS } from "../xmpp/ns.ts";

const NS_CSI = "urn:xmpp:csi:0";
const NS_CARBONS = "urn:xmpp:carbons:2";
const NS_FORWARD = "urn:xmpp:forward:0";
const NS_MUC_USER = "http://jabber.org/protocol/muc#user";
/** Namespaces of elements that do not make a body-less message worth waking a phone for. */
const TRIVIAL = new Set([
  "http://jabber.org/protocol/chatstates",
  "urn:xmpp:hints",
  "urn:xmpp:sid:0", // stanza-id / origin-id stamps (XEP-0359)
  NS.delay,
]);
/** Output filter priority: above stream management, which must count only what really goes out. */
const FILTER_PRIORITY = 100;

/** The message a carbon wraps (XEP-0280), or the message itself. */
function payloadMessage(message: XmlElement): XmlElement {
  for (const kind of ["received", "sent"]) {
    const inner = message.getChild(kind, NS_CARBONS)?.getChild("forwarded", NS_FORWARD)?.getChild("message");
    if (inner) return inner;
  }
  return message;
}

/**
 * What may wait while the client is inactive, keyed so that a newer stanza replaces an older one with the same
 * key, or null for what must go now (XEP-0352 §5 leaves the choice to the server):
 * - available/unavailable presence waits, only the latest per sender is kept; subscription requests and answers,
 *   errors and a MUC's presence about the user itself (status 110, which completes a join) go now;
 * - a message that carries only chat states (and hints, ids, thread) waits, the latest per conversation; every
 *   other message (a body, receipts, encrypted payloads, ...) and every iq goes now.
 */
export function holdKey(stanza: XmlElement): string | null {
  if (stanza.name === "presence") {
    const type = stanza.attrs.type;
    if (type !== undefined && type !== "unavailable") return null;
    const self = stanza
      .getChild("x", NS_MUC_USER)
      ?.getChildren("status")
      .some((s) => s.attrs.code === "110");
    return self ? null : `p ${stanza.attrs.from ?? ""}`;
  }
  if (stanza.name === "message") {
    const m = payloadMessage(stanza);
    if (m.attrs.type === "error" || m.attrs.type === "groupchat") return null;
    const trivial = m.elements().every((el) => el.name === "thread" || TRIVIAL.has(el.attrs.xmlns ?? ""));
    if (!trivial || m.elements().length === 0) return null;
    return `m ${m.attrs.from ?? ""} ${m.attrs.to ?? ""}`;
  }
  return null;
}

/** Held stanzas of one inactive session, in the order of their latest update. */
class Held {
  private readonly items = new Map<string, XmlElement>();
  inactive = false;

  constructor(
    private readonly max: number,
    private handle: FilterHandle | null = null,
  ) {}

  attach(handle: FilterHandle): void {
    this.handle = handle;
  }

  get installed(): boolean {
    return this.handle !== null;
  }

  /** The output filter: holds what can wait while inactive; sends what is held before anything that cannot. */
  filter = (stanza: XmlElement): XmlElement | null => {
    if (!this.inactive) return stanza;
    const key = holdKey(stanza);
    if (key === null) {
      this.flush(); // keep the order the client would have seen
      return stanza;
    }
    this.items.delete(key);
    this.items.set(key, stanza);
    if (this.items.size > this.max) this.flush();
    return null;
  };

  flush(): void {
    if (this.items.size === 0 || !this.handle) return;
    const pending = [...this.items.values()];
    this.items.clear();
    for (const s of pending) this.handle.passOn(s);
  }

  remove(): void {
    this.items.clear();
    this.handle?.remove();
    this.handle = null;
  }
}

/**
 * XEP-0352 Client State Indication: a client that says `<inactive/>` (a phone in a pocket) is not woken for
 * presence changes and typing notifications; they wait, coalesced, and are sent in order on `<active/>` or before
 * the next stanza that matters. At most `c2s.csi_max_buffer` stanzas wait per session.
 */
export const csiModule: ModuleDefinition = {
  name: "csi",
  specs: [{ spec: "XEP-0352", version: "1.0.0" }],
  load(ctx) {
    const sessions = new WeakMap<C2sSession, Held>();
    ctx.streamFeature({ stage: "post-auth", element: () => xml("csi", { xmlns: NS_CSI }) });

    const held = (session: C2sSession): Held => {
      let h = sessions.get(session);
      if (!h) {
        h = new Held(ctx.config.c2s.csi_max_buffer);
        sessions.set(session, h);
      }
      if (!h.installed) h.attach(session.stream.addOutputFilter(h.filter, FILTER_PRIORITY));
      return h;
    };

    ctx.streamElement(NS_CSI, "inactive", (_el, session) => {
      held(session).inactive = true;
    });
    ctx.streamElement(NS_CSI, "active", (_el, session) => {
      const h = sessions.get(session);
      if (!h) return;
      h.inactive = false;
      h.flush();
    });
    ctx.on("c2s.session.closed", ({ session }) => {
      // What waited is presence and chat states: stale once the session is gone.
      sessions.get(session)?.remove();
      sessions.delete(session);
    });
  },
};
