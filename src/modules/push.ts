import { randomBytes } from "node:crypto";
import { StanzaError } from "../core/errors.ts";
import type { StanzaEvent } from "../core/host.ts";
import type { ModuleDefinition } from "../core/module.ts";
import { type C2sSession, isC2s } from "../core/session.ts";
import { tryParseJid } from "../jid/jid.ts";
import type { XmlElement } from "../xml/element.ts";
import { parseForm } from "../xmpp/data-forms.ts";
import { NS } from "../xmpp/ns.ts";
import { bareRecipients, type MessageType } from "./message.ts";
import { isPermanentError, NS_PUSH, notificationIq, PUBLISH_OPTIONS } from "./push/notification.ts";
import { PushRegistrations } from "./push/registrations.ts";

const NS_CARBONS = "urn:xmpp:carbons:2";
/** How long to wait for an app server's answer before forgetting the notification (a passing failure). */
const ANSWER_TIMEOUT_MS = 60_000;

function messageType(type: string | undefined): MessageType {
  return type === "chat" || type === "error" || type === "groupchat" || type === "headline" ? type : "normal";
}

/** A message worth waking a phone for: a chat or normal message with a body, not a carbon. */
function pushable(message: XmlElement): boolean {
  const type = messageType(message.attrs.type);
  if (type !== "chat" && type !== "normal") return false;
  if (message.elements().some((el) => el.attrs.xmlns === NS_CARBONS)) return false;
  return message.getChild("body") !== undefined;
}

/** Connected (not hibernating) sessions are the ones a user actually sees messages on. */
const live = (s: C2sSession) => !s.stream.hibernating;

/**
 * XEP-0357 Push Notifications. A device registers an app server (its XMPP Push Service, e.g. an external
 * component) with `<enable/>`; registrations are kept per account and survive restarts. When a message with a
 * body arrives and no connected resource of the account would show it (all offline, or hibernating under
 * XEP-0198), or when a session starts hibernating with messages the device may not have received, every
 * registration gets a pubsub publish with the `urn:xmpp:push:summary` form. What the summary reveals is set by
 * `[push] include_sender` and `include_body`. An app server that answers with a permanent error loses its
 * registration.
 */
export const pushModule: ModuleDefinition = {
  name: "push",
  specs: [{ spec: "XEP-0357", version: "0.4.1" }],
  load(ctx) {
    const host = ctx.host.name;
    const cfg = ctx.config.push;
    const registrations = new PushRegistrations(ctx.storage.kv, host);
    /** Messages notified per account since it last had a connected session (the summary's message-count). */
    const counts = new Map<string, number>();
    const pending = new Map<string, { username: string; jid: string; node: string; timer: NodeJS.Timeout }>();
    ctx.accountFeature(NS_PUSH);

    // ---- enable / disable (§5, §6) ----------------------------------------------------------------

    const manage = async (ev: StanzaEvent): Promise<null> => {
      const session = ev.origin;
      if (!isC2s(session) || ev.from.bareString !== session.jid.bareString)
        throw new StanzaError("cancel", "not-allowed");
      if (ev.to.local !== "" && ev.to.bareString !== ev.from.bareString) throw new StanzaError("cancel", "forbidden");
      const el = ev.stanza.firstElement() as XmlElement;
      const jid = tryParseJid(el.attrs.jid ?? "");
      if (!jid) throw new StanzaError("modify", "bad-request", "A valid 'jid' of the app server is required");
      const username = session.username;
      if (el.name === "enable") {
        const node = el.attrs.node;
        if (!node) throw new StanzaError("modify", "bad-request", "A 'node' is required");
        const form = el.getChild("x", NS.dataForms);
        if (form && parseForm(form).formType !== PUBLISH_OPTIONS) {
          throw new StanzaError("modify", "bad-request", `The form must be ${PUBLISH_OPTIONS}`);
        }
        await registrations.add(username, { jid: jid.toString(), node, options: form ? form.clone() : null });
        ctx.log.debug({ user: username, appServer: jid.toString() }, "push enabled");
        return null;
      }
      if (el.name === "disable") {
        await registrations.remove(username, jid.toString(), el.attrs.node);
        return null;
      }
      throw new StanzaError("modify", "bad-request", "Expected <enable/> or <disable/>");
    };
    ctx.iq("set", NS_PUSH, manage, "bare");
    ctx.iq("set", NS_PUSH, manage, "host");

    // ---- notifications (§7) -----------------------------------------------------------------------

    const notify = async (username: string, last: XmlElement, messages = 1): Promise<void> => {
      const list = await registrations.list(username);
      if (list.length === 0) return;
      const count = (counts.get(username) ?? 0) + messages;
      counts.set(username, count);
      const summary = {
        messageCount: count,
        lastSender: cfg.include_sender ? last.attrs.from : undefined,
        lastBody: cfg.include_body ? last.getChildText("body") : undefined,
      };
      for (const reg of list) {
        const id = `push-${randomBytes(8).toString("hex")}`;
        const timer = setTimeout(() => pending.delete(id), ANSWER_TIMEOUT_MS);
        timer.unref();
        pending.set(id, { username, jid: reg.jid, node: reg.node, timer });
        await ctx.send(notificationIq(`${username}@${host}`, reg, summary, id));
      }
    };
    const notifyLater = (username: string, last: XmlElement, messages?: number) => {
      notify(username, last, messages).catch((err) => ctx.log.error({ err }, "push notification failed"));
    };

    /** Whether a connected session of the account will show the message: directly, or as a carbon (XEP-0280). */
    const seenLive = (ev: StanzaEvent): boolean => {
      const type = messageType(ev.stanza.attrs.type);
      const resources = ctx.sessions.resources(ev.to);
      let direct: C2sSession[];
      if (ev.to.resource !== "") {
        const target = ctx.sessions.get(ev.to);
        if (target) direct = [target];
        else if (type === "chat") direct = bareRecipients(resources, type);
        else return true; // refused (RFC 6121 §8.5.3.2.1): nothing to notify about
      } else {
        direct = bareRecipients(resources, type);
      }
      if (direct.some(live)) return true;
      const carbons = ctx.service("carbons");
      return carbons?.eligible(ev.stanza) === true && resources.some((s) => live(s) && carbons.enabled(s));
    };

    const inbound = (ev: StanzaEvent): undefined => {
      if (pushable(ev.stanza) && !seenLive(ev)) notifyLater(ev.to.local, ev.stanza);
      return undefined;
    };
    // After carbons (100), before delivery (0): observes, never handles.
    ctx.on("message/bare", inbound, 50);
    ctx.on("message/full", inbound, 50);

    // A session that lost its connection may not have received what it was last sent (XEP-0198).
    ctx.on("sm.hibernating", ({ session, unacked }) => {
      const messages = unacked.filter((s) => s.name === "message" && pushable(s));
      const last = messages.at(-1);
      if (!last) return;
      if (ctx.sessions.resources(session.jid.bare).some((s) => s !== session && live(s) && s.presence)) return;
      notifyLater(session.username, last, messages.length);
    });

    const reset = ({ session }: { session: C2sSession }) => {
      counts.delete(session.username);
    };
    ctx.on("c2s.session.bound", reset);
    ctx.on("sm.resumed", reset);

    // ---- the app server's answers -----------------------------------------------------------------

    ctx.on(
      "iq/bare",
      async (ev) => {
        const id = ev.stanza.attrs.id ?? "";
        const p = pending.get(id);
        if (!p || ev.from.toString() !== p.jid) return undefined;
        pending.delete(id);
        clearTimeout(p.timer);
        if (ev.stanza.attrs.type === "error" && isPermanentError(ev.stanza)) {
          await registrations.remove(p.username, p.jid, p.node);
          ctx.log.info({ user: p.username, appServer: p.jid }, "app server refused a notification: push disabled");
        }
        return true;
      },
      900,
    );

    ctx.on("account.deleted", ({ username }) => registrations.removeAll(username));
    ctx.onStop(() => {
      for (const p of pending.values()) clearTimeout(p.timer);
    });
  },
};
